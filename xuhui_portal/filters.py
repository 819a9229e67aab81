"""What every list's FilterSet shares: free-text search, facets with counts, active filters.

A FilterSet here is the one definition of a list's filters; the HTML page, the JSON API and
the CSV export all use it. Many-valued filters take several values (`?district=a&district=b`):
OR within one filter, AND across filters. Each facet counts, for every option, the records the
*other* active filters leave: with one GROUP BY query per facet (never one per option), or, for
lists of a few thousand records, from their facet values held in memory (facet_table.py).
"""

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
import numpy as np
from django import forms
from django.db import router
from django.db.models import Count, F, Q, QuerySet
from django.forms.utils import pretty_name
from django.utils.choices import CallableChoiceIterator
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters.fields import BaseCSVField
from django_filters.rest_framework import DjangoFilterBackend

from .facet_table import FacetTable
from .models import PerContentVersion
from .search import MAX_QUERY_LENGTH, search_queryset

#: The most options one facet shows (the largest counts first when there are more).
FACET_LIMIT = 25
#: Facets with at most this many options (on a single-valued column) are counted together:
#: the combinations of their values stay few.
SHORT_FACET = 12
#: The query-string value that selects records whose district (or other nullable link) is unknown.
UNKNOWN = "unknown"


class SearchFilter(django_filters.CharFilter):
    """The `q` parameter: Chinese-aware full-text search through `xuhui_portal.search`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Keywords"))
        kwargs.setdefault("max_length", MAX_QUERY_LENGTH)
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value or not value.strip():
            return qs
        return search_queryset(qs, value)


class UnknownOrSlugFilter(django_filters.MultipleChoiceFilter):
    """Several slugs of a nullable relation, plus `unknown` for records without one (OR-ed)."""

    def __init__(self, *, relation: str, **kwargs):
        self.relation = relation
        # Names the slug column, so the OpenAPI schema knows the values' type.
        kwargs.setdefault("field_name", f"{relation}__slug")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        # The related records' ids rather than a join on their slugs: the planner then knows the
        # values and can read a (district, name) index in order instead of walking the name index.
        pks = pks_by_slug(qs.model._meta.get_field(self.relation).related_model, qs.db)
        condition = Q(**{f"{self.relation}__in": [pks[slug] for slug in value if slug in pks]})
        if UNKNOWN in value:
            condition |= Q(**{f"{self.relation}__isnull": True})
        return qs.filter(condition)


#: Each related model's {slug: primary key}, per database, read once per content version.
_PKS_BY_SLUG = PerContentVersion()


def pks_by_slug(model, using: str) -> dict[str, int]:
    """{slug: primary key} of every `model` record (districts, institutions: a few hundred)."""
    return _PKS_BY_SLUG.get(
        using, model, lambda: dict(model._default_manager.using(using).values_list("slug", "pk"))
    )


class SlugsFilter(django_filters.MultipleChoiceFilter):
    """Several slugs of a relation, OR-ed; `distinct` keeps many-to-many matches to one row each."""

    def __init__(self, *, relation: str, **kwargs):
        self.relation = relation
        # Names the slug column, so the OpenAPI schema knows the values' type.
        kwargs.setdefault("field_name", f"{relation}__slug")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        # A subquery rather than a join: no duplicate rows, and no DISTINCT over the whole list.
        matching = qs.model._default_manager.filter(**{f"{self.relation}__slug__in": value}).values("pk")
        return qs.filter(pk__in=matching)


class SortKeysField(BaseCSVField):
    """`?ordering=year,name`: the sort keys in order, empty ones (`name,`, `,,`) left out.

    django-filter's CSV field keeps them, as valid choices (the menu's "default order"), and
    an empty key named no column to sort on: a server error on every list.
    """

    def clean(self, value):
        keys = super().clean(value)
        return None if keys is None else [key for key in keys if key]


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Sorting where unknown values (NULL) come last in both directions, on every database.

    The primary key breaks ties, so pages never overlap or skip records.
    """

    base_field_class = SortKeysField

    def build_choices(self, fields, labels):
        # As django-filter's, but the descending labels stay lazy: built when the module loads,
        # they would otherwise keep that moment's language on every page.
        ascending = [(param, labels.get(field, pretty_name(param))) for field, param in fields.items()]
        descending = [
            (f"-{param}", labels.get(f"-{param}", format_lazy(_("{} (descending)"), label)))
            for param, label in ascending
        ]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]

    def filter(self, qs, value):
        if not value:
            return qs
        expressions = []
        for param in value:
            field = self.get_ordering_value(param)
            if field.startswith("-"):
                expressions.append(F(field[1:]).desc(nulls_last=True))
            else:
                expressions.append(F(field).asc(nulls_last=True))
        return qs.order_by(*expressions, "pk")


