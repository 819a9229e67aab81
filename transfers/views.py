from itertools import groupby

from django.db.models import Prefetch

from districts.models import Institution
from districts.selectors import SOURCES
from xuhui_portal.links import link_ids, with_link_ids
from xuhui_portal.selectors import attach_project_field_names, attach_project_platforms, project_preview
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import PlatformFilter, ProjectFilter
from .models import PlatformPartnership, TransferPlatform, TransferProject

#: The project columns a list card shows (name, link, stage, mode, year, amount, summary).
LIST_COLUMNS = (
    "name_zh",
    "name_en",
    "slug",
    "stage",
    "transfer_mode",
    "year",
    "transfer_amount_wan",
    "summary_zh",
    "summary_en",
    "platform",
)


def partners_by_role(partnerships) -> list[tuple[str, list]]:
    """[(role label, [institutions])] in the roles' declared order."""
    order = {role: index for index, role in enumerate(PlatformPartnership.Role.values)}
    ordered = sorted(partnerships, key=lambda p: (order[p.role], p.pk))
    return [
        (PlatformPartnership.Role(role).label, [p.institution for p in group])
        for role, group in groupby(ordered, key=lambda p: p.role)
    ]


def _platform_relations():
    return (
        Prefetch("host_institutions", queryset=Institution.objects.published()),
        Prefetch(
            "partnerships",
            queryset=PlatformPartnership.objects.filter(
                institution__publication_state="published"
            ).select_related("institution"),
        ),
    )


class PlatformListView(FacetedListView):
    filterset_class = PlatformFilter
    csv_view_name = "api:platform-csv"
    template_name = "transfers/platform_list.html"
    paginate_by = None

    def get_queryset(self):
        return (
            TransferPlatform.objects.published()
            .select_related("parent", "district")
            .prefetch_related(*_platform_relations())
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["network"] = [
            (platform, partners_by_role(platform.partnerships.all())) for platform in context["object_list"]
        ]
        return context


class PlatformDetailView(CanonicalDetailView):
    template_name = "transfers/platform_detail.html"

    def get_queryset(self):
        return TransferPlatform.objects.select_related("parent", "district").prefetch_related(
            "sources",
            *_platform_relations(),
            Prefetch(
                "centres",
                queryset=TransferPlatform.objects.published().prefetch_related("host_institutions"),
                to_attr="listed_centres",
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["projects"] = project_preview("platform", self.object.slug)
        context["partner_groups"] = partners_by_role(self.object.partnerships.all())
        return context


class ProjectListView(FacetedListView):
    filterset_class = ProjectFilter
    csv_view_name = "api:project-csv"
    # Only what a result card shows: at 20 cards a page, whole rows of the project and three
    # related records (descriptions, search columns) cost more than the rest of the page.
    queryset = TransferProject.objects.published().only(*LIST_COLUMNS)
    template_name = "transfers/project_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attach_project_field_names(context["object_list"])
        attach_project_platforms(context["object_list"])
        return context


class ProjectDetailView(CanonicalDetailView):
    """A project's page in one query (its row, its platform, owner and district, its sources'
    ids); its fields from the project index, its sources from the per-version table."""

    template_name = "transfers/project_detail.html"
    queryset = with_link_ids(
        TransferProject.objects.select_related("platform", "owner_institution", "district"), "sources"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attach_project_field_names([self.object])
        context["sources"] = SOURCES.records(link_ids(self.object, "sources"))
        return context
