from districts.selectors import SOURCES, TECH_FIELDS
from xuhui_portal.api import (
    DirectoryViewSet,
    LinkedKeysField,
    RecordIdentityField,
    RecordSerializer,
    link_id,
    link_to,
)
from xuhui_portal.links import with_link_ids

from .filters import IncubatorFilter
from .models import Incubator


class IncubatorSerializer(RecordSerializer):
    url = RecordIdentityField(view_name="api:incubator-detail")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    operator = link_id()
    operator_url = link_to("api:institution-detail", "operator")
    host_institution = link_id()
    host_institution_url = link_to("api:institution-detail", "host_institution")
    focus_fields = LinkedKeysField("focus_fields", TECH_FIELDS)
    sources = LinkedKeysField("sources", SOURCES)

    class Meta:
        model = Incubator
        fields = [
            "id",
            "url",
            "web_url",
            "slug",
            "name_zh",
            "name_en",
            "status",
            "recognition",
            "recognition_batch",
            "recognized_on",
            "district",
            "district_url",
            "operator",
            "operator_url",
            "host_institution",
            "host_institution_url",
            "focus_fields",
            "floor_area_m2",
            "services_zh",
            "services_en",
            "description_zh",
            "description_en",
            "sources",
            "published_at",
            "updated_at",
        ]


class IncubatorViewSet(DirectoryViewSet):
    """Incubators; filter by district (`unknown` for none), field, recognition, batch, status; `q` searches."""

    serializer_class = IncubatorSerializer
    filterset_class = IncubatorFilter
    csv_name = "incubators"
    queryset = with_link_ids(
        Incubator.objects.published()
        .for_display()
        .select_related("district", "operator", "host_institution")
        .order_by("name_zh", "pk"),
        "focus_fields",
        "sources",
    )