@dataclass(frozen=True)
class Facet:
    """A many-valued filter shown with counts: `path` is what the counts group on."""

    name: str
    path: str
    null_value: str | None = None
    #: Offer every option even when it would match nothing (short lists such as the six districts).
    show_empty: bool = False


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


#: Ranks a chosen option above any count.
_CHOSEN = np.iinfo(np.int64).max


@dataclass
class FacetResult:
    name: str
    label: str
    #: The options offered, in the choices' order: every option of a `show_empty` facet; else
    #: those that would match something or are chosen, at most FACET_LIMIT of them (the largest
    #: counts and the chosen ones). The keyword search finds the others.
    options: list[FacetOption]
    #: Options left out by the limit.
    hidden_count: int = 0

    @classmethod
    def build(cls, facet: Facet, title: str, choices, counts: dict[str, int], selected: set[str]):
        """The facet's offered options from its choices [(value, label)], counts and chosen values."""
        hidden = 0
        if facet.show_empty:
            offered = [(str(value), label) for value, label in choices]
        else:
            offered = [
                (value, label)
                for choice, label in choices
                if (value := str(choice)) in counts or value in selected
            ]
            hidden = max(0, len(offered) - FACET_LIMIT)
        if hidden:
            # The chosen options first, then the largest counts, ties in the choices' order. With
            # numpy: a stable sort of hundreds of (chosen, count) keys in Python took 0.15 ms.
            ranking = np.fromiter((counts.get(value, 0) for value, _ in offered), np.int64, len(offered))
            ranking[[place for place, (value, _) in enumerate(offered) if value in selected]] = _CHOSEN
            kept = np.sort(np.argsort(-ranking, kind="stable")[:FACET_LIMIT])
            offered = [offered[place] for place in kept.tolist()]
        options = [
            FacetOption(value, str(label), counts.get(value, 0), value in selected)
            for value, label in offered
        ]
        return cls(facet.name, title, options, hidden)


@dataclass
class ActiveFilter:
    label: str
    value_label: str
    remove_url: str


def query_string(params: dict[str, list[str]]) -> str:
    pairs = [(key, value) for key, values in params.items() for value in values if value != ""]
    return "?" + urlencode(pairs) if pairs else "?"


def _evaluate_choices_once(field) -> None:
    """Replace choices that come from a callable (a database query) by their value, for this form.

    Django re-runs a callable on every iteration, and django-filter wraps choices in iterators
    of its own (on the field and, separately, on its widget); all of them get the one list.
    """
    holders = [getattr(field, "_choices", None), getattr(getattr(field, "widget", None), "choices", None)]
    evaluated = None
    for holder in holders:
        inner = getattr(holder, "choices", None)
        if callable(inner) or isinstance(inner, CallableChoiceIterator):
            if evaluated is None:
                evaluated = list(inner() if callable(inner) else inner)
            holder.choices = evaluated


#: Counts by (FilterSet class, base queryset conditions, facet).
_COUNTS_OVER_ALL_RECORDS = PerContentVersion()
#: FacetTables by (FilterSet class, base queryset conditions).
_FACET_TABLES = PerContentVersion()


