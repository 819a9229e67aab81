"""What every app's admin shares: history, no lost updates, publication rights, sources.

Each app registers its own models in `<app>/admin.py` on these bases:

- `TrackedAdmin` (every model): full history with revert (django-simple-history), a restore
  page for deleted records, and optimistic locking (django-concurrency) in the change form,
  in list_editable and in actions. A save based on an outdated version is refused with a
  message naming who changed which fields; the form keeps the editor's input.
- `DirectoryRecordAdmin` (records with a publication state and sources): only users with the
  model's "publish" permission may publish or unpublish; every record must cite a source.
- `SearchableRecordAdmin` (records the site's search finds): the admin searches as the site does.
"""

from urllib.parse import urlencode

from concurrency.admin import ConcurrencyListEditableMixin
from concurrency.exceptions import RecordModifiedError
from concurrency.forms import ConcurrentForm, get_signer
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, router, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_m2m_reverse_field_name

from .models import PublicationState
from .search import search_queryset

NO_SOURCES_MESSAGE = _(
    "Cite at least one source: every record in the directory must say where its facts come from."
)

TIMESTAMPS = ("created_at", "updated_at")

PUBLICATION_FIELDSET = (_("Publication and sources"), {"fields": ("publication_state", "sources")})
# The version travels as a hidden field: it is what makes a save based on old data fail.
TIMESTAMPS_FIELDSET = (_("Timestamps"), {"fields": [TIMESTAMPS, "version"], "classes": ["collapse"]})


def conflict_message(instance, seen_version: int) -> str:
    """Who changed `instance` after `seen_version`, which fields, and when."""
    history = instance.history.all()
    newer = list(
        history.filter(version__gt=seen_version).select_related("history_user").order_by("history_date")
    )
    base = history.filter(version=seen_version).order_by("-history_date").first()
    changed: list[str] = []
    if newer and base is not None:
        for change in newer[-1].diff_against(base, excluded_fields=["version", "updated_at"]).changes:
            label = str(capfirst(instance._meta.get_field(change.field).verbose_name))
            if label not in changed:
                changed.append(label)
    editors = sorted({str(record.history_user or gettext("an unknown user")) for record in newer})
    when = date_format(timezone.localtime(newer[-1].history_date), "DATETIME_FORMAT") if newer else ""
    return gettext(
        "This record was changed by %(editors)s (%(when)s) while you were editing it. Changed: %(fields)s. "
        "Nothing was saved and your input is kept below: compare it with the current record, "
        "then save again to apply your version."
    ) % {
        "editors": ", ".join(editors) or gettext("another user"),
        "when": when,
        "fields": ", ".join(changed) or gettext("related records"),
    }


class TrackedForm(ConcurrentForm):
    """Refuses to save over a version the editor has not seen, and says what changed."""

    def clean(self):
        cleaned_data = forms.ModelForm.clean(self)
        if not self.instance.pk or "version" not in self.fields:
            return cleaned_data
        seen = cleaned_data.get("version")
        current = self._current_version()
        if current is None:
            raise ValidationError(gettext("This record was deleted while you were editing it."))
        if seen is not None and int(seen) != current:
            # The next submit carries the current version: saving again is a deliberate choice.
            self.data = self.data.copy()
            self.data[self.add_prefix("version")] = get_signer().sign(current)
            raise ValidationError(conflict_message(self.instance, int(seen)), code="record_modified")
        return cleaned_data

    def _current_version(self) -> int | None:
        rows = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        if connection.in_atomic_block and connection.features.has_select_for_update:
            # Held until the save commits: no one can slip in between this check and the UPDATE.
            rows = rows.select_for_update()
        return rows.values_list("version", flat=True).first()


