"""Portable backups: what the JSON dump holds, and fingerprints that prove a restore is identical.

Shared by the `dump_portable` / `load_portable` commands, `scripts/backup_drill.sh` and
`tests/test_backup.py`. See README "Backups".

The portable dump carries the portal's own apps (history tables included) and the accounts
(users, groups). It keeps every primary key, so links between records, history entries and
their users stay exactly as they were; it writes users, groups and permissions as natural keys
where other rows point at them, so it loads into a database whose permissions and content types
were numbered differently by its own `migrate` (SQLite ↔ PostgreSQL).

A *fingerprint* is, per table, the number of rows and an MD5 over the rows read through the ORM
in primary-key order, every value written in one engine-independent way (datetimes in UTC with
microseconds, decimals without trailing zeros, links to permissions and content types as their
natural keys). Equal fingerprints on SQLite and PostgreSQL mean the same rows.

Command line (used by the drill; DATABASE_URL chooses the database):

    python -m xuhui_portal.backup fingerprint          # JSON: {table: {"rows": n, "md5": …}}
    python -m xuhui_portal.backup sql-checksums        # the same over every table, in SQL (PostgreSQL)
    python -m xuhui_portal.backup smoke                # Chinese text intact, next insert works
    python -m xuhui_portal.backup compare REF name=FILE …   # table of results, exit 1 on a difference
    python -m xuhui_portal.backup db-env               # shell assignments for pg_dump/pg_restore
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import shlex
import sys
import uuid
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

#: Apps whose every model (records, their history, the history of their links) is backed up.
PORTAL_APPS = ("districts", "incubators", "transfers")
#: Accounts: history entries and incubator operators point at users; roles are groups.
ACCOUNT_MODELS = ("auth.User", "auth.Group")
#: A Chinese name from the fixtures, read back after every restore (encodings, collations).
CHINESE_PROBE = "复旦大学上海医学院"


class PortableJSONEncoder(DjangoJSONEncoder):
    """Django's encoder cuts datetimes to milliseconds; a backup keeps the microseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


def portable_models() -> list:
    """The models the portable dump carries, accounts first, in an order loaddata can follow."""
    from django.apps import apps
    from django.core import serializers

    models = [apps.get_model(label) for label in ACCOUNT_MODELS]
    for app_label in PORTAL_APPS:
        models.extend(apps.get_app_config(app_label).get_models())
    return serializers.sort_dependencies([(None, models)], allow_cycles=True)


def link_tables(models: Iterable) -> list:
    """The auto-created many-to-many tables of `models` (their rows travel inside their owners)."""
    through = []
    for model in models:
        for field in model._meta.local_many_to_many:
            table = field.remote_field.through
            if table._meta.auto_created and table not in through:
                through.append(table)
    return through


def fingerprinted_models() -> list:
    return [*portable_models(), *link_tables(portable_models())]


def tables_to_empty() -> tuple[list[str], list[str]]:
    """(tables of the dump, other tables that must be emptied with them because they point at them).

    The second list is what a database-level foreign key ties to the dump's rows: the admin log and
    OTP devices point at users, and users are replaced.
    """
    from django.apps import apps

    carried = fingerprinted_models()
    own = sorted({model._meta.db_table for model in carried})
    dependent = set()
    for model in apps.get_models(include_auto_created=True):
        if model in carried or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if (
                field.is_relation
                and getattr(field, "db_constraint", False)
                and field.related_model in carried
            ):
                dependent.add(model._meta.db_table)
    return own, sorted(dependent - set(own))