class _FiltersCopiedShallow(dict):
    """A FilterSet class's filters, which each FilterSet instance copies one level deep.

    django-filter deep-copies every filter for every FilterSet it makes, with its choices, labels
    and keyword arguments, only to give each copy its own `parent` and `model`: 0.3 ms of each
    list request. A filter keeps nothing else per request, and what the copies share (their
    keyword arguments, the choices among them) is only read.
    """

    def __deepcopy__(self, memo):
        filters = {}
        for name, filter_ in self.items():
            filters[name] = copy.copy(filter_)
            if filter_.method is not None:
                filters[name].method = filter_.method  # binds a FilterMethod to the copy
        return filters


class FacetedFilterSet(django_filters.FilterSet):
    """Base of the lists' FilterSets: `q` search, facets, active-filter chips, relevance order."""

    q = SearchFilter()

    #: The many-valued filters that show counts, in display order.
    facets: tuple[Facet, ...] = ()
    #: The ordering used when the user asks for none (and there is no search query).
    default_ordering: tuple[str, ...] = ()
    #: Count the facets from the records' facet values held in memory (xuhui_portal/facet_table.py)
    #: rather than with GROUP BY queries: for lists of at most a few thousand records.
    facets_in_memory = False

    @classmethod
    def get_filters(cls):
        return _FiltersCopiedShallow(super().get_filters())

    def get_form_class(self) -> type[forms.Form]:
        """The form class, built once per FilterSet class.

        django-filter builds its fields, their choices and a new class on every request, which
        cost more than validating the data. Each form instance works on copies of the class's
        fields (Django deep-copies them), so requests share nothing mutable.
        """
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    @property
    def form(self) -> forms.Form:
        form = super().form
        if not getattr(self, "_choices_frozen", False):
            # Choices from the database are callables that Django re-runs on every iteration;
            # run each once per request.
            for field in form.fields.values():
                _evaluate_choices_once(field)
            self._choices_frozen = True
        return form

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("ordering"):
            if data.get("q"):
                queryset = queryset.order_by("-search_rank", *self.default_ordering)
            elif self.default_ordering:
                queryset = queryset.order_by(*self.default_ordering)
        return queryset

    # -- facets ---------------------------------------------------------------------------

    def queryset_without(self, *names: str) -> QuerySet:
        """The records left by every active filter except those `names` (and ordering)."""
        queryset = self.queryset.all()
        for filter_name, value in self.form.cleaned_data.items():
            if filter_name not in names and filter_name != "ordering":
                queryset = self.filters[filter_name].filter(queryset, value)
        return queryset

    def facet_counts(self, facet: Facet) -> dict[str, int]:
        if not self.filters_in_use() - {facet.name}:
            return dict(self._over_all_records(facet.name, lambda: self._count(facet)))
        return self._count(facet)

    def _count(self, facet: Facet) -> dict[str, int]:
        # No filter joins a many-valued relation (SlugsFilter uses a subquery), so every record is
        # one row here and a plain COUNT per group is exact, for many-to-many paths too: a
        # record appears once per related value.
        rows = self.queryset_without(facet.name).order_by().values_list(facet.path).annotate(n=Count("pk"))
        return {(facet.null_value if key is None else str(key)): n for key, n in rows}

    def filters_in_use(self) -> set[str]:
        """The names of the filters with a value (ordering is not a filter)."""
        return {
            name
            for name, value in self.form.cleaned_data.items()
            if name != "ordering" and value not in (None, "", [], ())
        }

    def _over_all_records(self, key, count: Callable[[], dict]) -> dict:
        """`count()`, when it counts the list's every record, read once per content version.

        A facet leaves its own filter out of its counts, so with no other filter in use they
        count the whole list: the same for every request until content changes (one GROUP BY
        less per facet on unfiltered and single-filter pages). Kept per FilterSet, database and
        base queryset (its conditions: a list of published records, say).
        """
        using = router.db_for_read(self._meta.model)
        return _COUNTS_OVER_ALL_RECORDS.get(using, (type(self), self.queryset.query.where, key), count)

    def all_facet_counts(self) -> dict[str, dict[str, int]]:
        """Every facet's counts, {facet name: {option: records}}.

        A list whose FilterSet sets `facets_in_memory` counts them from its records' facet values
        (FacetTable, read once per content version), with one query only when a filter that is
        not a facet (the search) is in use.

        A facet's counts leave out its own filter, so the facets whose filter is not in use all
        count the same records. The short, single-valued ones among them are counted together:
        one GROUP BY over all their columns gives how many records share each combination of
        values (a few dozen rows), which adds up to each facet's counts. Every other facet gets
        its own GROUP BY.
        """
        if self.facets_in_memory:
            return self._counts_in_memory()
        in_use = self.filters_in_use()
        together = [
            facet for facet in self.facets if facet.name not in in_use and self._countable_together(facet)
        ]
        counts = {}
        if len(together) > 1:
            names = tuple(facet.name for facet in together)
            if in_use:
                counts = self._counts_together(together)
            else:
                counted = self._over_all_records(names, lambda: self._counts_together(together))
                counts = {name: dict(options) for name, options in counted.items()}
        for facet in self.facets:
            if facet.name not in counts:
                counts[facet.name] = self.facet_counts(facet)
        return counts

    def _counts_in_memory(self) -> dict[str, dict[str, int]]:
        in_use = self.filters_in_use()
        facet_names = {facet.name for facet in self.facets}
        matching_ids = None
        if in_use - facet_names:  # the search: the ids it leaves, from the database
            matching_ids = self.queryset_without(*facet_names).order_by().values_list("pk", flat=True)
        data = self.form.cleaned_data
        selected = {name: {str(value) for value in data[name]} for name in in_use & facet_names}
        return self._facet_table().counts(matching_ids, selected)

    def _facet_table(self) -> FacetTable:
        """This list's FacetTable, per database, FilterSet and base queryset, per content version."""
        using = router.db_for_read(self._meta.model)
        many_valued = {facet.name for facet in self.facets if not self._single_valued(facet)}
        return _FACET_TABLES.get(
            using,
            (type(self), self.queryset.query.where),
            lambda: FacetTable.read(self.queryset.using(using), self.facets, many_valued),
        )

    def _single_valued(self, facet: Facet) -> bool:
        relation = self._meta.model._meta.get_field(facet.path.split("__")[0])
        return not (relation.many_to_many or relation.one_to_many)

    def _countable_together(self, facet: Facet) -> bool:
        return self._single_valued(facet) and len(self.choices(facet.name)) <= SHORT_FACET

    def _counts_together(self, facets: list[Facet]) -> dict[str, dict[str, int]]:
        combinations = (
            self.queryset_without()
            .order_by()
            .values_list(*(facet.path for facet in facets))
            .annotate(n=Count("pk"))
        )
        counts = {facet.name: {} for facet in facets}
        for *values, n in combinations:
            for facet, value in zip(facets, values, strict=True):
                key = facet.null_value if value is None else str(value)
                counts[facet.name][key] = counts[facet.name].get(key, 0) + n
        return counts

    def choices(self, name: str) -> list:
        """A filter's choices: its own list, or its callable's (which caches its list); the form
        field's choices would re-normalise hundreds of options on every iteration."""
        choices = self.filters[name].extra["choices"]
        return list(choices() if callable(choices) else choices)

    def release(self) -> None:
        """Let go of what answering the request took, once the list and its facets are made.

        django-filter's FilterSets sit in reference cycles (each filter points back to its
        FilterSet), so a request's FilterSet outlives it until the garbage collector finds it,
        often several requests later: whatever large it holds lives on that long (see
        ProjectFilter.release). Called by FacetedListView and the API's FilterBackend.
        """

    def facet_results(self) -> list[FacetResult]:
        """Every facet with each option's label, count and selection."""
        if not self.is_valid():
            return []
        params = self._params()
        all_counts = self.all_facet_counts()
        results = []
        for facet in self.facets:
            counts = {key: n for key, n in all_counts[facet.name].items() if n}
            selected = set(params.get(facet.name, []))
            label = str(self.form.fields[facet.name].label)
            results.append(FacetResult.build(facet, label, self.choices(facet.name), counts, selected))
        return results

    # -- active filters and links -----------------------------------------------------------

    def active_filters(self) -> list[ActiveFilter]:
        """One removable chip per active value, in the order of the filters."""
        params = self._params()
        chips = []
        for name, field in self.form.fields.items():
            if name == "ordering" or name not in params:
                continue
            choices = dict((str(k), str(v)) for k, v in getattr(field, "choices", ()))
            for value in params.get(name, []):
                chips.append(
                    ActiveFilter(
                        label=str(field.label),
                        value_label=choices.get(value, value),
                        remove_url=self._toggle_url(params, name, value),
                    )
                )
        return chips

    def clear_url(self) -> str:
        """The same list with no filter (the sort order is kept, unless it is what was wrong)."""
        params = self._params()
        keep = "ordering" in params and "ordering" not in self.form.errors
        return query_string({"ordering": params["ordering"]} if keep else {})

    def _params(self) -> dict[str, list[str]]:
        """The submitted values of this FilterSet's own filters, without blanks or paging."""
        if self.data is None:
            return {}
        params = {}
        for name in self.filters:
            values = (
                [v for v in self.data.getlist(name) if v.strip()] if hasattr(self.data, "getlist") else []
            )
            if values:
                params[name] = values
        return params

    def _toggle_url(self, params: dict[str, list[str]], name: str, value: str) -> str:
        values = list(params.get(name, []))
        if value in values:
            values.remove(value)
        else:
            values.append(value)
        return query_string({**params, name: values})


