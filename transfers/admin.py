from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from xuhui_portal.admin import (
    PUBLICATION_FIELDSET,
    TIMESTAMPS,
    TIMESTAMPS_FIELDSET,
    DistrictFilter,
    SearchableRecordAdmin,
    SpreadsheetMixin,
    TrackedAdmin,
    TrackedInline,
    changelist_link,
)

from .models import PlatformPartnership, TransferPlatform, TransferProject
from .resources import TransferProjectResource


class PlatformPartnershipInline(TrackedInline):
    model = PlatformPartnership
    fields = ("institution", "role", "version")
    autocomplete_fields = ("institution",)


@admin.register(TransferPlatform)
class TransferPlatformAdmin(SearchableRecordAdmin):
    list_display = (
        "name_zh",
        "name_en",
        "kind",
        "parent",
        "district",
        "partner_count",
        "project_count",
        "publication_state",
        "updated_at",
    )
    list_filter = ("publication_state", "kind", ("district", DistrictFilter))
    list_select_related = ("parent", "district")
    search_fields = ("name_zh", "name_en", "slug")
    autocomplete_fields = ("parent", "district", "host_institutions", "sources")
    inlines = (PlatformPartnershipInline,)
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (_("Classification"), {"fields": ["kind", ("established_year", "area_m2")]}),
        (_("Relations"), {"fields": ["parent", "district", "host_institutions"]}),
        (_("Text"), {"fields": ["description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_partners=Count("partnerships", distinct=True),
                n_projects=Count("projects", distinct=True),
            )
        )

    @admin.display(description=_("partners"), ordering="n_partners")
    def partner_count(self, obj):
        return obj.n_partners

    @admin.display(description=_("transfer projects"), ordering="n_projects")
    def project_count(self, obj):
        return changelist_link(
            "admin:transfers_transferproject_changelist", {"platform__id__exact": obj.pk}, obj.n_projects
        )


@admin.register(PlatformPartnership)
class PlatformPartnershipAdmin(TrackedAdmin):
    list_display = ("institution", "role", "platform", "updated_at")
    list_filter = ("role", "platform")
    list_select_related = ("institution", "platform")
    search_fields = ("institution__name_zh", "institution__name_en", "platform__name_zh", "platform__name_en")
    autocomplete_fields = ("platform", "institution")
    readonly_fields = TIMESTAMPS
    fieldsets = ((None, {"fields": ["platform", "institution", "role"]}), TIMESTAMPS_FIELDSET)


@admin.register(TransferProject)
class TransferProjectAdmin(SpreadsheetMixin, SearchableRecordAdmin):
    resource_classes = [TransferProjectResource]
    list_display = (
        "name_zh",
        "stage",
        "transfer_mode",
        "year",
        "amount",
        "platform",
        "district",
        "publication_state",
        "updated_at",
    )
    list_filter = (
        "publication_state",
        "stage",
        "transfer_mode",
        "year",
        ("district", DistrictFilter),
        "platform",
        "fields",
    )
    list_select_related = ("platform", "district")
    # Found by the portal's search (names, summaries, team lead) and by the owner institution's.
    search_fields = ("name_zh", "name_en", "slug", "team_lead", "owner_institution__name_zh")
    search_related = ("owner_institution",)
    autocomplete_fields = ("owner_institution", "platform", "district", "fields", "sources")
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (_("Classification"), {"fields": [("stage", "transfer_mode", "year"), "fields"]}),
        (_("Relations"), {"fields": ["owner_institution", "team_lead", "platform", "district"]}),
        (_("Money"), {"fields": [("transfer_amount_wan", "financing_wan", "ip_pledge_wan")]}),
        (_("Text"), {"fields": ["summary_zh", "summary_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    @admin.display(
        description=_("transfer amount (万元)"),
        ordering="transfer_amount_wan",
        empty_value=_("not disclosed"),
    )
    def amount(self, obj):
        return obj.transfer_amount_wan
