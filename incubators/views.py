from districts.selectors import attach_field_names
from xuhui_portal.links import link_ids, with_link_ids
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import IncubatorFilter
from .models import Incubator


class IncubatorListView(FacetedListView):
    filterset_class = IncubatorFilter
    csv_view_name = "api:incubator-csv"
    queryset = Incubator.objects.published().for_listing().select_related("district")
    template_name = "incubators/incubator_list.html"

    def paginate_queryset(self, queryset, page_size):
        # The page's cards only: the facets count the FilterSet's own queryset.
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            with_link_ids(queryset, "focus_fields"), page_size
        )
        attach_field_names(object_list, lambda incubator: link_ids(incubator, "focus_fields"))
        return paginator, page, object_list, is_paginated


class IncubatorDetailView(CanonicalDetailView):
    template_name = "incubators/incubator_detail.html"
    queryset = Incubator.objects.select_related("district", "operator", "host_institution").prefetch_related(
        "focus_fields", "sources"
    )
