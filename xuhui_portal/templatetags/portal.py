"""Template helpers of the public pages: language links, safe highlighting, money and dates."""

import html
import json
import re
import unicodedata
from functools import lru_cache

from django import template
from django.template.defaultfilters import stringfilter
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext

from xuhui_portal.formatting import money, number
from xuhui_portal.reversing import translated_url
from xuhui_portal.search import normalise, parse_query
from xuhui_portal.structured_data import structured_data

register = template.Library()


@register.simple_tag(takes_context=True)
def language_url(context, language_code: str, absolute: bool = False) -> str:
    """The current page in another language (the URL prefix decides the language).

    Remembered for the request: a page asks for each language twice (head and header). In its
    own language a page is where it is; translate_url would resolve and reverse it to the same
    URL (0.1 ms), as it does for the other language once per path (translated_url).
    """
    request = context["request"]
    urls = request.__dict__.setdefault("_language_urls", {})
    if language_code not in urls:
        path = request.get_full_path()
        urls[language_code] = path if language_code == get_language() else translated_url(path, language_code)
    url = urls[language_code]
    return request.build_absolute_uri(url) if absolute else url


@register.filter
def highlight(text: str, query: str) -> str:
    """`text`, HTML-escaped, with every query term wrapped in <mark>.

    Terms are matched on the normalised text (Simplified, lower case), which has the same
    length as the displayed text for the characters we mark, so the spans line up.
    """
    text = str(text or "")
    pattern = _terms_pattern(query or "")
    if pattern is None:
        return mark_safe(html.escape(text))
    folded = normalise(text)
    if len(folded) != len(text):
        return mark_safe(html.escape(text))
    pieces, last = [], 0
    for match in pattern.finditer(folded):
        pieces.append(html.escape(text[last : match.start()]))
        pieces.append(f"<mark>{html.escape(text[match.start() : match.end()])}</mark>")
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return mark_safe("".join(pieces))


@register.filter(is_safe=True)
@stringfilter
def shortened(text: str, length: int) -> str:
    """What Django's truncatechars gives, at once for a text that fits.

    truncatechars counts a text's characters in a Python loop even when the text is shorter than
    the limit: 10 µs a summary, 0.2 ms for a project list's cards. NFC comes first, as there.
    """
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= length else Truncator(text).chars(length)


@lru_cache(maxsize=64)
def _terms_pattern(query: str) -> re.Pattern | None:
    """The query's terms as one pattern, longest first; a list page highlights 40 texts a query."""
    terms = sorted((term.text for term in parse_query(query)), key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in terms)) if terms else None


register.filter("money", money)
register.filter("number", number)


@register.simple_tag(takes_context=True)
def json_ld(context, record) -> str:
    """<script type="application/ld+json"> for `record`, escaped like json_script (no </script> break-out)."""
    request = context["request"]
    data = structured_data(record, request.build_absolute_uri(record.get_absolute_url()))
    if data is None:
        return ""
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def facet_options(facet) -> str:
    """The checkboxes of one facet (a FacetResult), as <li> items.

    Built here rather than in a template loop: a project list offers about a hundred options,
    and the template engine's per-variable work made them a third of the page's rendering.
    Every value is escaped (with the standard library's html.escape, which Django's escape calls
    after a check for lazy strings that costs more than the escaping here).
    """
    name = html.escape(facet.name)
    return mark_safe(
        "\n".join(
            f'<li><label><input type="checkbox" name="{name}" value="{html.escape(option.value)}"'
            f"{' checked' if option.selected else ''}> <span{'' if option.count else ' class="muted"'}>"
            f'{html.escape(option.label)}</span> <span class="count">{option.count:d}</span></label></li>'
            for option in facet.options
        )
    )


@register.simple_tag
def project_card(project, query: str) -> str:
    """A project's result card: its name linking to its page, its facts, the start of its summary
    and its fields, with the query's terms marked.

    Built here, as Django's admin builds its change list's rows, rather than in a template: the
    template engine's work per variable, filter and tag cost a third of a page of 20 cards (11.9
    million instructions against 8.1 million here, about 0.5 ms of a list request). Plain values
    are escaped with html.escape, what format_html would call them through after checks for
    lazy and safe strings that cost more than the escaping (7 µs a card); the highlighted texts
    and the tags come escaped from their helpers.
    """
    summary = project.summary
    summary_html = f"<p>{highlight(shortened(summary, 140), query)}</p>\n" if summary else ""
    return mark_safe(
        f'<li class="card">\n<h3><a href="{html.escape(project.get_absolute_url())}">'
        f"{highlight(project.name, query)}</a></h3>\n"
        f'<p class="muted">{html.escape(project_facts(project))}</p>\n'
        f"{summary_html}{field_tags(project.field_names)}</li>"
    )


@register.simple_tag
def incubator_card(incubator, query: str) -> str:
    """An incubator's card: its name linking to its page, its facts and its fields; built and
    escaped as project_card."""
    return mark_safe(
        f'<li class="card">\n<h3><a href="{html.escape(incubator.get_absolute_url())}">'
        f"{highlight(incubator.name, query)}</a></h3>\n"
        f'<p class="muted">{html.escape(incubator_facts(incubator))}</p>\n'
        f"{field_tags(incubator.field_names)}</li>"
    )


def project_facts(project) -> str:
    """A project card's line of facts: stage, mode, year, amount and platform, those it has
    (plain text: the card escapes it)."""
    facts = [project.get_stage_display()]
    if project.transfer_mode:
        facts.append(project.get_transfer_mode_display())
    if project.year:
        facts.append(str(project.year))
    facts.append(money(project.transfer_amount_wan))
    if project.platform:
        facts.append(project.platform.name)
    return " · ".join(facts)


def incubator_facts(incubator) -> str:
    """An incubator card's line of facts: district, status, recognition (and batch), floor area
    (plain text: the card escapes it)."""
    facts = [
        incubator.district.short_name if incubator.district else gettext("District unknown"),
        incubator.get_status_display(),
    ]
    if incubator.recognition:
        recognition = incubator.get_recognition_display()
        if incubator.recognition_batch:
            batch = gettext("batch %(number)s") % {"number": incubator.recognition_batch}
            recognition = f"{recognition} ({batch})"
        facts.append(recognition)
    if incubator.floor_area_m2 is not None:
        facts.append(f"{number(incubator.floor_area_m2)} m²")
    return " · ".join(facts)


@register.simple_tag
def field_tags(fields) -> str:
    """Technology fields (or their names) as a list of tags (nothing when there are none).

    A tag rather than an included template: lists show it on every card, and an include costs
    more than the few tags it renders.
    """
    names = [field if isinstance(field, str) else field.name for field in fields]
    if not names:
        return ""
    return mark_safe(
        '<ul class="tags">' + "".join(f"<li>{html.escape(name)}</li>" for name in names) + "</ul>"
    )


@register.simple_tag
def select_options(field) -> str:
    """The <option>s of a choice field (a BoundField), its submitted value selected.

    Django's widget templates render each option through two more templates; a list page
    has no need for that cost. Escaped with html.escape, as in facet_options.
    """
    value = field.value()
    chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")}
    return mark_safe(
        "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) in chosen else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in field.field.choices
        )
    )
