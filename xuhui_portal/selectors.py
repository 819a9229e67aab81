"""Reads that span apps: the home page overview and the site-wide search."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from districts.models import Indicator, InnovationDistrict, Institution, Milestone, TechField
from incubators.models import Incubator
from transfers.filters import ProjectFilter
from transfers.models import TransferPlatform, TransferProject
from transfers.project_index import get_index

from .models import PublicationState
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


def project_preview(filter_name: str, slug: str) -> Preview:
    """The published projects the project list shows for `?<filter_name>=<slug>`: their number
    and the first PROJECT_PREVIEW, in the list's order (newest first). A platform or district
    can hold thousands; its page links to the list instead of showing them all."""
    data = QueryDict(mutable=True)
    data[filter_name] = slug
    url = f"{reverse('transfers:project-list')}?{data.urlencode()}"
    projects = ProjectFilter(
        data, queryset=TransferProject.objects.published().only("name_zh", "name_en", "slug")
    )
    if not projects.is_valid():  # the record is not published, so the list offers no such filter
        return Preview([], 0, url)
    return Preview(list(projects.qs[:PROJECT_PREVIEW]), projects.qs.count(), url)


def incubator_preview(district: InnovationDistrict) -> Preview:
    """The district's published incubators: their number and the first INCUBATOR_PREVIEW by name."""
    incubators = (
        Incubator.objects.published()
        .filter(district=district)
        .for_listing()
        .select_related("district")
        .order_by("name_zh", "pk")
    )
    url = f"{reverse('incubators:list')}?{urlencode({'district': district.slug})}"
    records = list(incubators[:INCUBATOR_PREVIEW])
    attach_field_names(records, "focus_fields")
    count = len(records) if len(records) < INCUBATOR_PREVIEW else incubators.count()
    return Preview(records, count, url)


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
    project_counts = index.district.counts(index.everything())
    for district in districts:
        district.n_projects = project_counts.get(district.slug, 0)
    return districts


def home_overview() -> dict:
    platforms = TransferPlatform.objects.published()
    return {
        "service_centre": platforms.filter(kind=TransferPlatform.Kind.SERVICE_CENTRE).first(),
        "hub": platforms.filter(kind=TransferPlatform.Kind.HUB)
        .prefetch_related(
            Prefetch(
                "centres",
                queryset=platforms.filter(kind=TransferPlatform.Kind.CENTRE),
                to_attr="listed_centres",
            )
        )
        .first(),
        "districts": districts_with_counts(),
        "indicators": Indicator.objects.published().filter(is_featured=True).prefetch_related("sources"),
        "milestones": Milestone.objects.published()[:3],
        "counts": {
            "incubators": Incubator.objects.published().count(),
            "institutions": Institution.objects.published().count(),
            "projects": len(get_index()),
        },
    }


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
        matches = search_queryset(queryset.for_listing(), query).order_by("-search_rank", "name_zh", "pk")
        count = matches.count()
        if count:
            list_url = f"{reverse(list_name)}?{urlencode({'q': query})}" if list_name else None
            groups.append(SearchGroup(str(label), count, list(matches[:GROUP_SIZE]), list_url))
    # Projects through the project list's own filter (the index: thousands of hits at 100k
    # projects), in its order, so the group starts as the list it links to.
    projects = ProjectFilter(
        QueryDict(urlencode({"q": query})),
        queryset=TransferProject.objects.published()
        .for_listing()
        .select_related("platform", "owner_institution"),
    )
    if projects.is_valid() and projects.qs.count():
        list_url = f"{reverse('transfers:project-list')}?{urlencode({'q': query})}"
        label = str(_("Transfer projects"))
        groups.append(SearchGroup(label, projects.qs.count(), list(projects.qs[:GROUP_SIZE]), list_url))
    return groups
