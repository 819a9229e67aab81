from itertools import groupby

from django.db.models import Prefetch

from districts.models import Institution
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import PlatformFilter, ProjectFilter
from .models import PlatformPartnership, TransferPlatform, TransferProject


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
            Prefetch(
                "projects",
                queryset=TransferProject.objects.published().select_related("owner_institution"),
                to_attr="listed_projects",
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["partner_groups"] = partners_by_role(self.object.partnerships.all())
        return context


class ProjectListView(FacetedListView):
    filterset_class = ProjectFilter
    csv_view_name = "api:project-csv"
    queryset = (
        TransferProject.objects.published()
        .for_listing()
        .select_related("platform", "owner_institution", "district")
        .prefetch_related("fields")
    )
    template_name = "transfers/project_list.html"


class ProjectDetailView(CanonicalDetailView):
    template_name = "transfers/project_detail.html"
    queryset = TransferProject.objects.select_related(
        "platform", "owner_institution", "district"
    ).prefetch_related("fields", "sources")
