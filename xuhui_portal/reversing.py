"""Detail-page URLs for list pages: reverse() once per URL pattern and language, then fill in.

A list page links every card to its record, and Django's reverse() costs 30–100 µs a call (it
walks the URL resolver, checks every argument against its converter and quotes it): 20 cards
took a tenth of a project list's rendering. The URL of a pattern differs between records only in
its arguments, so we reverse it once with marker values and fill the real ones in.
"""

import re
from functools import lru_cache

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse, translate_url
from django.utils.translation import get_language

#: What `int` and `slug` path converters accept, and what needs no quoting in a URL path.
_PLAIN = re.compile(r"[-a-zA-Z0-9_]+")
#: Stands in for an argument while the pattern is reversed: valid for both converters and
#: unlike anything else in a URL of this portal.
_MARKER = "7301948265{}7301948265"

_templates: dict[tuple, str] = {}


def record_url(viewname: str, **kwargs) -> str:
    """reverse(viewname, kwargs=kwargs), for arguments that are ids and slugs."""
    values = _plain_values(kwargs)
    if values is None:
        return reverse(viewname, kwargs=kwargs)  # quotes, or raises NoReverseMatch, as usual
    return _url_template(viewname, tuple(values)).format_map(values)


def _plain_values(kwargs: dict) -> dict[str, str] | None:
    """The arguments as text, or None when one needs quoting (or is not a valid id or slug)."""
    values = {name: str(value) for name, value in kwargs.items()}
    return values if all(_PLAIN.fullmatch(value) for value in values.values()) else None


class AbsoluteRecordUrls:
    """request.build_absolute_uri(record_url(…)) for the many links of one request.

    An API page of 20 projects holds 80 of them (each record, its owner, platform and district):
    made one by one, the language, script prefix and URL conf lookups and the absolute URI cost
    8 µs a link. Within a request they change only with the language, so each pattern's template
    is made absolute once per language.
    """

    def __init__(self, request):
        self.request = request
        self._templates: dict[tuple, str] = {}

    def __call__(self, viewname: str, **kwargs) -> str:
        values = _plain_values(kwargs)
        if values is None:
            return self.request.build_absolute_uri(reverse(viewname, kwargs=kwargs))
        key = (viewname, tuple(values), get_language())
        template = self._templates.get(key)
        if template is None:
            # A reversed path is already quoted, so build_absolute_uri() only puts the scheme and
            # host before it; neither can hold a brace that format_map would read.
            origin = self.request.build_absolute_uri("/").removesuffix("/")
            template = self._templates[key] = origin + _url_template(viewname, key[1])
        return template.format_map(values)


def _url_template(viewname: str, names: tuple[str, ...]) -> str:
    key = (viewname, names, get_language(), get_script_prefix(), get_urlconf())
    template = _templates.get(key)
    if template is None:
        template = _template(viewname, list(names))
        _templates[key] = template
    return template


def _template(viewname: str, names: list[str]) -> str:
    markers = {name: _MARKER.format(position) for position, name in enumerate(names)}
    url = reverse(viewname, kwargs=markers).replace("{", "{{").replace("}", "}}")
    for name, marker in markers.items():
        url = url.replace(marker, "{" + name + "}")
    return url


def translated_url(path: str, language_code: str) -> str:
    """translate_url(path, language_code) for a path with its query string (what
    request.get_full_path() gives), the path translated once per path and language.

    Every page links to itself in the other language, and translate_url resolves and reverses
    the path on each call (0.1 ms). It keeps the query string as it is; so does this.
    """
    path, mark, query = path.partition("?")
    key = (get_language(), get_script_prefix(), get_urlconf())  # what resolving the path reads
    return _translated_path(path, language_code, *key) + mark + query


@lru_cache(maxsize=4096)
def _translated_path(path: str, language_code: str, _language, _script_prefix: str, _urlconf) -> str:
    return translate_url(path, language_code)


def _forget_templates(**kwargs) -> None:
    """Tests change URL settings (ROOT_URLCONF, ADMIN_URL…): reverse afresh after any change."""
    _templates.clear()
    _translated_path.cache_clear()


setting_changed.connect(_forget_templates)
