"""Reads of the districts app's records that other apps' pages use."""

from collections.abc import Callable, Iterable

from django.utils.translation import get_language

from xuhui_portal.links import LinkedTable

from .models import Source, TechField

#: Technology fields and sources as cards and API records name them (xuhui_portal/links.py).
TECH_FIELDS = LinkedTable(TechField, "slug", "name_zh", "name_en")
SOURCES = LinkedTable(Source, "key")


def attach_field_names(records: Iterable, field_ids: Callable[[object], Iterable[int]]) -> None:
    """Set each record's `field_names`: the names of its technology fields (ids from
    `field_ids(record)`), in this language and in the fields' display order."""
    english = (get_language() or "").startswith("en")
    for record in records:
        record.field_names = [
            (english and name_en) or name_zh
            for _slug, name_zh, name_en in TECH_FIELDS.in_order(field_ids(record))
        ]