def normalise(value):
    """One engine-independent JSON value for a database value (SQLite and PostgreSQL agree on it)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.timedelta):
        return f"{value // datetime.timedelta(microseconds=1)}us"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    raise TypeError(f"no normalisation for {type(value).__name__}")


class _NaturalKeys:
    """Ids of rows the dump does not carry (permissions, content types) → their natural keys."""

    def __init__(self, using: str):
        self.using = using
        self.cache: dict = {}

    def __call__(self, model, pk):
        if pk is None:
            return None
        if model not in self.cache:
            self.cache[model] = {
                row.pk: list(row.natural_key()) for row in model._base_manager.using(self.using).all()
            }
        return self.cache[model].get(pk, f"missing:{pk}")


def _rows(model, using: str, natural: _NaturalKeys, carried: set) -> Iterator[str]:
    link_table = bool(model._meta.auto_created)
    fields = [f for f in model._meta.concrete_fields if not (link_table and f.primary_key)]
    translate = [
        f.related_model
        if f.is_relation and f.related_model not in carried and hasattr(f.related_model, "natural_key")
        else None
        for f in fields
    ]
    queryset = model._base_manager.using(using).values_list(*(f.attname for f in fields))
    if not link_table:
        queryset = queryset.order_by("pk")
    lines = (
        json.dumps(
            [
                natural(related, value) if related else normalise(value)
                for related, value in zip(translate, row, strict=True)
            ],
            ensure_ascii=False,
        )
        for row in queryset.iterator(chunk_size=2000)
    )
    # A link table's own id is not data (loaddata numbers link rows afresh): its rows compare as a set.
    return iter(sorted(lines)) if link_table else lines


def model_fingerprint(model, using: str = "default", natural: _NaturalKeys | None = None) -> dict:
    carried = set(fingerprinted_models())
    digest, count = hashlib.md5(usedforsecurity=False), 0
    for line in _rows(model, using, natural or _NaturalKeys(using), carried):
        digest.update(line.encode("utf-8") + b"\n")
        count += 1
    return {"rows": count, "md5": digest.hexdigest()}


def fingerprint(using: str = "default") -> dict[str, dict]:
    """{model label: {"rows": n, "md5": hex}} over every table the portable dump carries."""
    natural = _NaturalKeys(using)
    return {
        model._meta.label: model_fingerprint(model, using, natural)
        for model in sorted(fingerprinted_models(), key=lambda m: m._meta.label)
    }


def sql_checksums(using: str = "default") -> dict[str, dict]:
    """{table: {"rows": n, "md5": hex}} over every table of the database, in SQL (PostgreSQL only).

    Each row's text form, in primary-key order: identical for an exact copy such as pg_restore gives.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RuntimeError("sql-checksums needs PostgreSQL")
    quote = connection.ops.quote_name
    result = {}
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        for table in sorted(connection.introspection.table_names(cursor)):
            keys = connection.introspection.get_primary_key_columns(cursor, table) or []
            order = ", ".join(f"t.{quote(column)}" for column in keys) or "t::text"
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY {order}), '')) "
                f"FROM {quote(table)} AS t"
            )
            rows, digest = cursor.fetchone()
            result[table] = {"rows": rows, "md5": digest}
    return result


def smoke_test(using: str = "default") -> dict[str, bool]:
    """After a restore: the Chinese probe reads back intact, and new rows get fresh ids.

    The inserts (a source, a milestone citing it, their history and link rows) and an edit of an
    existing incubator (version check, history) run in a transaction that is rolled back, so this
    is safe on a real database: a sequence left behind by the restore fails it with IntegrityError.
    """
    from django.db import transaction
    from django.db.models import Max

    from districts.models import Institution, Milestone, Source
    from incubators.models import Incubator

    names = list(
        Institution.objects.using(using).filter(name_zh=CHINESE_PROBE).values_list("name_zh", flat=True)
    )
    checks = {"chinese": names == [CHINESE_PROBE]}
    try:
        with transaction.atomic(using=using):
            last_source = Source.objects.using(using).aggregate(last=Max("pk"))["last"] or 0
            source = Source.objects.using(using).create(
                key="RESTORE-CHECK",
                publisher="备份演练",
                published_on=datetime.date(2025, 1, 1),
                headline="恢复后的第一条新记录",
            )
            milestone = Milestone(
                title_zh="恢复演练", occurred_on=datetime.date(2025, 1, 1), date_precision="day"
            )
            milestone.save(using=using)
            milestone.sources.add(source)
            incubator = Incubator.objects.using(using).order_by("pk").first()
            if incubator is not None:
                incubator.save(using=using)
            checks["insert"] = (
                source.pk > last_source
                and source.history.count() == 1
                and milestone.history.exists()
                and Source.objects.using(using).filter(key="RESTORE-CHECK").count() == 1
            )
            transaction.set_rollback(True, using=using)
    except Exception as error:  # an IntegrityError here is exactly what this check exists to catch
        print(f"insert after restore failed: {error!r}", file=sys.stderr)
        checks["insert"] = False
    return checks


