"""Incubators as cards (templates/incubators/_cards.html), on the list and on district pages, and
as an institution page lists them."""

from django.db.models import Q, QuerySet

from districts.selectors import attach_field_names
from xuhui_portal.links import link_ids, with_link_ids

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


def with_focus_field_ids(incubators: QuerySet) -> QuerySet:
    """`incubators` with their focus fields' ids in the same SELECT (for `name_focus_fields`)."""
    return with_link_ids(incubators, "focus_fields")


def name_focus_fields(incubators) -> None:
    """Set each card's `field_names` from the ids `with_focus_field_ids` read."""
    attach_field_names(incubators, lambda incubator: link_ids(incubator, "focus_fields"))


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
