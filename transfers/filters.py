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
from xuhui_portal.search import search_queryset

from .models import EARLIEST_YEAR, LATEST_YEAR, TransferPlatform, TransferProject
from .project_index import IndexedProjects, UnsupportedFilter, get_index, select

#: The largest amount a project field can hold (万元): beyond it a filter bound means nothing.
MAX_AMOUNT_WAN = 10**12


class ProjectFilterForm(RangeForm):
    ranges = (("year_min", "year_max"), ("amount_min", "amount_max"))


platform_choices = choices_from(lambda: TransferPlatform.objects.published())
institution_choices = choices_from(lambda: Institution.objects.published())


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

    # Answered from the in-process index of published projects (transfers/project_index.py): the
    # same records and counts as the database path of FacetedFilterSet, without six GROUP BYs and
    # a COUNT over the whole table. The queryset given to this FilterSet must hold published
    # projects only; it decides which columns and relations the rows shown are read with.

    def filter_queryset(self, queryset):
        selection = self.selection()
        if selection is None:
            return super().filter_queryset(queryset)
        return IndexedProjects(queryset, selection.ids(self.form.cleaned_data.get("ordering") or []))

    def all_facet_counts(self) -> dict[str, dict[str, int]]:
        if self.selection() is None:
            return super().all_facet_counts()
        return {facet.name: self.facet_counts(facet) for facet in self.facets}

    def facet_counts(self, facet: Facet) -> dict[str, int]:
        selection = self.selection()
        if selection is None:
            return super().facet_counts(facet)
        return selection.facet_counts(facet.name, facet.null_value)

    def release(self) -> None:
        # The index's arrays for this request (its filters' masks, ranks, positions): about
        # 0.5 MB at 100k projects. Left to the garbage collector, up to nine requests' FilterSets
        # waited with theirs: 7 MB of a worker's peak memory under the benchmark's load.
        self.__dict__.pop("_selection", None)

    def selection(self):
        """The filters applied to the index, or None when the database must answer."""
        if not hasattr(self, "_selection"):
            try:
                self._selection = select(get_index(), self.form.cleaned_data, self.search_hits)
            except UnsupportedFilter:
                self._selection = None
        return self._selection

    @staticmethod
    def search_hits(query: str) -> list[tuple[int, int]]:
        """(project id, rank) of every published project matching the keywords."""
        return list(
            search_queryset(TransferProject.objects.published(), query)
            .order_by()  # the index orders them
            .values_list("pk", "search_rank")
        )


class PlatformFilter(FacetedFilterSet):
    kind = django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Kind"), choices=TransferPlatform.Kind.choices
    )

    facets = (Facet("kind", "kind"),)
    default_ordering = ("kind", "pk")
    facets_in_memory = True

    class Meta:
        model = TransferPlatform
        fields = ["q", "kind"]
