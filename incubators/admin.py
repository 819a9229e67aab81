from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from xuhui_portal.admin import (
    PUBLICATION_FIELDSET,
    TIMESTAMPS_FIELDSET,
    DistrictFilter,
    SearchableRecordAdmin,
    SpreadsheetMixin,
)
from xuhui_portal.roles import is_incubator_operator_only

from .models import Incubator
from .resources import IncubatorResource

#: What an incubator operator may not change: the district's recognition and who operates it.
OPERATOR_READONLY_FIELDS = ("recognition", "recognition_batch", "recognized_on", "operator_accounts")


@admin.register(Incubator)
class IncubatorAdmin(SpreadsheetMixin, SearchableRecordAdmin):
    """Incubators; an operator sees and edits only the incubators assigned to their account."""

    resource_classes = [IncubatorResource]
    list_editable = ("status",)
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
    filter_horizontal = ("operator_accounts",)
    fieldsets = (
        (_("Names"), {"fields": [("name_zh", "name_en"), "slug"]}),
        (
            _("Classification"),
            {"fields": ["status", ("recognition", "recognition_batch", "recognized_on"), "focus_fields"]},
        ),
        (_("Relations"), {"fields": ["district", "operator", "host_institution", "operator_accounts"]}),
        (_("Premises"), {"fields": ["floor_area_m2"]}),
        (_("Text"), {"fields": ["services_zh", "services_en", "description_zh", "description_en"]}),
        PUBLICATION_FIELDSET,
        TIMESTAMPS_FIELDSET,
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_incubator_operator_only(request.user):
            queryset = queryset.filter(operator_accounts=request.user)
        return queryset

    def get_object(self, request, object_id, from_field=None):
        incubator = super().get_object(request, object_id, from_field)
        if incubator is None and is_incubator_operator_only(request.user) and self._exists(object_id):
            # Someone else's incubator: refuse rather than pretend it does not exist.
            raise PermissionDenied
        return incubator

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_touch(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def _may_touch(self, request, obj) -> bool:
        """Object-level rule of the operator role (history and revert pages ask this too)."""
        if obj is None or not is_incubator_operator_only(request.user):
            return True
        return obj.operator_accounts.filter(pk=request.user.pk).exists()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if is_incubator_operator_only(request.user):
            fields.extend(OPERATOR_READONLY_FIELDS)
        return fields

    def _exists(self, object_id) -> bool:
        try:
            return self.model._default_manager.filter(pk=self.model._meta.pk.to_python(object_id)).exists()
        except ValidationError:
            return False
