import django_filters
from rest_framework import serializers, viewsets

from xuhui_portal.api import DirectoryViewSet, RecordIdentityField, RecordSerializer, link_id, link_to, slugs
from xuhui_portal.filters import UnknownOrSlugFilter

from .filters import InstitutionFilter, district_choices
from .models import Indicator, InnovationDistrict, Institution, Milestone, Source, TechField


class DistrictSerializer(RecordSerializer):
    url = RecordIdentityField(view_name="api:district-detail")
    focus_fields = slugs()
    anchor_institutions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    sources = slugs("key")

    class Meta:
        model = InnovationDistrict
        fields = [
            "id",
            "url",
            "web_url",
            "slug",
            "name_zh",
            "name_en",
            "short_name_zh",
            "short_name_en",
            "display_order",
            "focus_fields",
            "anchor_institutions",
            "description_zh",
            "description_en",
            "sources",
            "published_at",
            "updated_at",
        ]


class DistrictViewSet(DirectoryViewSet):
    """The six innovation districts, in display order."""

    serializer_class = DistrictSerializer
    csv_name = "districts"
    filter_backends = []
    queryset = (
        InnovationDistrict.objects.published()
        .for_display()
        .prefetch_related("focus_fields", "anchor_institutions", "sources")
    )


class InstitutionSerializer(RecordSerializer):
    url = RecordIdentityField(view_name="api:institution-detail")
    parent = link_id()
    parent_url = link_to("api:institution-detail", "parent")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    aliases = slugs("name")
    sources = slugs("key")

    class Meta:
        model = Institution
        fields = [
            "id",
            "url",
            "web_url",
            "slug",
            "name_zh",
            "name_en",
            "aliases",
            "kind",
            "grade",
            "parent",
            "parent_url",
            "district",
            "district_url",
            "description_zh",
            "description_en",
            "sources",
            "published_at",
            "updated_at",
        ]


class InstitutionViewSet(DirectoryViewSet):
    """Universities, hospitals, institutes, enterprises, finance and agencies; `q` searches names and aliases."""

    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilter
    csv_name = "institutions"
    queryset = (
        Institution.objects.published()
        .for_display()
        .select_related("parent", "district")
        .prefetch_related("aliases", "sources")
        .order_by("kind", "name_zh", "pk")
    )


class IndicatorFilter(django_filters.FilterSet):
    theme = django_filters.MultipleChoiceFilter(distinct=False, choices=Indicator.Theme.choices)
    district = UnknownOrSlugFilter(relation="district", choices=district_choices)
    featured = django_filters.BooleanFilter(field_name="is_featured")

    class Meta:
        model = Indicator
        fields = ["theme", "district", "featured"]


class IndicatorSerializer(serializers.HyperlinkedModelSerializer):
    url = RecordIdentityField(view_name="api:indicator-detail")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    sources = slugs("key")
    featured = serializers.BooleanField(source="is_featured", read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "url",
            "slug",
            "name_zh",
            "name_en",
            "theme",
            "value",
            "unit",
            "qualifier",
            "period_zh",
            "period_en",
            "period_start",
            "period_end",
            "scope_zh",
            "scope_en",
            "district",
            "district_url",
            "note_zh",
            "note_en",
            "featured",
            "sources",
            "updated_at",
        ]


class IndicatorViewSet(DirectoryViewSet):
    """Headline figures from the news, each with qualifier (over, nearly …), period, scope and sources."""

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter
    csv_name = "indicators"
    queryset = Indicator.objects.published().select_related("district").prefetch_related("sources")


class MilestoneFilter(django_filters.FilterSet):
    district = UnknownOrSlugFilter(relation="district", choices=district_choices)

    class Meta:
        model = Milestone
        fields = ["district"]


class MilestoneSerializer(serializers.HyperlinkedModelSerializer):
    url = RecordIdentityField(view_name="api:milestone-detail")
    district = link_id()
    district_url = link_to("api:district-detail", "district")
    sources = slugs("key")

    class Meta:
        model = Milestone
        fields = [
            "id",
            "url",
            "occurred_on",
            "date_precision",
            "title_zh",
            "title_en",
            "description_zh",
            "description_en",
            "district",
            "district_url",
            "sources",
            "updated_at",
        ]


class MilestoneViewSet(DirectoryViewSet):
    """Dated events of the ecosystem, newest first; `date_precision` says how exact the date is."""

    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    csv_name = "milestones"
    queryset = Milestone.objects.published().select_related("district").prefetch_related("sources")


class FieldSerializer(serializers.HyperlinkedModelSerializer):
    url = RecordIdentityField(view_name="api:field-detail")

    class Meta:
        model = TechField
        fields = ["id", "url", "slug", "name_zh", "name_en", "display_order"]


class FieldViewSet(viewsets.ReadOnlyModelViewSet):
    """The technology-field taxonomy; its slugs are the values of every `field` filter."""

    serializer_class = FieldSerializer
    queryset = TechField.objects.all()
    filter_backends = []


class SourceSerializer(serializers.HyperlinkedModelSerializer):
    url = RecordIdentityField(view_name="api:source-detail")
    report_url = serializers.CharField(
        source="url", read_only=True, help_text="Where the report was published, if known."
    )

    class Meta:
        model = Source
        fields = ["id", "url", "key", "publisher", "published_on", "headline", "report_url"]


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The reports the facts come from; records cite them by `key`."""

    serializer_class = SourceSerializer
    queryset = Source.objects.all()
    filter_backends = []