class DirectoryRecordForm(TrackedForm):
    """Admin form for a record that cites sources: it refuses to save one that cites none."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "sources" in self.fields:
            # Checked in clean() instead, with a message that says why.
            self.fields["sources"].required = False

    def clean(self):
        cleaned_data = super().clean()
        if "sources" in self.fields and "sources" not in self.errors and not cleaned_data.get("sources"):
            self.add_error("sources", NO_SOURCES_MESSAGE)
        return cleaned_data


class TrackedInline(admin.TabularInline):
    """Inline rows are versioned too: a row changed meanwhile is refused like its record."""

    form = TrackedForm
    extra = 1


class TrackedAdmin(SimpleHistoryAdmin, ConcurrencyListEditableMixin, admin.ModelAdmin):
    form = TrackedForm
    readonly_fields = TIMESTAMPS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and self._is_revert(request):
            # A revert page shows an old version's values; saving it is a deliberate change of
            # the *current* record, so it carries the current version (and conflicts like any
            # other form if someone saves meanwhile).
            current = self.model._default_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
            obj.version = obj.version if current is None else current
        return super().get_form(request, obj, change, **kwargs)

    @staticmethod
    def _is_revert(request) -> bool:
        match = request.resolver_match
        return match is not None and (match.url_name or "").endswith("_simple_history")

    # -- actions act only on the versions the user saw ----------------------------------------

    def action_checkbox(self, obj):
        """The row's checkbox carries "pk,version": an action refuses rows changed since."""
        attrs = {
            "class": "action-select",
            "aria-label": format_html(gettext("Select this object for an action - {}"), str(obj)),
        }
        checkbox = forms.CheckboxInput(attrs, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, f"{obj.pk},{obj.version}")

    def response_action(self, request, queryset, **kwargs):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        seen = dict(value.split(",", 1) for value in selected if "," in value)
        if seen:
            current = {
                str(pk): str(version)
                for pk, version in self.model._default_manager.filter(pk__in=list(seen)).values_list(
                    "pk", "version"
                )
            }
            stale = sorted(pk for pk, version in seen.items() if current.get(pk) != version)
            if stale:
                self.message_user(
                    request,
                    gettext(
                        "Nothing was done: %(count)d of the selected records changed since you loaded this "
                        "list. Reload it, check the changes, and try again."
                    )
                    % {"count": len(stale)},
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.get_full_path())
            data = request.POST.copy()
            data.setlist(helpers.ACTION_CHECKBOX_NAME, [value.split(",", 1)[0] for value in selected])
            request.POST = data
        return super().response_action(request, queryset, **kwargs)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super()._changeform_view(request, object_id, form_url, extra_context)
        except RecordModifiedError:
            # Someone saved between our check and our UPDATE (possible where rows cannot be
            # locked, e.g. SQLite). Validating again shows the conflict with the input kept.
            return super()._changeform_view(request, object_id, form_url, extra_context)

    # -- restoring deleted records ------------------------------------------------------------

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("deleted/", self.admin_site.admin_view(self.deleted_view), name=f"{name}_deleted"),
            path(
                "deleted/<int:history_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name=f"{name}_restore",
            ),
            *super().get_urls(),
        ]

    def deleted_records(self):
        """The last history entry of every deleted record that has not come back since."""
        history = self.model.history.model
        existing = self.model._default_manager.values("pk")
        return (
            history.objects.filter(history_type="-")
            .exclude(**{f"{self.model._meta.pk.attname}__in": existing})
            .select_related("history_user")
            .order_by("-history_date")
        )

    def deleted_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Deleted %(name)s") % {"name": self.model._meta.verbose_name_plural},
            "records": self.deleted_records()[:200],
        }
        return TemplateResponse(request, "admin/deleted_records.html", context)

    def restore_view(self, request, history_id):
        if not self.has_add_permission(request) or request.method != "POST":
            raise PermissionDenied
        record = get_object_or_404(self.deleted_records(), history_id=history_id)
        with transaction.atomic(using=router.db_for_write(self.model)):
            restored = record.instance
            restored.version = 0
            restored.save(force_insert=True)
            # The deletion entry is written after the links are gone; the one before has them.
            last_state = record.prev_record or record
            for field in record._history_m2m_fields:
                target = get_m2m_reverse_field_name(field)
                ids = [getattr(row, f"{target}_id") for row in getattr(last_state, field.name).all()]
                getattr(restored, field.name).set(ids)
        self.log_addition(request, restored, [{"added": {}}])
        messages.success(request, gettext("“%(record)s” was restored.") % {"record": restored})
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[restored.pk]))


class DirectoryRecordAdmin(TrackedAdmin):
    """Admin of a record with a publication state and sources."""

    form = DirectoryRecordForm
    save_on_top = True
    actions = ["publish", "unpublish"]

    def has_publish_permission(self, request) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            fields.append("publication_state")
        return fields

    def save_model(self, request, obj, form, change):
        if not change and not self.has_publish_permission(request):
            obj.publication_state = PublicationState.DRAFT
        super().save_model(request, obj, form, change)

    @admin.action(permissions=["publish"], description=_("Publish the selected records"))
    def publish(self, request, queryset):
        self._set_publication(request, queryset, PublicationState.PUBLISHED)

    @admin.action(permissions=["publish"], description=_("Unpublish the selected records"))
    def unpublish(self, request, queryset):
        self._set_publication(request, queryset, PublicationState.DRAFT)

    def _set_publication(self, request, queryset, state: str) -> None:
        changed = 0
        for record in queryset:
            if record.publication_state != state:
                record.publication_state = state
                # A versioned save, recorded in the history under the reviewer's name.
                record.save(update_fields=["publication_state", "updated_at", "version"])
                changed += 1
        self.message_user(
            request,
            gettext("%(count)d record(s) changed to “%(state)s”.")
            % {"count": changed, "state": PublicationState(state).label},
            messages.SUCCESS,
        )


class SearchableRecordAdmin(DirectoryRecordAdmin):
    """Admin of a record the portal's search finds: the admin's search is that search.

    Django's own search tests `icontains` on every search field: over 100,000 projects a scan
    of the whole table that knows no Traditional characters (the changelist searched for a
    2-character term in 450 ms). The portal's search (xuhui_portal/search.py) reads the word
    index on PostgreSQL (190 ms, bench/admin_lists.py), and puts matches in names first unless
    the list is sorted by a column. `search_fields` stays declared: it shows the search box, and
    says what the search columns hold.
    """

    search_help_text = _(
        "Names and texts, as on the public pages: Chinese in Simplified or Traditional, "
        "English words by their beginning. Matches in names come first."
    )
    #: Relations to searchable records whose match brings the record into the results.
    search_related: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = search_queryset(queryset, search_term, related=self.search_related)
        if ORDER_VAR not in request.GET:
            found = found.order_by("-search_rank", *queryset.query.order_by)
        return found, False


class SpreadsheetMixin(ImportExportMixin):
    """Import (with a dry-run preview) and export of the filtered list, as CSV or XLSX."""

    import_formats = [base_formats.CSV, base_formats.XLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    # All or nothing: one invalid row rolls back the valid ones too.
    rollback_on_validation_errors = True


class DistrictFilter(admin.RelatedFieldListFilter):
    """The district facet, whose empty choice reads "District unknown" rather than a dash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = _("District unknown")


def changelist_link(viewname: str, filters: dict, count: int) -> str:
    """`count` as a link to the changelist `viewname` narrowed by `filters`."""
    return format_html('<a href="{}?{}">{}</a>', reverse(viewname), urlencode(filters), count)