class RangeForm(forms.Form):
    """Refuses a `<x>_min` greater than its `<x>_max`, naming both bounds."""

    ranges: Iterable[tuple[str, str]] = ()

    def clean(self):
        cleaned_data = super().clean()
        for low, high in self.ranges:
            low_value, high_value = cleaned_data.get(low), cleaned_data.get(high)
            if low_value is not None and high_value is not None and low_value > high_value:
                self.add_error(
                    high,
                    _("“%(high)s” must not be below “%(low)s”.")
                    % {"high": self.fields[high].label, "low": self.fields[low].label},
                )
        return cleaned_data


def choices_from(queryset_factory: Callable[[], QuerySet], field: str = "name", unknown_label=None):
    """Callable choices (slug, localized `field`) from published records, built when the form is.

    Only the three columns are read, and only once per content version and language: a list
    offers hundreds of institutions, and reading them on every request was most of its time.
    The version is read from the database on each request, so a change shows at once.
    """
    options_by_language = PerContentVersion()
    model = None  # known after the first call; building a queryset on every call costs

    def choices():
        nonlocal model
        if model is None:
            model = queryset_factory().model
        language = get_language() or ""

        def options() -> list:
            english = language.startswith("en")
            rows = queryset_factory().values_list("slug", f"{field}_zh", f"{field}_en")
            listed = [(slug, (english and name_en) or name_zh) for slug, name_zh, name_en in rows]
            return listed if unknown_label is None else [*listed, (UNKNOWN, unknown_label)]

        return list(options_by_language.get(router.db_for_read(model), language, options))

    return choices


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which lets go of its FilterSet's per-request data once it has
    filtered (FacetedFilterSet.release)."""

    def get_filterset(self, request, queryset, view):
        self.filterset = super().get_filterset(request, queryset, view)
        return self.filterset

    def filter_queryset(self, request, queryset, view):
        try:
            return super().filter_queryset(request, queryset, view)
        finally:
            if isinstance(getattr(self, "filterset", None), FacetedFilterSet):
                self.filterset.release()
