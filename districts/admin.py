from functools import reduce
from operator import add

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from xuhui_portal.admin import (
    PUBLICATION_FIELDSET,
    TIMESTAMPS,
    TIMESTAMPS_FIELDSET,
    DirectoryRecordAdmin,
    DistrictFilter,
    SearchableRecordAdmin,
    SpreadsheetMixin,
    TrackedAdmin,
    TrackedInline,
    changelist_link,
)

from .models import Indicator, InnovationDistrict, Institution, InstitutionAlias, Milestone, Source, TechField
from .resources import InstitutionResource


def citation_count():
    """How many records of any kind cite the source: one correlated subquery per citing model.

    A Count() over the seven `cited_*` relations would join them all and multiply the rows.
    """
    counts = []
    for relation in Source._meta.related_objects:
        if relation.many_to_many:
            source_fk = relation.field.m2m_reverse_field_name()
            citations = (
                relation.through.objects.filter(**{source_fk: OuterRef("pk")})
                .values(source_fk)
                .annotate(n=Count("pk"))
                .values("n")
            )
            counts.append(Coalesce(Subquery(citations), 0))
    return reduce(add, counts)


@admin.register(Source)
class SourceAdmin(TrackedAdmin):
    list_display = ("key", "publisher", "published_on", "headline", "link", "citations", "updated_at")
    list_display_links = ("key", "headline")
    list_filter = ("publisher",)
    search_fields = ("key", "publisher", "headline", "url")
    date_hierarchy = "published_on"
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("key", "publisher", "published_on", "headline", "url", "note")}),
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_citations=citation_count())

    @admin.display(description=_("link"))
    def link(self, obj):
        if not obj.url:
            return None
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', obj.url, _("open")
        )

    @admin.display(description=_("citing records"), ordering="n_citations")
    def citations(self, obj):
        return obj.n_citations


@admin.register(TechField)
class TechFieldAdmin(TrackedAdmin):
    list_display = (
        "name_zh",
        "name_en",
        "slug",
        "display_order",
        "district_count",
        "incubator_count",
        "project_count",
    )
    list_editable = ("display_order",)
    search_fields = ("name_zh", "name_en", "slug")
    # Unlike directory records, a field's slug is required and never filled in for you. The English name
    # is the natural source (prepopulating from the Chinese one would give an empty slug).
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (_("Classification"), {"fields": ["display_order"]}),
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_districts=Count("districts", distinct=True),
                n_incubators=Count("incubators", distinct=True),
                n_projects=Count("projects", distinct=True),
            )
        )

    @admin.display(description=_("districts"), ordering="n_districts")
    def district_count(self, obj):
        return obj.n_districts

    @admin.display(description=_("incubators"), ordering="n_incubators")
    def incubator_count(self, obj):
        return obj.n_incubators

    @admin.display(description=_("projects"), ordering="n_projects")
    def project_count(self, obj):
        return obj.n_projects


