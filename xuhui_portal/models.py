"""Abstract bases shared by the directory's models, and the content version with its log of project changes."""

import threading
import time
from collections.abc import Callable, Collection, Hashable
from typing import TypeVar

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .slugs import unique_slug

T = TypeVar("T")


def validate_no_parent_loop(record: models.Model) -> None:
    """Refuse a `parent` that would make the record, through its parents, part of itself."""
    seen = {record.pk}
    parent = record.parent
    while parent is not None:
        if parent.pk in seen:
            raise ValidationError(
                {"parent": _("This parent would make a loop: a record cannot contain itself.")}
            )
        seen.add(parent.pk)
        parent = parent.parent


class TrackedModel(models.Model):
    """Base of every editable model: timestamps, and a version that prevents lost updates.

    Saving checks the version the editor loaded (UPDATE … WHERE version = loaded): when someone
    else saved in between, the save raises RecordModifiedError instead of overwriting.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = AutoIncVersionField(verbose_name=_("version"))

    class Meta:
        abstract = True


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


def choice_label(choices: type[models.Choices], value) -> str:
    """The label of `value` in `choices`, or `value` itself when it is none of them.

    What Django's get_<field>_display() returns, without the dict of every choice that it builds
    on each call: list pages ask for labels on every card (0.7 ms a page of projects).
    """
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class Bilingual:
    """Bilingual text lives in `<field>_zh` / `<field>_en` pairs; Chinese is always filled in."""

    def localized(self, field: str) -> str:
        """The English value when English is active and it is filled in, else the Chinese one."""
        language = get_language() or settings.LANGUAGE_CODE
        if language.startswith("en"):
            english = getattr(self, f"{field}_en", "")
            if english:
                return english
        return getattr(self, f"{field}_zh")


class SluggedMixin:
    """Fills an empty `slug` from `name_en`, else the pinyin of `name_zh`, and keeps it on renames.

    Filled in clean() as well as save(), because full_clean() checks the non-empty-slug
    constraint before save() runs.
    """

    #: The slug as the database holds it (None for a record not read from it, or read without it).
    stored_slug: str | None = None

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        record = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        record.stored_slug = record.__dict__.get("slug")
        return record

    def save(self, *args, **kwargs):
        self.fill_slug()
        super().save(*args, **kwargs)
        self.stored_slug = self.slug

    def clean(self):
        super().clean()
        self.fill_slug()

    def fill_slug(self) -> None:
        if not self.slug:
            self.slug = unique_slug(self, self.name_en, self.name_zh)


class DirectoryQuerySet(models.QuerySet):
    def published(self):
        return self.filter(publication_state=PublicationState.PUBLISHED)

    def for_display(self):
        """Without the search columns, of these records and of those selected with them: no page
        shows them, and they are most of a row's size."""
        related = self.query.select_related
        paths = [""] + [f"{name}__" for name in related] if isinstance(related, dict) else [""]
        model_at = {"": self.model}
        for name in paths[1:]:
            model_at[name] = self.model._meta.get_field(name[:-2]).related_model
        deferred = [
            path + column
            for path in paths
            if issubclass(model_at[path], SearchableRecord)
            for column in SearchableRecord.SEARCH_FIELDS
        ]
        return self.defer(*deferred) if deferred else self


