"""Chinese-aware search shared by every list, the site-wide search and the API.

One tokenizer, owned by the application, is applied to the stored text and to the query:
NFKC, lower case, Traditional folded to Simplified (OpenCC), then every CJK run is cut into
overlapping character bigrams plus single characters, and Latin/digit runs are kept as words.

A query term matches when the record's normalised text *contains* it (CJK) or a word of the text
*starts with* it (Latin). Several terms are ANDed. That predicate is exact on every database; on
PostgreSQL a GIN index over a tsvector of the tokens narrows the candidates first, so the exact
check only runs on rows that can match (see README, "Search").
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import opencc
from django.db import connections
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

#: Longest query we accept, in characters; longer input is refused with a message.
MAX_QUERY_LENGTH = 100
#: Most terms a query may have; more would make a slow and pointless AND.
MAX_TERMS = 8

#: The characters searched as Chinese (CJK ideographs: extension A, unified, compatibility).
CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_CJK = "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES)
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


#: Full-width punctuation common in Chinese text, with its compatibility decomposition (what NFKC
#: gives it): replaced first, most text is then already NFKC and skips the full normalisation.
_FULL_WIDTH = [(mark, unicodedata.normalize("NFKD", mark)) for mark in "，（）：；！？\u3000"]


def normalise(text: str) -> str:
    """Simplified, lower-case, NFKC text: what is stored and compared."""
    if not text:
        return ""
    return _converter().convert(_nfkc(text)).lower()


def _nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), in a seventh of the time for most Chinese text.

    NFKC decomposes every character before it composes, so replacing characters by their own
    decompositions first does not change the result; is_normalized() is a quick check.
    """
    for mark, plain in _FULL_WIDTH:
        if mark in text:
            text = text.replace(mark, plain)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def _is_cjk(run: str) -> bool:
    return not run[0].isascii()


def document_tokens(text: str) -> list[str]:
    """The tokens stored for a text: CJK single characters and bigrams, Latin words."""
    tokens: list[str] = []
    for run in _RUN.findall(normalise(text)):
        if _is_cjk(run):
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
    return tokens


@dataclass(frozen=True)
class Term:
    """One run of a query: a CJK string to find inside the text, or a Latin word prefix."""

    text: str

    @property
    def is_cjk(self) -> bool:
        return _is_cjk(self.text)

    def tsquery(self) -> str:
        """This term as a PostgreSQL tsquery over the stored tokens (implied by an exact match)."""
        if not self.is_cjk:
            return f"'{self.text}':*"
        if len(self.text) == 1:
            return f"'{self.text}'"
        return " & ".join(f"'{self.text[i : i + 2]}'" for i in range(len(self.text) - 1))


def parse_query(query: str) -> list[Term]:
    """The distinct terms of a query, in order; punctuation and symbols separate terms."""
    terms: list[Term] = []
    for run in _RUN.findall(normalise(query)):
        term = Term(run)
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def search_fields_values(title_parts: Iterable[str], body_parts: Iterable[str]) -> dict[str, str]:
    """The three stored search columns for a record, from its title-like and body-like texts."""
    title = " ".join(normalise(part) for part in title_parts if part)
    body = " ".join(normalise(part) for part in body_parts if part)
    tokens = document_tokens(f"{title} {body}")
    return {
        "search_title": title,
        "search_text": f"{title} {body}".strip(),
        # Leading space: a Latin prefix test is `LIKE '% word%'` on every database.
        "search_document": " " + " ".join(dict.fromkeys(tokens)),
    }


def _term_filter(term: Term) -> Q:
    if term.is_cjk:
        return Q(search_text__contains=term.text)
    return Q(search_document__contains=f" {term.text}")


def search_queryset(queryset: QuerySet, query: str, related: Iterable[str] = ()) -> QuerySet:
    """Records matching every term of `query`, annotated with `search_rank` (higher first).

    The rank counts the terms found in the title (names and aliases), so title hits come before
    hits in summaries and descriptions. `related` names relations of searchable records (a
    project's "owner_institution", say): a record whose related record matches comes too, with
    the rank its own title earns.
    """
    terms = parse_query(query)
    if not terms:
        return queryset.none().annotate(search_rank=Value(0, output_field=IntegerField()))
    related = tuple(related)
    if related:
        # A UNION of primary keys, not an OR: on PostgreSQL an OR keeps the word index but makes
        # it recompute every candidate's tsvector, 30 µs a row.
        records = queryset.model._default_manager.db_manager(queryset.db)
        found = _matching(records.all(), terms).values("pk")
        for relation in related:
            model = queryset.model._meta.get_field(relation).related_model
            matching_related = _matching(model._default_manager.db_manager(queryset.db).all(), terms)
            found = found.union(
                records.filter(**{f"{relation}__in": matching_related.values("pk")}).values("pk")
            )
        queryset = queryset.filter(pk__in=found)
    else:
        queryset = _matching(queryset, terms)
    return queryset.annotate(search_rank=_rank(terms))


def _matching(queryset: QuerySet, terms: list[Term]) -> QuerySet:
    """The records containing every term: the exact test, after the word index on PostgreSQL."""
    if connections[queryset.db].vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        tsquery = " & ".join(term.tsquery() for term in terms)
        queryset = queryset.alias(search_vector=SearchVector("search_document", config="simple")).filter(
            search_vector=SearchQuery(tsquery, search_type="raw", config="simple")
        )
    for term in terms:
        queryset = queryset.filter(_term_filter(term))
    return queryset


def _rank(terms: list[Term]):
    """How many of the terms the title holds."""
    return sum(
        (
            Case(
                When(search_title__contains=term.text, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            for term in terms
        ),
        start=Value(0, output_field=IntegerField()),
    )
