"""Many-to-many links read in the same SELECT as the records that hold them.

A card or an API record names its technology fields and sources. A prefetch reads them with a
query per relation and builds a model and a related manager per linked record: 2.5 ms for the
20 projects of an API page, more than the rest of the rows. Instead, each record carries the ids
of its linked records (a correlated subquery, `with_link_ids`), and the linked tables, which are
small, are read once per content version into a `LinkedTable`, in their display order.

For a small table's own links (an incubator's focus fields) even that subquery costs too much:
Django compiles it on every request (0.8 ms of an incubator page's 7). Those links are read
once per content version into a `LinkMap` instead.
"""

from django.db import router
from django.db.models import OuterRef, QuerySet, StringAgg, Subquery, TextField, Value
from django.db.models.functions import Cast

from .models import PerContentVersion


def with_link_ids(queryset: QuerySet, *relations: str) -> QuerySet:
    """`queryset` with, for each many-to-many relation, `<relation>_link_ids`: the linked
    records' ids, comma-separated (None when there are none)."""
    annotations = {}
    for relation in relations:
        link = queryset.model._meta.get_field(relation)
        own, other = link.m2m_field_name(), link.m2m_reverse_field_name()
        ids = (
            link.remote_field.through.objects.filter(**{own: OuterRef("pk")})
            .order_by()
            .values(own)
            .annotate(ids=StringAgg(Cast(f"{other}_id", TextField()), Value(",")))
            .values("ids")
        )
        annotations[f"{relation}_link_ids"] = Subquery(ids)
    return queryset.annotate(**annotations)


class LinkMap:
    """The ids each record of a small table links to through a many-to-many relation, read once
    per content version (and database) in one query of the relation's own table."""

    def __init__(self, model, relation: str):
        self.link = model._meta.get_field(relation)
        self._links = PerContentVersion()

    def ids(self, pk: int) -> tuple[int, ...]:
        """The ids record `pk` links to (none for an unknown record)."""
        return self.links().get(pk, ())

    def links(self) -> dict[int, tuple[int, ...]]:
        through = self.link.remote_field.through
        using = router.db_for_read(through)

        def read() -> dict[int, tuple[int, ...]]:
            pairs = through._default_manager.using(using).values_list(
                f"{self.link.m2m_field_name()}_id", f"{self.link.m2m_reverse_field_name()}_id"
            )
            links: dict[int, list[int]] = {}
            for own, other in pairs.order_by():
                links.setdefault(own, []).append(other)
            return {own: tuple(others) for own, others in links.items()}

        return self._links.get(using, None, read)


def link_ids(record, relation: str) -> list[int]:
    """The ids `with_link_ids` put on a record."""
    joined = getattr(record, f"{relation}_link_ids")
    return [int(pk) for pk in joined.split(",")] if joined else []


class LinkedTable:
    """Some columns, or the records themselves, of every record of a small table (fields, sources,
    platforms), in its display order.

    Read once per content version (and database), so an edit shows on the next request.
    """

    def __init__(self, model, *columns: str):
        self.model = model
        self.columns = columns
        self._rows = PerContentVersion()
        self._records = PerContentVersion()

    def __deepcopy__(self, memo) -> "LinkedTable":
        # One per table and process: serializer fields that hold it are deep-copied per request.
        return self

    def rows(self) -> dict[int, tuple]:
        """{id: (place in display order, *columns)}."""
        using = router.db_for_read(self.model)

        def read() -> dict[int, tuple]:
            values = self.model._default_manager.using(using).values_list("pk", *self.columns)
            return {pk: (place, *rest) for place, (pk, *rest) in enumerate(values)}

        return self._rows.get(using, None, read)

    def in_order(self, ids) -> list[tuple]:
        """The columns of the records `ids` (unknown ids left out), in display order."""
        rows = self.rows()
        return [row[1:] for row in sorted(rows[pk] for pk in ids if pk in rows)]

    def records(self, ids) -> list:
        """The records `ids` themselves (unknown ids left out), in display order.

        The instances are shared by every request until content changes: read them, never
        change them.
        """
        records = self._all_records()
        return [record for _place, record in sorted(records[pk] for pk in ids if pk in records)]

    def record(self, pk: int):
        """The record `pk` itself (None when unknown), shared like those of `records`."""
        held = self._all_records().get(pk)
        return held[1] if held else None

    def _all_records(self) -> dict[int, tuple]:
        """{id: (place in display order, record)}."""
        using = router.db_for_read(self.model)

        def read() -> dict[int, tuple]:
            records = self.model._default_manager.using(using)
            return {record.pk: (place, record) for place, record in enumerate(records)}

        return self._records.get(using, None, read)