class DirectoryRecord(Bilingual, TrackedModel):
    """A record of the public directory: it has a publication state and cites its sources."""

    publication_state = models.CharField(
        _("publication state"),
        max_length=16,
        choices=PublicationState,
        default=PublicationState.DRAFT,
        db_index=True,
    )
    published_at = models.DateTimeField(
        _("first published"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when the record is first published; feeds list records by it."),
    )
    sources = models.ManyToManyField(
        "districts.Source",
        verbose_name=_("sources"),
        related_name="cited_%(class)s",
        help_text=_("The reports this record's facts come from."),
    )

    objects = DirectoryQuerySet.as_manager()

    class Meta:
        abstract = True
        # "publish" is given to reviewers only: editors may change records but not make them public.
        default_permissions = ("add", "change", "delete", "view", "publish")
        constraints = [
            models.CheckConstraint(
                condition=Q(publication_state__in=PublicationState.values),
                name="%(app_label)s_%(class)s_publication_state_valid",
            ),
        ]

    def save(self, *args, **kwargs):
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.publication_state == PublicationState.PUBLISHED


class NamedRecord(SluggedMixin, DirectoryRecord):
    """A directory record with a bilingual name and a unique ASCII slug that survives renames.

    The slug is made once, from the English name or the pinyin of the Chinese one, and is not
    regenerated when the record is renamed, so links to it keep working.
    """

    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        blank=True,
        help_text=_("ASCII, used in links. Left empty, it is made from the English name or the pinyin."),
    )

    class Meta(DirectoryRecord.Meta):
        abstract = True
        constraints = [
            *DirectoryRecord.Meta.constraints,
            models.CheckConstraint(condition=~Q(slug=""), name="%(app_label)s_%(class)s_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def name(self) -> str:
        return self.localized("name")


#: Columns derived from a record's text for the search (see search.py).
SEARCH_FIELDS = ("search_title", "search_text", "search_document")


def tracked_history(*m2m_fields: str, searchable: bool = False) -> HistoricalRecords:
    """Full history of a model (who, when, old and new values), many-to-many links included.

    The derived search columns of searchable models are left out: they follow from the rest.
    """
    return HistoricalRecords(
        excluded_fields=list(SEARCH_FIELDS) if searchable else [], m2m_fields=list(m2m_fields)
    )


class SearchableRecord(NamedRecord):
    """A named record found by the site's search (see xuhui_portal/search.py).

    The three search columns are derived from the record's own text on every save; records
    loaded raw (fixtures, bulk inserts) get them from `rebuild_search()`.
    """

    is_synthetic = models.BooleanField(
        _("synthetic"),
        default=False,
        editable=False,
        help_text=_("Made by generate_demo_data for load tests; not a real record."),
    )
    search_title = models.TextField(editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    search_document = models.TextField(editable=False, default="")

    SEARCH_FIELDS = SEARCH_FIELDS

    class Meta(NamedRecord.Meta):
        abstract = True

    def save(self, *args, **kwargs):
        self.fill_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *self.SEARCH_FIELDS}
        super().save(*args, **kwargs)

    def search_parts(self) -> tuple[list[str], list[str]]:
        """(title texts, body texts): names rank above descriptions. Models add their own."""
        return [self.name_zh, self.name_en, self.slug], []

    def fill_search_fields(self) -> None:
        from .search import search_fields_values

        for field, value in search_fields_values(*self.search_parts()).items():
            setattr(self, field, value)

    def refresh_search(self) -> None:
        """Recompute and store the search columns alone (after a related change, e.g. an alias)."""
        self.fill_search_fields()
        type(self)._default_manager.filter(pk=self.pk).update(
            **{field: getattr(self, field) for field in self.SEARCH_FIELDS}
        )

    @classmethod
    def rebuild_search(cls, batch_size: int = 1000) -> int:
        """Recompute the search columns of every row in batches; returns the number of rows."""
        queryset = cls._default_manager.order_by("pk")
        if hasattr(cls, "search_prefetch"):
            queryset = queryset.prefetch_related(*cls.search_prefetch)
        batch, total = [], 0
        for record in queryset.iterator(chunk_size=batch_size):
            record.fill_search_fields()
            batch.append(record)
            if len(batch) == batch_size:
                cls._default_manager.bulk_update(batch, cls.SEARCH_FIELDS)
                total += len(batch)
                batch = []
        if batch:
            cls._default_manager.bulk_update(batch, cls.SEARCH_FIELDS)
            total += len(batch)
        return total


class ContentVersion(models.Model):
    """Rows whose value changes, in the writing transaction, whenever directory content changes.

    In-process indexes and caches read them on each request and recompute when a value differs
    from the one they were computed at, so every worker and server sees a change as soon as it
    is committed. Values are unique (nanosecond clock), so a restored backup also differs.

    Row `ROW` changes with any directory content. Row `PROJECTS_ROW` changes only with what the
    project index is built from (transfers/project_index.py, `BUILT_FROM`): rebuilding it takes
    seconds at 100k projects, and an incubator's or an indicator's edit leaves it as it is.
    """

    ROW = 1
    PROJECTS_ROW = 2

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("content version")

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def current(cls, using: str | None = None) -> int:
        """The committed version of all content; read once per request (and on every call
        outside requests)."""
        return cls._values(using)[cls.ROW]

    @classmethod
    def of_projects(cls, using: str | None = None, fresh: bool = False) -> int:
        """The committed version of what the project index is built from (same read; a new
        one when `fresh`)."""
        values = cls._read(using or DEFAULT_DB_ALIAS) if fresh else cls._values(using)
        return values[cls.PROJECTS_ROW]

    @classmethod
    def _values(cls, using: str | None) -> dict[int, int]:
        using = using or DEFAULT_DB_ALIAS
        seen = getattr(_request_versions, "seen", None)
        if seen is not None and using in seen:
            return seen[using]
        values = cls._read(using)
        if seen is not None:
            seen[using] = values
        return values

    @classmethod
    def _read(cls, using: str) -> dict[int, int]:
        """Both rows in one query, through a plain cursor: every request pays for this read, and
        the ORM's query building cost more than the query itself (0.45 ms against 0.18 ms).

        Until projects first change after the row was introduced (or in a backup from before),
        the projects' version is the general one: never older than the content it stands for.
        """
        connection = connections[using]
        table, value = connection.ops.quote_name(cls._meta.db_table), connection.ops.quote_name("value")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {value} FROM {table} WHERE id IN (%s, %s)", [cls.ROW, cls.PROJECTS_ROW]
            )
            values = dict(cursor.fetchall())
        general = values.get(cls.ROW, 0)
        return {cls.ROW: general, cls.PROJECTS_ROW: values.get(cls.PROJECTS_ROW, general)}

    @classmethod
    def bump(
        cls, using: str | None = None, projects: bool = True, project_ids: Collection[int] | None = None
    ) -> None:
        """New versions: of all content, and of the projects' too when `projects`.

        A new projects' version is logged (ProjectIndexChange) with the projects it is about,
        `project_ids`, or as a change to anything the index reads when they are not known.
        """
        value = time.time_ns()
        rows = [cls.ROW, cls.PROJECTS_ROW] if projects else [cls.ROW]
        # The update locks the rows until the transaction ends: the log's ids below are therefore
        # handed out in the order the changes commit.
        if cls.objects.using(using).filter(pk__in=rows).update(value=value) < len(rows):
            for row in rows:
                cls.objects.using(using).update_or_create(pk=row, defaults={"value": value})
        if projects:
            ProjectIndexChange.log(using, value, project_ids)
        forget_request_versions()


class ProjectIndexChange(models.Model):
    """One change to what the project index is built from, in commit order (by id).

    Lets each process bring its index up to date by reading only the projects that changed since
    (transfers/project_index.py) instead of all of them. `project_id` is empty when the change
    may touch anything the index reads (a field, a district, a bulk load): the index is rebuilt.
    One row per changed project and save: a few per edit, none for other content. A change that
    rebuilds every index clears the rows before it: no index can be patched across it.
    """

    version = models.BigIntegerField()
    project_id = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = _("project index change")

    def __str__(self) -> str:
        return f"{self.version}: {self.project_id or '*'}"

    @classmethod
    def log(cls, using: str | None, version: int, project_ids: Collection[int] | None) -> None:
        ids = sorted(set(project_ids)) if project_ids else [None]
        logged = cls.objects.using(using).bulk_create([cls(version=version, project_id=pk) for pk in ids])
        if ids == [None] and logged[0].pk is not None:
            # Earlier rows are all committed: the version row's lock orders the writers.
            cls.objects.using(using).filter(pk__lt=logged[0].pk).delete()

    @classmethod
    def since(cls, using: str, first_id: int, limit: int) -> list[tuple[int, int, int | None]]:
        """(id, version, project_id) of the first `limit` changes from `first_id` on, in commit order."""
        changes = cls.objects.using(using).filter(pk__gte=first_id).order_by("pk")
        return list(changes.values_list("pk", "version", "project_id")[:limit])

    @classmethod
    def last_id(cls, using: str) -> int:
        return cls.objects.using(using).order_by("-pk").values_list("pk", flat=True).first() or 0


class PerContentVersion:
    """Values computed from the database and kept in the process until content changes.

    Each value is kept per database and key with the content version it was computed at. The
    version is read once per request, so an edit shows on the next request in every worker.
    """

    def __init__(self):
        self._held: dict[tuple, tuple[int, object]] = {}
        self._lock = threading.Lock()

    def get(self, using: str, key: Hashable, compute: Callable[[], T]) -> T:
        version = ContentVersion.current(using)
        held = self._held.get((using, key))
        if held is None or held[0] != version:
            with self._lock:
                held = (version, compute())
                self._held[using, key] = held
        return held[1]


#: Per thread, the versions read during the current request (None outside a request).
_request_versions = threading.local()


def start_request_versions(**kwargs) -> None:
    """request_started: remember versions read from now on, until the request ends."""
    _request_versions.seen = {}


def end_request_versions(**kwargs) -> None:
    _request_versions.seen = None


def forget_request_versions() -> None:
    """After a write in this thread: the next read must see the new version."""
    seen = getattr(_request_versions, "seen", None)
    if seen is not None:
        seen.clear()