@admin.register(InnovationDistrict)
class InnovationDistrictAdmin(SearchableRecordAdmin):
    list_display = (
        "display_order",
        "name_zh",
        "short_name_zh",
        "name_en",
        "institution_count",
        "incubator_count",
        "project_count",
        "publication_state",
        "updated_at",
    )
    list_display_links = ("name_zh",)
    list_filter = ("publication_state", "focus_fields")
    search_fields = ("name_zh", "name_en", "short_name_zh", "short_name_en", "slug")
    autocomplete_fields = ("focus_fields", "anchor_institutions", "sources")
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), ("short_name_zh", "short_name_en"), "slug"]}),
        (_("Classification"), {"fields": ["display_order", "focus_fields"]}),
        (_("Relations"), {"fields": ["anchor_institutions"]}),
        (_("Text"), {"fields": ["description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_institutions=Count("institutions", distinct=True),
                n_incubators=Count("incubators", distinct=True),
                n_projects=Count("projects", distinct=True),
            )
        )

    @admin.display(description=_("institutions"), ordering="n_institutions")
    def institution_count(self, obj):
        return changelist_link(
            "admin:districts_institution_changelist", {"district__id__exact": obj.pk}, obj.n_institutions
        )

    @admin.display(description=_("incubators"), ordering="n_incubators")
    def incubator_count(self, obj):
        return changelist_link(
            "admin:incubators_incubator_changelist", {"district__id__exact": obj.pk}, obj.n_incubators
        )

    @admin.display(description=_("transfer projects"), ordering="n_projects")
    def project_count(self, obj):
        return changelist_link(
            "admin:transfers_transferproject_changelist", {"district__id__exact": obj.pk}, obj.n_projects
        )


class InstitutionAliasInline(TrackedInline):
    model = InstitutionAlias
    fields = ("name", "version")


@admin.register(Institution)
class InstitutionAdmin(SpreadsheetMixin, SearchableRecordAdmin):
    resource_classes = [InstitutionResource]
    list_display = (
        "name_zh",
        "name_en",
        "kind",
        "district",
        "parent",
        "alias_list",
        "publication_state",
        "updated_at",
    )
    list_filter = ("publication_state", "kind", "grade", ("district", DistrictFilter))
    list_select_related = ("district", "parent")
    search_fields = ("name_zh", "name_en", "slug", "aliases__name")
    autocomplete_fields = ("parent", "district", "sources")
    inlines = (InstitutionAliasInline,)
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (_("Classification"), {"fields": [("kind", "grade")]}),
        (_("Relations"), {"fields": ["parent", "district"]}),
        (_("Text"), {"fields": ["description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description=_("aliases"))
    def alias_list(self, obj):
        return ", ".join(alias.name for alias in obj.aliases.all()) or None


@admin.register(InstitutionAlias)
class InstitutionAliasAdmin(TrackedAdmin):
    list_display = ("name", "institution", "updated_at")
    list_select_related = ("institution",)
    search_fields = ("name", "institution__name_zh", "institution__name_en")
    autocomplete_fields = ("institution",)
    readonly_fields = TIMESTAMPS
    fieldsets = ((None, {"fields": ["name", "institution"]}), TIMESTAMPS_FIELDSET)


@admin.register(Indicator)
class IndicatorAdmin(DirectoryRecordAdmin):
    list_display = ("name_zh", "theme", "figure", "period_zh", "district", "publication_state", "updated_at")
    list_filter = ("publication_state", "theme", "unit", ("district", DistrictFilter))
    list_select_related = ("district",)
    search_fields = ("name_zh", "name_en", "slug", "period_zh", "scope_zh")
    autocomplete_fields = ("district", "sources")
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (_("Classification"), {"fields": [("theme", "display_order")]}),
        (_("Figure"), {"fields": [("qualifier", "value", "unit")]}),
        (
            _("Period and scope"),
            {
                "fields": [
                    ("period_zh", "period_en"),
                    ("period_start", "period_end"),
                    ("scope_zh", "scope_en"),
                ]
            },
        ),
        (_("Relations"), {"fields": ["district"]}),
        (_("Text"), {"fields": ["note_zh", "note_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    @admin.display(description=_("figure"), ordering="value")
    def figure(self, obj):
        qualifier = "" if obj.qualifier == Indicator.Qualifier.EXACT else f"{obj.get_qualifier_display()} "
        return f"{qualifier}{obj.value.normalize():f} {obj.get_unit_display()}"


@admin.register(Milestone)
class MilestoneAdmin(DirectoryRecordAdmin):
    list_display = ("when", "title_zh", "title_en", "district", "publication_state", "updated_at")
    list_display_links = ("when", "title_zh")
    list_filter = ("publication_state", "date_precision", ("district", DistrictFilter))
    list_select_related = ("district",)
    search_fields = ("title_zh", "title_en")
    autocomplete_fields = ("district", "sources")
    date_hierarchy = "occurred_on"
    fieldsets = (
        (_("Title"), {"fields": [("title_zh", "title_en")]}),
        (_("Date"), {"fields": [("occurred_on", "date_precision")]}),
        (_("Relations"), {"fields": ["district"]}),
        (_("Text"), {"fields": ["description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    @admin.display(description=_("date"), ordering="occurred_on")
    def when(self, obj):
        return obj.display_date
