from django.core.management import BaseCommand
from django.db import transaction

from xuhui_portal.page_cache import bump_generation

from .load_portal_data import rebuild_search_columns


class Command(BaseCommand):
    help = """Recompute the search columns of every searchable record.

    Saving a record keeps its columns current; run this after loading data that bypassed
    save() (loaddata of other fixtures, raw SQL, bulk imports) or after changing the tokenizer.
    """

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = rebuild_search_columns()
        bump_generation()  # search results may differ now
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count}")
        self.stdout.write(self.style.SUCCESS("Search columns rebuilt."))
