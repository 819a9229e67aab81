from contextlib import contextmanager
from pathlib import Path

from concurrency.api import disable_concurrency
from django.apps import apps
from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, transaction
from django.db.models import F

from xuhui_portal.models import DirectoryRecord, SearchableRecord
from xuhui_portal.page_cache import one_invalidation_for_all


def fixture_labels() -> list[str]:
    """Every fixture in FIXTURE_DIRS, in file-name order (01_sources.json, 02_fields.json, …)."""
    return sorted(path.stem for directory in settings.FIXTURE_DIRS for path in Path(directory).glob("*.json"))


@contextmanager
def history_paused():
    """No history entries while fixtures load: loading is not an edit (one entry follows)."""
    previous = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        settings.SIMPLE_HISTORY_ENABLED = previous


def record_initial_history() -> int:
    """Give every record that has no history yet a first entry, so later edits can be reverted.

    Raw fixture loads bypass the history signals; records that already have history keep it.
    """
    created = 0
    for model in apps.get_models():
        history = getattr(model, "history", None)
        if history is None or not hasattr(history, "bulk_history_create"):
            continue
        recorded = history.model.objects.values(model._meta.pk.attname)
        missing = list(model._default_manager.exclude(pk__in=recorded))
        if missing:
            history.bulk_history_create(missing, default_change_reason="load_portal_data")
            created += len(missing)
    return created


def date_first_publication() -> None:
    """Published records loaded raw have no publication date yet: they were published as created."""
    for model in apps.get_models():
        if issubclass(model, DirectoryRecord):
            model._default_manager.published().filter(published_at__isnull=True).update(
                published_at=F("created_at")
            )


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
            with transaction.atomic(), one_invalidation_for_all():
                # The fixtures are the reference: loading them again restores their values over
                # whatever version the database holds, so the optimistic lock is off here.
                with history_paused(), disable_concurrency():
                    call_command("loaddata", *labels, verbosity=0)
                rebuild_search_columns()
                date_first_publication()
                record_initial_history()
        except (DatabaseError, DeserializationError) as error:
            raise CommandError(f"Nothing was loaded: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {len(labels)} fixture files: {', '.join(labels)}"))
