import django_filters
from django.utils.translation import gettext_lazy as _

from xuhui_portal.filters import (
    Facet,
    FacetedFilterSet,
    NullsLastOrderingFilter,
    UnknownOrSlugFilter,
    choices_from,
)

from .models import InnovationDistrict, Institution, TechField

district_choices = choices_from(
    lambda: InnovationDistrict.objects.published(), "short_name", unknown_label=_("District unknown")
)
field_choices = choices_from(lambda: TechField.objects.all())


class InstitutionFilter(FacetedFilterSet):
    kind = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Kind"), choices=Institution.Kind.choices
    )
    district = UnknownOrSlugFilter(relation="district", label=_("District"), choices=district_choices)
    ordering = NullsLastOrderingFilter(
        label=_("Sort by"),
        empty_label=_("Default order"),
        fields=(("name_zh", "name"), ("updated_at", "updated")),
        field_labels={"name_zh": _("Name"), "updated_at": _("Last update")},
    )

    facets = (
        Facet("kind", "kind"),
        Facet("district", "district__slug", null_value="unknown", show_empty=True),
    )
    default_ordering = ("kind", "name_zh", "pk")
    facets_in_memory = True

    class Meta:
        model = Institution
        fields = ["q", "kind", "district"]
