"""Import and export (CSV, XLSX) of directory records through django-import-export.

Related records are written by name, never by database id: a district by its Chinese or English
name or short name, an institution by name or any alias (复旦上医, SJTU), fields by name, sources
by key. An import runs in one transaction and is all-or-nothing: the admin shows a dry-run
preview with every new, changed and invalid row, and applies nothing while any row is invalid.
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from import_export import resources, widgets
from import_export.fields import Field

from districts.models import Source, TechField

from .models import PublicationState, SearchableRecord

#: How a district and an institution may be named in a file.
DISTRICT_LOOKUPS = ("name_zh", "name_en", "short_name_zh", "short_name_en", "slug")
INSTITUTION_LOOKUPS = ("name_zh", "name_en", "slug", "aliases__name")

#: What separates several names in one cell: ; ； 、 , ，
NAME_SEPARATORS = re.compile(r"[;；、,，]")

#: Columns that are derived, internal or set by the database: never imported or exported.
INTERNAL_FIELDS = (
    "id",
    "version",
    "created_at",
    "updated_at",
    "is_synthetic",
    "published_at",
    *SearchableRecord.SEARCH_FIELDS,
)


def _find(model, lookups: tuple[str, ...], name: str):
    query = Q()
    for lookup in lookups:
        query |= Q(**{f"{lookup}__iexact": name})
    matches = list(model._default_manager.filter(query).distinct()[:2])
    if not matches:
        raise ValueError(
            gettext("No %(model)s is called “%(name)s”.") % {"model": model._meta.verbose_name, "name": name}
        )
    if len(matches) > 1:
        raise ValueError(
            gettext("“%(name)s” names more than one %(model)s; use the full Chinese name.")
            % {"model": model._meta.verbose_name, "name": name}
        )
    return matches[0]


def split_names(value) -> list[str]:
    return [name.strip() for name in NAME_SEPARATORS.split(str(value or "")) if name.strip()]


class NameWidget(widgets.ForeignKeyWidget):
    """A link to another record, written as its name (or alias); exported as its Chinese name."""

    def __init__(self, model, lookups: tuple[str, ...]):
        super().__init__(model, field="name_zh")
        self.lookups = lookups

    def clean(self, value, row=None, **kwargs):
        name = str(value or "").strip()
        return _find(self.model, self.lookups, name) if name else None

    def render(self, value, obj=None, **kwargs):
        return value.name_zh if value else ""


class NamesWidget(widgets.ManyToManyWidget):
    """Several linked records in one cell, separated by ; or 、; `required` refuses an empty cell."""

    def __init__(self, model, lookups: tuple[str, ...], label_field: str):
        super().__init__(model, field=label_field)
        self.lookups = lookups

    def clean(self, value, row=None, **kwargs):
        return [_find(self.model, self.lookups, name) for name in split_names(value)]

    def render(self, value, obj=None, **kwargs):
        return (
            "; ".join(str(getattr(record, self.field)) for record in value.all()) if value is not None else ""
        )


def link_column(attribute: str, model, lookups: tuple[str, ...]) -> Field:
    return Field(attribute=attribute, column_name=attribute, widget=NameWidget(model, lookups))


def fields_column(attribute: str) -> Field:
    return Field(
        attribute=attribute,
        column_name=attribute,
        widget=NamesWidget(TechField, ("name_zh", "name_en", "slug"), "name_zh"),
    )


class DirectoryResource(resources.ModelResource):
    """Base of the directory's import/export resources (rows are matched by slug)."""

    sources = Field(
        attribute="sources",
        column_name="sources",
        widget=NamesWidget(Source, ("key",), "key"),
    )

    class Meta:
        import_id_fields = ("slug",)
        exclude = INTERNAL_FIELDS
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        """A file without a slug column only adds records (their slugs are made from the names)."""
        if "slug" not in (dataset.headers or []):
            dataset.append_col([""] * len(dataset), header="slug")
        super().before_import(dataset, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        """Field errors of the row, plus a missing source, reported together for the preview."""
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        cites_nothing = not split_names(row.get("sources")) if "sources" in row else not instance.pk
        if cites_nothing:
            errors.setdefault("sources", []).append(gettext("Cite at least one source (its key, e.g. S1)."))
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        """Only users who may publish choose the publication state: others import drafts."""
        user = kwargs.get("user")
        opts = instance._meta
        if user is not None and not user.has_perm(f"{opts.app_label}.publish_{opts.model_name}"):
            current = (
                type(instance)
                ._default_manager.filter(pk=instance.pk)
                .values_list("publication_state", flat=True)
            )
            instance.publication_state = (current.first() if instance.pk else None) or PublicationState.DRAFT
        super().before_save_instance(instance, row, **kwargs)
