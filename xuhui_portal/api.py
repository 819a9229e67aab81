"""The read-only JSON API's shared parts: pagination, errors, the list/detail/CSV viewset.

Each app's `api.py` declares serializers and viewsets; `xuhui_portal/api_urls.py` routes them.
Lists use the very FilterSets of the HTML pages (`<app>/filters.py`), so a filter gives the same
records on a page, in the API and in its CSV.
"""

import copy
import csv
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.fields import Field, SkipField
from rest_framework.relations import ManyRelatedField, PKOnlyObject, RelatedField
from rest_framework.settings import api_settings

from .links import LinkedTable, link_ids
from .reversing import AbsoluteRecordUrls

#: Rows fetched per database round trip while streaming a CSV.
CSV_CHUNK = 2000


class PortalFilterExtension(DjangoFilterExtension):
    """Documents filters whose choices come from the database (districts, fields, platforms).

    drf-spectacular leaves callable choices out to avoid queries at import time; our schema is
    generated per request, so listing the live values gives clients the allowed values.
    """

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        """Adds the bounds a filter enforces (years, amounts) to its documented schema."""
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        bounds = {
            "minimum": filter_field.extra.get("min_value"),
            "maximum": filter_field.extra.get("max_value"),
        }
        for parameter in parameters:
            parameter["schema"].update({key: value for key, value in bounds.items() if value is not None})
        return parameters

    def _get_explicit_filter_choices(self, filter_field):
        choices = filter_field.extra.get("choices")
        if callable(choices):
            try:
                return [value for value, _label in choices()]
            except DatabaseError:
                # No database yet (e.g. `check --deploy` before `migrate`): document the type only.
                return None
        return super()._get_explicit_filter_choices(filter_field)


class RecordLinksMixin(serializers.Serializer):
    """`url` (this record in the API) and `web_url` (its page on the portal)."""

    web_url = serializers.SerializerMethodField(help_text=_("The record's page on the portal."))

    def get_web_url(self, obj) -> str:
        request = self.context.get("request")
        with translation.override(settings.LANGUAGE_CODE):  # the canonical (Chinese) page
            path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class ReadPlanMixin(serializers.ModelSerializer):
    """A read-only model serializer that plans once what DRF works out for every request and value.

    DRF repeats two generic steps that this mixin does once. Together they took 2.7 ms of the
    API's list of 20 projects (26 fields each), 16.9 ms in one process on a 2-core machine:

    - building the fields from the model (`ModelSerializer.get_fields`: field mapping, a deep
      copy of each declared field) on every request: they are built once per class, and each
      serializer gets copies to bind;
    - finding each value (`Field.get_attribute`: a loop over the source path, a check for
      callables, exception handling): a field that reads a model column, or a foreign key's id,
      reads it straight from the record. Any other field, or a field class that finds its value
      its own way, goes through DRF as before.

    tests/test_api.py checks the output against DRF's own.
    """

    _prototype_fields: dict[type, dict] = {}

    def get_fields(self):
        prototypes = self._prototype_fields.get(type(self))
        if prototypes is None:
            prototypes = self._prototype_fields[type(self)] = super().get_fields()
        return {name: _unbound_copy(field) for name, field in prototypes.items()}

    def to_representation(self, instance):
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        reads = self.__dict__.get("_column_reads")
        if reads is None:  # fields belong to this serializer (and its request): plan once here
            reads = self._column_reads = [
                (field.field_name, self._read(field)) for field in self._readable_fields
            ]
        representation = {}
        for name, read in reads:
            value = read(instance)
            if value is not SkipField:
                representation[name] = value
        return representation

    def _read(self, field):
        """instance → the field's representation, as DRF's Serializer.to_representation makes it."""
        column, get_attribute = self._column(field), type(field).get_attribute
        if column is None:
            return _drf_read(field)
        if column.is_relation:
            if get_attribute is RelatedField.get_attribute and field.use_pk_only_optimization():
                attname, represent = column.attname, field.to_representation
                return lambda record: (
                    None if (pk := getattr(record, attname)) is None else represent(PKOnlyObject(pk))
                )
        elif get_attribute is Field.get_attribute:  # not a field class that finds values its own way
            attname = column.attname
            # The two most common field classes represent a value with a builtin.
            represent = {serializers.CharField: str, serializers.IntegerField: int}.get(
                type(field), field.to_representation
            )
            return lambda record: None if (value := getattr(record, attname)) is None else represent(value)
        return _drf_read(field)

    def _column(self, field):
        """The model's concrete field that `field` reads alone, if any."""
        if len(field.source_attrs) != 1:
            return None
        try:
            column = self.Meta.model._meta.get_field(field.source_attrs[0])
        except FieldDoesNotExist:
            return None
        return column if column.concrete and not column.many_to_many else None