def compare(reference: dict[str, dict], restored: dict[str, dict]) -> dict[str, str]:
    """Per table: "ok", or what differs ("rows 40≠39", "md5", "missing", "extra")."""
    verdicts = {}
    for table in sorted(reference.keys() | restored.keys()):
        want, got = reference.get(table), restored.get(table)
        if got is None:
            verdicts[table] = "missing"
        elif want is None:
            verdicts[table] = "extra"
        elif want["rows"] != got["rows"]:
            verdicts[table] = f"rows {got['rows']}≠{want['rows']}"
        elif want["md5"] != got["md5"]:
            verdicts[table] = "md5 differs"
        else:
            verdicts[table] = "ok"
    return verdicts


def _width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(_pad(str(c), w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def comparison_table(reference: dict[str, dict], targets: dict[str, dict[str, dict]]) -> tuple[str, bool]:
    """A table: one line per table, its rows and checksum in the reference, and each target's verdict."""
    verdicts = {name: compare(reference, restored) for name, restored in targets.items()}
    tables = sorted(set().union(*(v.keys() for v in verdicts.values())) | reference.keys())
    rows = [
        [table, str(reference.get(table, {}).get("rows", "-")), reference.get(table, {}).get("md5", "-")[:8]]
        + [verdicts[name].get(table, "ok") for name in targets]
        for table in tables
    ]
    ok = all(verdict == "ok" for result in verdicts.values() for verdict in result.values())
    total = sum(entry["rows"] for entry in reference.values())
    rows.append(
        [f"TOTAL ({len(reference)} tables)", str(total), ""]
        + ["ok" if all(v == "ok" for v in verdicts[name].values()) else "MISMATCH" for name in targets]
    )
    return format_table(["table", "rows", "md5", *targets], rows), ok


def db_env(using: str = "default") -> str:
    """Shell assignments describing the database exactly as Django sees it (DATABASE_URL parsed by settings).

    DB_VENDOR (postgresql, sqlite), DB_NAME, and for PostgreSQL DB_HOST, DB_PORT, DB_USER, plus
    PGPASSWORD / PGSSLMODE when the URL has them, for the scripts to hand to pg_dump and pg_restore.
    """
    from django.conf import settings

    config = settings.DATABASES[using]
    engine = config["ENGINE"].rsplit(".", 1)[-1]
    values = {
        "DB_VENDOR": {"postgresql_psycopg2": "postgresql", "sqlite3": "sqlite"}.get(engine, engine),
        "DB_NAME": str(config["NAME"]),
    }
    if values["DB_VENDOR"] == "postgresql":
        values |= {
            "DB_HOST": config.get("HOST") or "",
            "DB_PORT": str(config.get("PORT") or ""),
            "DB_USER": config.get("USER") or "",
        }
        if config.get("PASSWORD"):
            values["PGPASSWORD"] = config["PASSWORD"]
        if (config.get("OPTIONS") or {}).get("sslmode"):
            values["PGSSLMODE"] = config["OPTIONS"]["sslmode"]
    return "\n".join(f"{name}={shlex.quote(value)}" for name, value in values.items())


def main(argv: list[str]) -> int:
    command, *args = argv or ["help"]
    if command == "compare":
        if len(args) < 2:
            print("usage: compare REFERENCE.json NAME=RESTORED.json …", file=sys.stderr)
            return 2
        with open(args[0], encoding="utf-8") as handle:
            reference = json.load(handle)
        targets = {}
        for spec in args[1:]:
            name, _, path = spec.partition("=")
            with open(path, encoding="utf-8") as handle:
                targets[name] = json.load(handle)
        table, ok = comparison_table(reference, targets)
        print(table)
        return 0 if ok else 1

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuhui_portal.settings")
    import django

    if command == "db-env":
        print(db_env())
        return 0
    django.setup()
    if command == "fingerprint":
        result = fingerprint()
    elif command == "sql-checksums":
        result = sql_checksums()
    elif command == "smoke":
        result = smoke_test()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    print()
    return 0 if command != "smoke" or all(result.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
