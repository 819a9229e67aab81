from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import IncubatorFilter
from .models import Incubator
from .selectors import incubator_cards, name_focus_fields


class IncubatorListView(FacetedListView):
    filterset_class = IncubatorFilter
    csv_view_name = "api:incubator-csv"
    queryset = incubator_cards()
    template_name = "incubators/incubator_list.html"

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        name_focus_fields(object_list)
        return paginator, page, object_list, is_paginated


class IncubatorDetailView(CanonicalDetailView):
    template_name = "incubators/incubator_detail.html"
    queryset = Incubator.objects.select_related("district", "operator", "host_institution").prefetch_related(
        "focus_fields", "sources"
    )
