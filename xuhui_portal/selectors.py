"""Reads that span apps: the home page overview and the site-wide search."""

from dataclasses import dataclass

from django.db import router
from django.db.models import Count, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from districts.models import Indicator, InnovationDistrict, Institution, Milestone
from districts.selectors import attach_field_names
from incubators.filters import IncubatorFilter
from incubators.models import Incubator
from incubators.selectors import incubator_cards, name_focus_fields
from transfers.filters import ProjectFilter
from transfers.models import TransferPlatform, TransferProject
from transfers.project_index import get_index

from . import charts, statistics
from .links import LinkedTable
from .models import PerContentVersion, PublicationState
from .search import search_queryset

PUBLISHED = PublicationState.PUBLISHED
#: Projects a district or platform page lists; the project list, filtered, has them all.
PROJECT_PREVIEW = 10
#: Incubators a district page lists; the incubator list, filtered, has them all.
INCUBATOR_PREVIEW = 12


@dataclass
class Preview:
    """The first records of a list shown on another page, how many there are, and the list's URL."""

    records: list
    count: int
    url: str


def preview(filterset_class, queryset: QuerySet, list_name: str, size: int, **params) -> Preview:
    """What the list `list_name` shows for `params`, through its own FilterSet: the number of
    records and the first `size`, in the list's order. A platform or district can hold
    thousands of projects; its page links to the list instead of showing them all."""
    data = QueryDict(mutable=True)
    data.update(params)
    url = f"{reverse(list_name)}?{data.urlencode()}"
    filterset = filterset_class(data, queryset=queryset)
    if not filterset.is_valid():  # e.g. an unpublished record, which the list offers no filter for
        return Preview([], 0, url)
    matching = filterset.qs
    if isinstance(matching, QuerySet):
        # The count comes with the first rows (a window over the whole list), not in a query of its own.
        records = list(matching.annotate(list_count=Window(Count("*")))[:size])
        count = records[0].list_count if records else 0
    else:  # the project index, which knows the count
        records, count = list(matching[:size]), matching.count()
    return Preview(records, count, url)


def project_preview(filter_name: str, slug: str) -> Preview:
    """The first PROJECT_PREVIEW published projects of `?<filter_name>=<slug>` (newest first)."""
    projects = TransferProject.objects.published().only("name_zh", "name_en", "slug")
    return preview(ProjectFilter, projects, "transfers:project-list", PROJECT_PREVIEW, **{filter_name: slug})


def incubator_preview(district: InnovationDistrict) -> Preview:
    """The district's first INCUBATOR_PREVIEW published incubators (by name), as cards."""
    shown = preview(
        IncubatorFilter, incubator_cards(), "incubators:list", INCUBATOR_PREVIEW, district=district.slug
    )
    name_focus_fields(shown.records)
    return shown


def attach_project_field_names(projects: list) -> None:
    """Set each published project's `field_names`, its field links read from the project index."""
    field_ids = dict(
        zip((p.pk for p in projects), get_index().field_ids([p.pk for p in projects]), strict=True)
    )
    attach_field_names(projects, lambda project: field_ids[project.pk])


#: Every platform, read once per content version: each project card names its platform.
PLATFORMS = LinkedTable(TransferPlatform)


def attach_project_platforms(projects: list) -> None:
    """Give each project its platform, as select_related() would, from PLATFORMS: the platforms
    are few, and joining them to the page's rows cost 0.4 ms of a project list."""
    platform = TransferProject.platform.field
    for project in projects:
        if project.platform_id is not None:
            platform.set_cached_value(project, PLATFORMS.record(project.platform_id))


def count_per_district(queryset: QuerySet) -> Subquery:
    """A correlated COUNT of `queryset`'s rows in the outer district (one index lookup per district).

    Two Count() joins on the district would multiply incubators by projects before counting.
    """
    counts = queryset.filter(district=OuterRef("pk")).order_by().values("district").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n")), 0)


def districts_with_counts(*prefetch: str) -> list[InnovationDistrict]:
    """Published districts, each with its published incubators and projects counted.

    Project counts come from the project index (one pass over its district column) rather
    than a correlated COUNT per district over the projects table.
    """
    districts = list(
        InnovationDistrict.objects.published()
        .annotate(n_incubators=count_per_district(Incubator.objects.published()))
        .prefetch_related(*prefetch)
    )
    index = get_index()
    project_counts = index.counts_of_all("district")
    for district in districts:
        district.n_projects = project_counts.get(district.slug, 0)
    return districts


