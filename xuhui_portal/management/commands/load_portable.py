from pathlib import Path

from concurrency.api import disable_concurrency
from django.core.management import BaseCommand, CommandError, call_command
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from xuhui_portal.backup import fingerprinted_models, tables_to_empty
from xuhui_portal.management.commands.load_portal_data import history_paused
from xuhui_portal.page_cache import one_invalidation_for_all


class Command(BaseCommand):
    help = """Replace the portal's data with a file written by `manage.py dump_portable`.

    The database must be migrated (`manage.py migrate`); it may be SQLite or PostgreSQL, whichever
    the dump came from. In one transaction: empties the tables the dump carries (records, history,
    users, groups) and the tables that point at users (admin log, OTP devices), loads the file with
    its primary keys, and moves every id sequence past the loaded rows so the next insert works.
    Any error leaves the database as it was.

    No history entries are written and version checks are off while loading: the rows, their
    history and their versions are restored exactly as dumped, not edited.
    """

    def add_arguments(self, parser):
        parser.add_argument("path", help="A JSON file written by dump_portable.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, path, database, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No such file: {source}")
        if source.suffix != ".json":
            raise CommandError(f"Expected a .json file written by dump_portable, got {source.name}")
        connection = connections[database]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise CommandError(
                f"The database has {len(pending)} unapplied migrations: run `manage.py migrate` first."
            )

        own_tables, dependent_tables = tables_to_empty()
        try:
            with transaction.atomic(using=database):
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL statement_timeout = 0")
                        # Deferred foreign-key checks still pending (earlier writes in this transaction)
                        # would make TRUNCATE refuse; run them now.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                quote = connection.ops.quote_name
                discarded = {}
                with connection.cursor() as cursor:
                    for table in dependent_tables:
                        cursor.execute(f"SELECT count(*) FROM {quote(table)}")
                        discarded[table] = cursor.fetchone()[0]
                flush = connection.ops.sql_flush(
                    no_style(), own_tables + dependent_tables, reset_sequences=True, allow_cascade=False
                )
                # One invalidation for the emptied tables (a flush sends no signals) and every
                # record loaded, not one per record.
                with one_invalidation_for_all(database):
                    connection.ops.execute_sql_flush(flush)
                    with history_paused(), disable_concurrency():
                        call_command("loaddata", str(source.resolve()), database=database, verbosity=0)
                # loaddata moves the sequences of the tables it wrote; this covers every carried table
                # (link tables included), as `manage.py sqlsequencereset` would.
                reset = connection.ops.sequence_reset_sql(no_style(), fingerprinted_models())
                if reset:
                    with connection.cursor() as cursor:
                        for statement in reset:
                            cursor.execute(statement)
        except (DatabaseError, IntegrityError, DeserializationError) as error:
            raise CommandError(f"Nothing was changed: {error}") from error

        counts = {
            model._meta.label: model._base_manager.using(database).count() for model in fingerprinted_models()
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {sum(counts.values())} rows into {len(counts)} tables (link tables included) from {source} "
                f"({connection.vendor}, database {connection.settings_dict['NAME']})"
            )
        )
        if dependent_tables:
            emptied = ", ".join(f"{table} ({count} rows)" for table, count in discarded.items())
            self.stdout.write(f"Also emptied, as they point at the replaced users: {emptied}")
        if options["verbosity"] > 1:
            for label, count in counts.items():
                self.stdout.write(f"  {label}: {count}")
