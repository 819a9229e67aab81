"""The ecosystem in numbers: the charts of the statistics page, counted from published records.

Project charts are counted from the project index (transfers/project_index.py), the same
answers as GROUP BYs over the projects table without reading 100,000 rows per page.

Each chart is a list of bars with a label, a value and the URL of the filtered list it counts
(drill-through), plus a note that says what the numbers cover. Drawing (SVG geometry) lives in
`charts.py`; this module only counts.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.models import InnovationDistrict, Institution, TechField
from incubators.models import Incubator
from transfers.models import TransferProject
from transfers.project_index import get_index, select

from .formatting import money, number


@dataclass
class Bar:
    label: str
    value: Decimal | int
    url: str
    display: str = ""

    def __post_init__(self):
        if not self.display:
            self.display = number(self.value)


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    unit: str
    bars: list[Bar]
    coverage: str = ""
    #: Whether /statistics/<slug>.csv serves this chart's numbers.
    has_csv: bool = True

    @property
    def maximum(self):
        return max((bar.value for bar in self.bars), default=0)


#: The charts of the statistics page, in display order, with their titles.
CHART_TITLES = {
    "incubators-by-district": gettext_lazy("Incubators per innovation district"),
    "projects-by-field": gettext_lazy("Transfer projects per field"),
    "projects-by-year": gettext_lazy("Transfer projects per year"),
    "projects-by-stage": gettext_lazy("Transfer projects per stage"),
    "amounts-by-mode": gettext_lazy("Disclosed transfer amounts per transfer mode"),
    "institutions-by-kind": gettext_lazy("Institutions per kind"),
}


def _list_url(name: str, **params) -> str:
    query = urlencode(params, doseq=True)
    return reverse(name) + (f"?{query}" if query else "")


def incubators_by_district() -> Chart:
    incubators = Incubator.objects.published()
    counts = dict(incubators.order_by().values_list("district").annotate(n=Count("pk")))
    bars = [
        Bar(
            district.short_name,
            counts.get(district.pk, 0),
            _list_url("incubators:list", district=district.slug),
        )
        for district in InnovationDistrict.objects.published()
    ]
    bars.append(
        Bar(_("District unknown"), counts.get(None, 0), _list_url("incubators:list", district="unknown"))
    )
    total = sum(counts.values())
    return Chart(
        "incubators-by-district",
        str(CHART_TITLES["incubators-by-district"]),
        _("How many of the %(total)s published incubators lie in each innovation district.")
        % {"total": total},
        _("incubators"),
        bars,
        coverage=_(
            "All %(total)s published incubators; those whose district the sources do not name are counted as unknown."
        )
        % {"total": total},
    )


def projects_by_field() -> Chart:
    index = get_index()
    counts = index.counts_of_all("field")
    bars = [
        Bar(
            tech_field.name,
            counts[tech_field.slug],
            _list_url("transfers:project-list", field=tech_field.slug),
        )
        for tech_field in TechField.objects.all()
        if counts.get(tech_field.slug)
    ]
    total, without = len(index), index.without_fields()
    return Chart(
        "projects-by-field",
        str(CHART_TITLES["projects-by-field"]),
        _("How many published transfer projects work in each technology field."),
        _("projects"),
        bars,
        coverage=_(
            "%(total)s published projects; a project with several fields counts once in each, "
            "%(without)s have no field recorded."
        )
        % {"total": total, "without": without},
    )


def projects_by_year() -> Chart:
    index = get_index()
    counts = index.year_counts()
    bars = [
        Bar(str(year), n, _list_url("transfers:project-list", year_min=year, year_max=year))
        for year, n in counts.items()
    ]
    total, dated = len(index), sum(counts.values())
    return Chart(
        "projects-by-year",
        str(CHART_TITLES["projects-by-year"]),
        _("How many published transfer projects were transferred in each year."),
        _("projects"),
        bars,
        coverage=_("%(dated)s of %(total)s published projects have a known year; the others are not shown.")
        % {"dated": dated, "total": total},
    )


def projects_by_stage() -> Chart:
    index = get_index()
    bars, total = _stage_bars(index.counts_of_all("stage"))
    return Chart(
        "projects-by-stage",
        str(CHART_TITLES["projects-by-stage"]),
        _("How far the published transfer projects have come."),
        _("projects"),
        bars,
        coverage=_("All %(total)s published projects.") % {"total": total},
    )


def amounts_by_mode() -> Chart:
    index = get_index()
    rows = index.amounts_by("mode")
    bars = [
        Bar(
            str(label), rows[value][0], _list_url("transfers:project-list", mode=value), money(rows[value][0])
        )
        for value, label in TransferProject.TransferMode.choices
        if rows.get(value, (None, 0))[1]
    ]
    total = len(index)
    counted = sum(rows[value][1] for value in TransferProject.TransferMode.values if value in rows)
    return Chart(
        "amounts-by-mode",
        str(CHART_TITLES["amounts-by-mode"]),
        _("The sum of the disclosed transfer amounts of the published projects, per transfer mode, in 万元."),
        _("×10,000 yuan"),
        bars,
        coverage=_(
            "Sum over %(counted)s of %(total)s published projects with a disclosed amount and mode; "
            "undisclosed amounts are left out, never counted as zero."
        )
        % {"counted": counted, "total": total},
    )


def institutions_by_kind() -> Chart:
    institutions = Institution.objects.published()
    counts = dict(institutions.order_by().values_list("kind").annotate(n=Count("pk")))
    bars = [
        Bar(str(label), counts[value], _list_url("districts:institution-list", kind=value))
        for value, label in Institution.Kind.choices
        if counts.get(value)
    ]
    total = sum(counts.values())
    return Chart(
        "institutions-by-kind",
        str(CHART_TITLES["institutions-by-kind"]),
        _("The universities, hospitals, institutes, companies and agencies in the directory, by kind."),
        _("institutions"),
        bars,
        coverage=_("All %(total)s published institutions.") % {"total": total},
    )


CHARTS = {
    "incubators-by-district": incubators_by_district,
    "projects-by-field": projects_by_field,
    "projects-by-year": projects_by_year,
    "projects-by-stage": projects_by_stage,
    "amounts-by-mode": amounts_by_mode,
    "institutions-by-kind": institutions_by_kind,
}


def all_charts() -> list[Chart]:
    return [build() for build in CHARTS.values()]


def district_stage_chart(district: InnovationDistrict) -> Chart:
    """The small chart of a district page: its projects per stage."""
    # The project list's stage facet with this district chosen: the same counts.
    in_district = select(get_index(), {"district": [district.slug]}, search=None)
    bars, total = _stage_bars(in_district.facet_counts("stage"), district=district.slug)
    return Chart(
        f"district-{district.slug}-stages",
        _("Projects of this district per stage"),
        _("How far the published transfer projects of %(district)s have come.") % {"district": district.name},
        _("projects"),
        bars,
        coverage=_("%(total)s published projects in this district.") % {"total": total},
        has_csv=False,
    )


def _stage_bars(counts: dict[str, int], **filters) -> tuple[list[Bar], int]:
    """One bar per stage (zeros included) linking to the project list with `filters`."""
    bars = [
        Bar(str(label), counts.get(value, 0), _list_url("transfers:project-list", stage=value, **filters))
        for value, label in TransferProject.Stage.choices
    ]
    return bars, sum(counts.values())
