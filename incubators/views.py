from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import IncubatorFilter
from .models import Incubator
from .selectors import incubator_cards, name_focus_fields, with_focus_field_ids


class IncubatorListView(FacetedListView):
    filterset_class = IncubatorFilter
    csv_view_name = "api:incubator-csv"
    queryset = incubator_cards()
    template_name = "incubators/incubator_list.html"

    def paginate_queryset(self, queryset, page_size):
        # The page's cards only: the facets count the FilterSet's own queryset.
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            with_focus_field_ids(queryset), page_size
        )
        name_focus_fields(object_list)
        return paginator, page, object_list, is_paginated


class IncubatorDetailView(CanonicalDetailView):
    template_name = "incubators/incubator_detail.html"
    queryset = Incubator.objects.select_related("district", "operator", "host_institution").prefetch_related(
        "focus_fields", "sources"
    )
