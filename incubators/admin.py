from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xuhui_portal.admin import PUBLICATION_FIELDSET, TIMESTAMPS_FIELDSET, DirectoryRecordAdmin, DistrictFilter

from .models import Incubator


@admin.register(Incubator)
class IncubatorAdmin(DirectoryRecordAdmin):
    list_display = (
        "name_zh",
        "name_en",
        "recognition",
        "recognition_batch",
        "status",
        "district",
        "publication_state",
        "updated_at",
    )
    list_filter = (
        "publication_state",
        "status",
        "recognition",
        "recognition_batch",
        ("district", DistrictFilter),
        "focus_fields",
    )
    list_select_related = ("district",)
    search_fields = ("name_zh", "name_en", "slug")
    autocomplete_fields = ("district", "operator", "host_institution", "focus_fields", "sources")
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (
            _("Classification"),
            {"fields": ["status", ("recognition", "recognition_batch", "recognized_on"), "focus_fields"]},
        ),
        (_("Relations"), {"fields": ["district", "operator", "host_institution"]}),
        (_("Premises"), {"fields": ["floor_area_m2"]}),
        (_("Text"), {"fields": ["services_zh", "services_en", "description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )
