from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, transaction

from xuhui_portal.models import SearchableRecord


def fixture_labels() -> list[str]:
    """Every fixture in FIXTURE_DIRS, in file-name order (01_sources.json, 02_fields.json, …)."""
    return sorted(path.stem for directory in settings.FIXTURE_DIRS for path in Path(directory).glob("*.json"))


def rebuild_search_columns() -> dict[str, int]:
    """Recompute every searchable model's search columns (raw loads bypass save())."""
    return {
        model._meta.label: model.rebuild_search()
        for model in apps.get_models()
        if issubclass(model, SearchableRecord)
    }


class Command(BaseCommand):
    help = """Load the portal's starting data from fixtures/ (built from the news reports).

    All files load in one transaction: a bad value anywhere leaves the database as it was.
    Records have fixed primary keys, so loading again updates them instead of adding copies.
    """

    def handle(self, *args, **options):
        labels = fixture_labels()
        try:
            with transaction.atomic():
                call_command("loaddata", *labels, verbosity=0)
                rebuild_search_columns()
        except (DatabaseError, DeserializationError) as error:
            raise CommandError(f"Nothing was loaded: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {len(labels)} fixture files: {', '.join(labels)}"))
