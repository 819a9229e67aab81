"""Incubators as cards (templates/incubators/_cards.html), on the list and on district pages, and
as an institution page lists them."""

from django.db.models import Q, QuerySet

from districts.selectors import attach_field_names
from xuhui_portal.links import LinkMap

from .models import Incubator

#: The incubator columns a card shows (name, link, status, recognition, area, district).
CARD_COLUMNS = (
    "name_zh",
    "name_en",
    "slug",
    "status",
    "recognition",
    "recognition_batch",
    "floor_area_m2",
    "district",
)


def incubator_cards() -> QuerySet:
    """Published incubators, reading only what a card shows: whole rows cost more to read and
    build than the rest of the list's query."""
    return (
        Incubator.objects.published()
        .select_related("district")
        .only(*CARD_COLUMNS, "district__short_name_zh", "district__short_name_en")
    )


#: Every incubator's focus fields, read once per content version.
FOCUS_FIELDS = LinkMap(Incubator, "focus_fields")


def name_focus_fields(incubators) -> None:
    """Set each card's `field_names`: the names of its focus fields, in display order."""
    attach_field_names(incubators, lambda incubator: FOCUS_FIELDS.ids(incubator.pk))


def incubators_run_by(institution) -> tuple[list[Incubator], list[Incubator]]:
    """The published incubators `institution` operates, and those it hosts, in one query."""
    incubators = list(
        Incubator.objects.published()
        .filter(Q(operator=institution) | Q(host_institution=institution))
        .only("name_zh", "name_en", "slug", "operator_id", "host_institution_id")
    )
    return (
        [incubator for incubator in incubators if incubator.operator_id == institution.pk],
        [incubator for incubator in incubators if incubator.host_institution_id == institution.pk],
    )
