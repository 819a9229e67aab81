"""Reads of the districts app's records that other apps' pages use."""

from collections.abc import Callable, Iterable

from django.db.models import OuterRef, QuerySet, StringAgg, Subquery, Value

from .filters import field_choices


def with_field_slugs(queryset: QuerySet, relation: str) -> QuerySet:
    """`queryset` with each record's `field_slugs`: the slugs of the technology fields its
    many-to-many `relation` links it to, comma-separated (a slug holds no comma), or None.

    A correlated subquery in the same SELECT: cards get their fields without a query of their
    own (a prefetch would also build a model and a related manager per field and card).
    """
    link = queryset.model._meta.get_field(relation)
    own, other = link.m2m_field_name(), link.m2m_reverse_field_name()
    slugs = (
        link.remote_field.through.objects.filter(**{own: OuterRef("pk")})
        .order_by()
        .values(own)
        .annotate(slugs=StringAgg(f"{other}__slug", Value(",")))
        .values("slugs")
    )
    return queryset.annotate(field_slugs=Subquery(slugs))


def annotated_slugs(record) -> list[str]:
    """The slugs `with_field_slugs` put on a record."""
    return record.field_slugs.split(",") if record.field_slugs else []


def attach_field_names(
    records: Iterable, slugs_of: Callable[[object], Iterable[str]] = annotated_slugs
) -> None:
    """Set each record's `field_names`: the names of its technology fields (`slugs_of(record)`),
    in this language and in the fields' display order.

    The names come from the field filter's choices, which are read once per content version
    and language.
    """
    place = {slug: (order, name) for order, (slug, name) in enumerate(field_choices())}
    for record in records:
        record.field_names = [
            name for _order, name in sorted(place[slug] for slug in slugs_of(record) if slug in place)
        ]
