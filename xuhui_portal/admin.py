"""The admin site's titles and the pieces every app's admin shares.

Each app registers its own models in `<app>/admin.py`; this module only holds what they have in
common: the form that makes every directory record cite a source, the district filter with an
"unknown" choice, and the standard fieldsets for publication and timestamps.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Xuhui Innovation Portal administration")
admin.site.site_title = _("Xuhui Innovation Portal")
admin.site.index_title = _("Directory records")

NO_SOURCES_MESSAGE = _(
    "Cite at least one source: every record in the directory must say where its facts come from."
)

TIMESTAMPS = ("created_at", "updated_at")

PUBLICATION_FIELDSET = (_("Publication and sources"), {"fields": ("publication_state", "sources")})
TIMESTAMPS_FIELDSET = (_("Timestamps"), {"fields": [TIMESTAMPS], "classes": ["collapse"]})


class DirectoryRecordForm(forms.ModelForm):
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


class DirectoryRecordAdmin(admin.ModelAdmin):
    """Common ground for the admins of records with a publication state and sources."""

    form = DirectoryRecordForm
    readonly_fields = TIMESTAMPS
    save_on_top = True


class DistrictFilter(admin.RelatedFieldListFilter):
    """The district facet, whose empty choice reads "District unknown" rather than a dash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = _("District unknown")


def changelist_link(viewname: str, filters: dict, count: int) -> str:
    """`count` as a link to the changelist `viewname` narrowed by `filters`."""
    return format_html('<a href="{}?{}">{}</a>', reverse(viewname), urlencode(filters), count)