def _unbound_copy(field):
    """A field of its own for one serializer, which bind() gives a name and a parent.

    A serializer or a many-relation field is copied deep, as DRF does: its child is bound to it.
    """
    if isinstance(field, serializers.BaseSerializer | ManyRelatedField):
        return copy.deepcopy(field)
    return copy.copy(field)


def _drf_read(field):
    """DRF's own way for one field: get_attribute, then to_representation unless None."""

    def read(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return SkipField
        value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if value is None else field.to_representation(attribute)

    return read


class RecordSerializer(RecordLinksMixin, ReadPlanMixin, serializers.HyperlinkedModelSerializer):
    """A directory record in the API: its links, and fields read the quick way."""


class UrlTemplateLinkMixin:
    """DRF's hyperlinks, built from a URL template per pattern (xuhui_portal/reversing.py).

    DRF reverses every link: 70 µs each, and a page of 20 projects has 80 links (itself, its
    owner, platform and district), half of the request's time. Requests that DRF would treat
    differently (a format suffix or override, API versioning) still go through DRF.
    """

    def get_url(self, obj, view_name, request, format):
        if (
            request is None
            or format
            or getattr(request, "versioning_scheme", None) is not None
            or api_settings.URL_FORMAT_OVERRIDE in request.GET
        ):
            return super().get_url(obj, view_name, request, format)
        if hasattr(obj, "pk") and obj.pk in (None, ""):
            return None
        # A field serves one request (DRF copies the declared fields for each serializer).
        urls = self.__dict__.get("_urls")
        if urls is None or urls.request is not request:
            urls = self._urls = AbsoluteRecordUrls(request)
        return urls(view_name, **{self.lookup_url_kwarg: getattr(obj, self.lookup_field)})


class RecordIdentityField(UrlTemplateLinkMixin, serializers.HyperlinkedIdentityField):
    """The record's own API URL (`url`)."""


class RecordLinkField(UrlTemplateLinkMixin, serializers.HyperlinkedRelatedField):
    """A linked record's API URL."""


def link_to(view_name: str, source: str) -> RecordLinkField:
    """The API URL of a linked record (null when there is none)."""
    return RecordLinkField(view_name=view_name, source=source, read_only=True, allow_null=True)


def link_id() -> serializers.PrimaryKeyRelatedField:
    """The id of an optional linked record (null when there is none)."""
    return serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class LinkedKeysField(serializers.Field):
    """Linked records (fields, sources) as a list of their slugs or keys, in display order,
    from the ids that `with_link_ids` puts on each record: no prefetch (xuhui_portal/links.py).
    The `table`'s first column is the key."""

    def __init__(self, relation: str, table: LinkedTable, **kwargs):
        self.relation, self.table = relation, table
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record) -> list[str]:
        return [key for key, *_others in self.table.in_order(link_ids(record, self.relation))]


def slugs(slug_field: str = "slug") -> serializers.SlugRelatedField:
    """Linked records as a list of their slugs (or keys, or names)."""
    return serializers.SlugRelatedField(slug_field=slug_field, many=True, read_only=True)


class DirectoryViewSet(viewsets.ReadOnlyModelViewSet):
    """A published list with the page's filters, its detail, and the same list as CSV."""

    csv_name = "records"

    @extend_schema(
        summary="The filtered list as CSV (UTF-8 with BOM, streamed; the same filters as the list)",
        responses={(200, "text/csv"): OpenApiResponse(description="CSV file")},
    )
    @action(detail=False, url_path="csv", pagination_class=None)
    def csv(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer_class()(context=self.get_serializer_context())
        header = list(serializer.fields)
        filename = f"{self.csv_name}-{timezone.localdate():%Y%m%d}.csv"
        response = StreamingHttpResponse(
            csv_lines(
                header, (serializer.to_representation(record) for record in queryset.iterator(CSV_CHUNK))
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class _Line:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(csv_cell(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{key}={csv_cell(item)}" for key, item in value.items())
    return str(value)


def csv_lines(header: list[str], rows) -> Iterator[str]:
    """UTF-8 BOM (so Excel reads Chinese), the header, then one line per row, lazily."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(row[name]) for name in header])
