import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from districts.filters import district_choices, field_choices
from districts.models import Institution
from xuhui_portal.filters import (
    Facet,
    FacetedFilterSet,
    NullsLastOrderingFilter,
    RangeForm,
    SlugsFilter,
    UnknownOrSlugFilter,
    choices_from,
)

from .models import EARLIEST_YEAR, LATEST_YEAR, TransferPlatform, TransferProject

#: The largest amount a project field can hold (万元): beyond it a filter bound means nothing.
MAX_AMOUNT_WAN = 10**12


class ProjectFilterForm(RangeForm):
    ranges = (("year_min", "year_max"), ("amount_min", "amount_max"))


def platform_choices():
    return choices_from(lambda: TransferPlatform.objects.published(), lambda p: p.name)()


def institution_choices():
    return choices_from(lambda: Institution.objects.published(), lambda i: i.name)()


class ProjectFilter(FacetedFilterSet):
    platform = django_filters.MultipleChoiceFilter(
        distinct=False, field_name="platform__slug", label=_("Platform"), choices=platform_choices
    )
    institution = django_filters.MultipleChoiceFilter(
        distinct=False,
        field_name="owner_institution__slug",
        label=_("Institution"),
        choices=institution_choices,
    )
    field = SlugsFilter(relation="fields", label=_("Field"), choices=field_choices)
    district = UnknownOrSlugFilter(relation="district", label=_("District"), choices=district_choices)
    stage = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Stage"), choices=TransferProject.Stage.choices
    )
    mode = django_filters.MultipleChoiceFilter(
        distinct=False,
        field_name="transfer_mode",
        label=_("Transfer mode"),
        choices=TransferProject.TransferMode.choices,
    )
    year_min = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="gte",
        label=_("From year"),
        min_value=EARLIEST_YEAR,
        max_value=LATEST_YEAR,
    )
    year_max = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="lte",
        label=_("To year"),
        min_value=EARLIEST_YEAR,
        max_value=LATEST_YEAR,
    )
    amount_min = django_filters.NumberFilter(
        field_name="transfer_amount_wan",
        lookup_expr="gte",
        label=_("Amount from (万元)"),
        min_value=0,
        max_value=MAX_AMOUNT_WAN,
    )
    amount_max = django_filters.NumberFilter(
        field_name="transfer_amount_wan",
        lookup_expr="lte",
        label=_("Amount to (万元)"),
        min_value=0,
        max_value=MAX_AMOUNT_WAN,
    )
    ordering = NullsLastOrderingFilter(
        label=_("Sort by"),
        empty_label=_("Default order"),
        fields=(("year", "year"), ("transfer_amount_wan", "amount"), ("name_zh", "name")),
        field_labels={"year": _("Year"), "transfer_amount_wan": _("Amount"), "name_zh": _("Name")},
    )

    facets = (
        Facet("platform", "platform__slug"),
        Facet("institution", "owner_institution__slug"),
        Facet("field", "fields__slug"),
        Facet("district", "district__slug", null_value="unknown", show_empty=True),
        Facet("stage", "stage"),
        Facet("mode", "transfer_mode"),
    )
    # Newest first; projects whose year is unknown come last on every database.
    default_ordering = (F("year").desc(nulls_last=True), "name_zh", "pk")

    class Meta:
        model = TransferProject
        form = ProjectFilterForm
        fields = ["q", "platform", "institution", "field", "district", "stage", "mode"]


class PlatformFilter(FacetedFilterSet):
    kind = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Kind"), choices=TransferPlatform.Kind.choices
    )

    facets = (Facet("kind", "kind"),)
    default_ordering = ("kind", "pk")

    class Meta:
        model = TransferPlatform
        fields = ["q", "kind"]
