from rest_framework import serializers

from districts.selectors import SOURCES, TECH_FIELDS
from xuhui_portal.api import (
    DirectoryViewSet,
    LinkedKeysField,
    RecordIdentityField,
    RecordSerializer,
    link_id,
    link_to,
    slugs,
)
from xuhui_portal.links import with_link_ids

from .filters import PlatformFilter, ProjectFilter
from .models import PlatformPartnership, TransferPlatform, TransferProject


class PartnerSerializer(serializers.ModelSerializer):
    institution_url = link_to("api:institution-detail", "institution")

    class Meta:
        model = PlatformPartnership
        fields = ["institution", "institution_url", "role"]


class PlatformSerializer(RecordSerializer):
    url = RecordIdentityField(view_name="api:platform-detail")
    parent = link_id()
    parent_url = link_to("api:platform-detail", "parent")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    host_institutions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    partners = PartnerSerializer(source="partnerships", many=True, read_only=True)
    sources = slugs("key")

    class Meta:
        model = TransferPlatform
        fields = [
            "id",
            "url",
            "web_url",
            "slug",
            "name_zh",
            "name_en",
            "kind",
            "parent",
            "parent_url",
            "district",
            "district_url",
            "host_institutions",
            "partners",
            "area_m2",
            "established_year",
            "description_zh",
            "description_en",
            "sources",
            "published_at",
            "updated_at",
        ]


class PlatformViewSet(DirectoryViewSet):
    """The transfer service centre, the TTO “1+N” hub and its centres, with hosts and partners by role."""

    serializer_class = PlatformSerializer
    filterset_class = PlatformFilter
    csv_name = "platforms"
    queryset = (
        TransferPlatform.objects.published()
        .for_display()
        .select_related("parent", "district")
        .prefetch_related("host_institutions", "partnerships", "sources")
        .order_by("kind", "pk")
    )


class ProjectSerializer(RecordSerializer):
    url = RecordIdentityField(view_name="api:project-detail")
    owner_institution = link_id()
    owner_institution_url = link_to("api:institution-detail", "owner_institution")
    platform = link_id()
    platform_url = link_to("api:platform-detail", "platform")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    fields = LinkedKeysField("fields", TECH_FIELDS)
    sources = LinkedKeysField("sources", SOURCES)

    class Meta:
        model = TransferProject
        fields = [
            "id",
            "url",
            "web_url",
            "slug",
            "name_zh",
            "name_en",
            "summary_zh",
            "summary_en",
            "team_lead",
            "stage",
            "transfer_mode",
            "year",
            "transfer_amount_wan",
            "financing_wan",
            "ip_pledge_wan",
            "owner_institution",
            "owner_institution_url",
            "platform",
            "platform_url",
            "district",
            "district_url",
            "fields",
            "sources",
            "published_at",
            "updated_at",
        ]


class ProjectViewSet(DirectoryViewSet):
    """Transfer projects. Amounts are in 万元 (10,000 yuan); null means not disclosed, not zero."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    csv_name = "projects"
    # No select_related: links to the owner, platform and district need only their ids, which
    # DRF reads from the project's own columns. Fields and sources come with the rows.
    queryset = with_link_ids(TransferProject.objects.published().for_display(), "fields", "sources")
