from districts.selectors import attach_field_names
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import IncubatorFilter
from .models import Incubator


class IncubatorListView(FacetedListView):
    filterset_class = IncubatorFilter
    csv_view_name = "api:incubator-csv"
    queryset = Incubator.objects.published().for_listing().select_related("district")
    template_name = "incubators/incubator_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attach_field_names(context["object_list"], "focus_fields")
        return context


class IncubatorDetailView(CanonicalDetailView):
    template_name = "incubators/incubator_detail.html"
    queryset = Incubator.objects.select_related("district", "operator", "host_institution").prefetch_related(
        "focus_fields", "sources"
    )
