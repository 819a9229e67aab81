"""Reads of the districts app's records that other apps' pages use."""

from collections import defaultdict

from django.utils.translation import get_language

from .models import TechField


def attach_field_names(records: list, relation: str) -> None:
    """Set each record's `field_names`: the names, in this language and in display order, of the
    technology fields its many-to-many `relation` links it to.

    One query of a few columns. A prefetch would build a model and a related manager per field
    and card, a sixth of the project list's time.
    """
    if not records:
        return
    link = type(records[0])._meta.get_field(relation)
    own, other = link.m2m_field_name(), link.m2m_reverse_field_name()
    english = (get_language() or "").startswith("en")
    rows = (
        link.remote_field.through.objects.filter(**{f"{own}__in": [record.pk for record in records]})
        .order_by(*(f"{other}__{key}" for key in TechField._meta.ordering), other)
        .values_list(f"{own}_id", f"{other}__name_zh", f"{other}__name_en")
    )
    names = defaultdict(list)
    for record_id, name_zh, name_en in rows:
        names[record_id].append((english and name_en) or name_zh)
    for record in records:
        record.field_names = names[record.pk]
