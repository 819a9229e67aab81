"""Migration operation for the PostgreSQL full-text index over a table's `search_document`.

The index expression is exactly the one `search_queryset()` queries (Django's SearchVector
with the 'simple' configuration), so the planner can use it. SQLite gets no index: there the
search is the same exact predicate, evaluated by a scan.
"""

from django.db import migrations


def _expression() -> str:
    return "to_tsvector('simple'::regconfig, COALESCE(\"search_document\", ''))"


def create_search_index(table: str) -> migrations.RunPython:
    index = f"{table}_search_gin"

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" USING gin ({_expression()})'
            )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')

    return migrations.RunPython(forward, backward, elidable=False)


def postgresql_only(sql: str, reverse_sql: str) -> migrations.RunPython:
    """A schema statement that only PostgreSQL understands (e.g. an index with NULLS LAST)."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forward, backward, elidable=False)
