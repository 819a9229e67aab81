from django.db import router
from django.db.models import Prefetch
from django.http import Http404
from django.views.generic import DetailView, ListView

from incubators.selectors import incubators_run_by
from transfers.models import PlatformPartnership, TransferPlatform
from xuhui_portal.charts import draw_bar_chart
from xuhui_portal.models import PerContentVersion
from xuhui_portal.selectors import (
    count_per_district,
    districts_with_counts,
    incubator_preview,
    project_preview,
)
from xuhui_portal.statistics import district_stage_chart
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import InstitutionFilter
from .models import Indicator, InnovationDistrict, Institution, Milestone


class DistrictListView(ListView):
    template_name = "districts/district_list.html"

    def get_queryset(self):
        return districts_with_counts("focus_fields", "anchor_institutions")


#: Every published district with what its page lists (anchors, platforms, figures, milestones,
#: fields, sources), read once per content version: seven small queries that change only with content.
_DISTRICT_PAGES = PerContentVersion()


class DistrictDetailView(DetailView):
    template_name = "districts/district_detail.html"

    def get_object(self, queryset=None):
        """The district of the URL's slug, from the districts held for this content version;
        the instances are shared by requests, so the page only reads them."""
        using = router.db_for_read(InnovationDistrict)
        districts = _DISTRICT_PAGES.get(
            using, None, lambda: {district.slug: district for district in self.get_queryset()}
        )
        district = districts.get(self.kwargs["slug"])
        if district is None:
            raise Http404
        return district

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        district = self.object
        context["incubators"] = incubator_preview(district)
        context["projects"] = project_preview("district", district.slug)
        context["summary"] = {
            "incubators": context["incubators"].count,
            "projects": context["projects"].count,
            "platforms": len(district.listed_platforms),
            "institutions": district.n_institutions,
        }
        if context["projects"].count:
            context["stage_chart"] = draw_bar_chart(district_stage_chart(district))
        return context

    def get_queryset(self):
        published = InnovationDistrict.objects.published().annotate(
            n_institutions=count_per_district(Institution.objects.published())
        )
        return published.prefetch_related(
            "focus_fields",
            "sources",
            Prefetch("anchor_institutions", queryset=Institution.objects.published()),
            Prefetch("platforms", queryset=TransferPlatform.objects.published(), to_attr="listed_platforms"),
            Prefetch("indicators", queryset=Indicator.objects.published(), to_attr="listed_indicators"),
            Prefetch("milestones", queryset=Milestone.objects.published(), to_attr="listed_milestones"),
        )


class InstitutionListView(FacetedListView):
    filterset_class = InstitutionFilter
    csv_view_name = "api:institution-csv"
    queryset = Institution.objects.published().select_related("district", "parent").for_display()
    template_name = "districts/institution_list.html"


class InstitutionDetailView(CanonicalDetailView):
    template_name = "districts/institution_detail.html"

    def get_context_data(self, **kwargs):
        operated, hosted = incubators_run_by(self.object)
        return super().get_context_data(
            **kwargs,
            operated_incubators=operated,
            hosted_incubators=hosted,
            # A university can own thousands of projects: the page previews them and links to the list.
            projects=project_preview("institution", self.object.slug),
        )

    def get_queryset(self):
        return Institution.objects.select_related("district", "parent").prefetch_related(
            "aliases",
            "sources",
            Prefetch("children", queryset=Institution.objects.published(), to_attr="listed_children"),
            Prefetch(
                "hosted_platforms", queryset=TransferPlatform.objects.published(), to_attr="listed_hosted"
            ),
            Prefetch(
                "platform_partnerships",
                queryset=PlatformPartnership.objects.filter(
                    platform__publication_state="published"
                ).select_related("platform"),
                to_attr="listed_partnerships",
            ),
            Prefetch(
                "anchored_districts",
                queryset=InnovationDistrict.objects.published(),
                to_attr="listed_anchored",
            ),
        )
