from districts.selectors import attach_field_names
from xuhui_portal.links import link_ids, with_link_ids
from xuhui_portal.views import CanonicalDetailView, FacetedListView

from .filters import IncubatorFilter
from .models import Incubator

#: The incubator columns a list card shows (name, link, status, recognition, area, district).
CARD_COLUMNS = (
    "name_zh",
    "name_en",
    "slug",
    "status",
    "recognition",
    "recognition_batch",
    "floor_area_m2",
    "district",
)


class IncubatorListView(FacetedListView):
    filterset_class = IncubatorFilter
    csv_view_name = "api:incubator-csv"
    # Only what a card shows (templates/incubators/_cards.html): whole rows cost more to read and
    # build than the rest of the query.
    queryset = (
        Incubator.objects.published()
        .select_related("district")
        .only(*CARD_COLUMNS, "district__short_name_zh", "district__short_name_en")
    )
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