def tto_network() -> tuple[TransferPlatform | None, TransferPlatform | None]:
    """The service centre and the TTO hub, the hub with its published transfer centres
    (`listed_centres`): one read of the few platforms of those kinds."""
    Kind = TransferPlatform.Kind
    platforms = list(
        TransferPlatform.objects.published().filter(kind__in=[Kind.SERVICE_CENTRE, Kind.HUB, Kind.CENTRE])
    )
    service_centre = next((p for p in platforms if p.kind == Kind.SERVICE_CENTRE), None)
    hub = next((p for p in platforms if p.kind == Kind.HUB), None)
    if hub is not None:
        hub.listed_centres = [p for p in platforms if p.kind == Kind.CENTRE and p.parent_id == hub.pk]
    return service_centre, hub


#: The home page's records and figures, read once per content version: a handful of small
#: tables (districts, platforms, indicators, milestones) that change only when content does.
_OVERVIEW = PerContentVersion()


def home_overview() -> dict:
    """What the home page shows; shared, read-only, by every request until content changes."""

    def read() -> dict:
        service_centre, hub = tto_network()
        return {
            "service_centre": service_centre,
            "hub": hub,
            "districts": districts_with_counts(),
            "indicators": list(
                Indicator.objects.published().filter(is_featured=True).prefetch_related("sources")
            ),
            "milestones": list(Milestone.objects.published()[:3]),
            "counts": {
                "incubators": Incubator.objects.published().count(),
                "institutions": Institution.objects.published().count(),
                "projects": len(get_index()),
            },
        }

    return dict(_OVERVIEW.get(router.db_for_read(InnovationDistrict), None, read))


def district_map_context() -> dict:
    """The districts with their counts, placed on the schematic map (or listed when unplaced)."""
    spots, unplaced = [], []
    for district in districts_with_counts():
        position = charts.MAP_POSITIONS.get(district.slug)
        if position is None:
            unplaced.append(district)
        else:
            spots.append({"district": district, "x": position[0], "y": position[1]})
    return {"map_spots": spots, "unplaced": unplaced}


#: The statistics page's figures, charts and map, and their markup, per content version and
#: language (labels and links are in the page's language).
_STATISTICS = PerContentVersion()


def statistics_overview() -> dict:
    """What the statistics page shows; shared, read-only, by every request until content changes."""

    def read() -> dict:
        groups = {}
        indicators = Indicator.objects.published().select_related("district").prefetch_related("sources")
        for indicator in indicators:
            groups.setdefault(str(indicator.get_theme_display()), []).append(indicator)
        overview = {
            "indicator_groups": list(groups.items()),
            "charts": [charts.draw_bar_chart(chart) for chart in statistics.all_charts()],
            **district_map_context(),
        }
        # The markup too: the page's 40 figures, map and 6 charts are some 2,000 template
        # variables, the same for every request until content changes.
        overview["body_html"] = render_to_string("includes/statistics_body.html", overview)
        return overview

    return dict(_STATISTICS.get(router.db_for_read(Indicator), get_language(), read))


@dataclass
class SearchGroup:
    label: str
    count: int
    results: list
    list_url: str | None


#: How many hits of each kind the site-wide search shows before "see all".
GROUP_SIZE = 8


def site_search(query: str) -> list[SearchGroup]:
    """Published records of every kind matching `query`, best first, grouped by kind."""
    kinds = [
        (_("Innovation districts"), InnovationDistrict.objects.published(), None),
        (_("Incubators"), Incubator.objects.published().select_related("district"), "incubators:list"),
        (
            _("Institutions"),
            Institution.objects.published().select_related("district"),
            "districts:institution-list",
        ),
        (_("Transfer platforms"), TransferPlatform.objects.published(), "transfers:platform-list"),
    ]
    groups = []
    for label, queryset, list_name in kinds:
        matches = search_queryset(queryset.for_display(), query).order_by("-search_rank", "name_zh", "pk")
        count = matches.count()
        if count:
            list_url = f"{reverse(list_name)}?{urlencode({'q': query})}" if list_name else None
            groups.append(SearchGroup(str(label), count, list(matches[:GROUP_SIZE]), list_url))
    # Projects through the project list's own filter (the index: thousands of hits at 100k
    # projects), in its order, so the group starts as the list it links to.
    projects = (
        TransferProject.objects.published().select_related("platform", "owner_institution").for_display()
    )
    found = preview(ProjectFilter, projects, "transfers:project-list", GROUP_SIZE, q=query)
    if found.count:
        groups.append(SearchGroup(str(_("Transfer projects")), found.count, found.records, found.url))
    return groups
