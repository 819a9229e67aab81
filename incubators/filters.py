import django_filters
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from districts.filters import district_choices, field_choices
from xuhui_portal.filters import (
    Facet,
    FacetedFilterSet,
    NullsLastOrderingFilter,
    SlugsFilter,
    UnknownOrSlugFilter,
)

from .models import Incubator


def _batch_label(number: int) -> str:
    return gettext("Batch %(number)s") % {"number": number}


#: Lazy: choices are built when the module loads, and each page wants its own language.
batch_label = lazy(_batch_label, str)


class IncubatorFilter(FacetedFilterSet):
    district = UnknownOrSlugFilter(relation="district", label=_("District"), choices=district_choices)
    field = SlugsFilter(relation="focus_fields", label=_("Field"), choices=field_choices)
    recognition = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Recognition"), choices=Incubator.Recognition.choices
    )
    batch = django_filters.TypedMultipleChoiceFilter(
        distinct=False,
        field_name="recognition_batch",
        label=_("Batch"),
        choices=[(n, batch_label(n)) for n in range(1, 6)],
        coerce=int,
    )
    status = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Status"), choices=Incubator.Status.choices
    )
    ordering = NullsLastOrderingFilter(
        label=_("Sort by"),
        empty_label=_("Default order"),
        fields=(("name_zh", "name"), ("recognized_on", "recognized"), ("floor_area_m2", "area")),
        field_labels={
            "name_zh": _("Name"),
            "recognized_on": _("Recognition date"),
            "floor_area_m2": _("Floor area"),
        },
    )

    facets = (
        Facet("district", "district__slug", null_value="unknown", show_empty=True),
        Facet("field", "focus_fields__slug"),
        Facet("recognition", "recognition"),
        Facet("batch", "recognition_batch"),
        Facet("status", "status"),
    )
    default_ordering = ("name_zh", "pk")
    facets_in_memory = True

    class Meta:
        model = Incubator
        fields = ["q", "district", "field", "recognition", "batch", "status"]
