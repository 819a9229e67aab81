from pathlib import Path

from django.core import serializers
from django.core.management import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from xuhui_portal.backup import ACCOUNT_MODELS, PORTAL_APPS, PortableJSONEncoder, portable_models


class Command(BaseCommand):
    help = f"""Write the portal's data to a portable JSON file that loads into SQLite or PostgreSQL.

    Holds {", ".join(PORTAL_APPS)} (records and their history tables) and {", ".join(ACCOUNT_MODELS)}.
    Primary keys are kept; users, groups, permissions and content types that rows point at are written
    as natural keys. Not included: content types and permissions (every migrate makes them),
    sessions, the admin log, login attempts (axes) and OTP devices (secrets stay out of the file).
    UTF-8, Chinese written as is, datetimes with microseconds. Read in one snapshot; the file appears
    only when complete. Load it with `manage.py load_portable`.
    """

    def add_arguments(self, parser):
        parser.add_argument("path", help="The JSON file to write, e.g. backups/portal-20250101-120000.json.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, path, database, **options):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        models = portable_models()
        counts = {}

        def objects():
            for model in models:
                queryset = model._base_manager.using(database).order_by(model._meta.pk.name)
                m2m = [field.name for field in model._meta.local_many_to_many]
                if m2m:
                    queryset = queryset.prefetch_related(*m2m)
                counts[model._meta.label] = 0
                for record in queryset.iterator(chunk_size=2000):
                    counts[model._meta.label] += 1
                    yield record

        connection = connections[database]
        outermost = not connection.in_atomic_block
        try:
            with transaction.atomic(using=database):
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        if outermost:
                            # One snapshot for every table: edits made during the dump are
                            # either wholly in it or not at all.
                            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        # The site's statement timeout is for web requests, not for a dump.
                        cursor.execute("SET LOCAL statement_timeout = 0")
                with partial.open("w", encoding="utf-8") as stream:
                    serializers.serialize(
                        "json",
                        objects(),
                        indent=1,
                        use_natural_foreign_keys=True,
                        use_natural_primary_keys=False,
                        stream=stream,
                        cls=PortableJSONEncoder,
                        ensure_ascii=False,
                    )
            partial.replace(target)
        except (DatabaseError, OSError) as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Nothing was written: {error}") from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

        total = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {total} records of {len(counts)} models (their links inside them) to {target} "
                f"({target.stat().st_size:,} bytes)"
            )
        )
        if options["verbosity"] > 1:
            for label, count in counts.items():
                self.stdout.write(f"  {label}: {count}")
