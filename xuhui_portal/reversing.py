"""Detail-page URLs for list pages: reverse() once per URL pattern and language, then fill in.

A list page links every card to its record, and Django's reverse() costs 30–100 µs a call (it
walks the URL resolver, checks every argument against its converter and quotes it): 20 cards
took a tenth of a project list's rendering. The URL of a pattern differs between records only in
its arguments, so we reverse it once with marker values and fill the real ones in.
"""

import re

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

#: What `int` and `slug` path converters accept, and what needs no quoting in a URL path.
_PLAIN = re.compile(r"[-a-zA-Z0-9_]+")
#: Stands in for an argument while the pattern is reversed: valid for both converters and
#: unlike anything else in a URL of this portal.
_MARKER = "7301948265{}7301948265"

_templates: dict[tuple, str] = {}


def record_url(viewname: str, **kwargs) -> str:
    """reverse(viewname, kwargs=kwargs), for arguments that are ids and slugs."""
    values = {name: str(value) for name, value in kwargs.items()}
    if not all(_PLAIN.fullmatch(value) for value in values.values()):
        return reverse(viewname, kwargs=kwargs)  # quotes, or raises NoReverseMatch, as usual
    key = (viewname, tuple(values), get_language(), get_script_prefix(), get_urlconf())
    template = _templates.get(key)
    if template is None:
        template = _template(viewname, list(values))
        _templates[key] = template
    return template.format_map(values)


def _template(viewname: str, names: list[str]) -> str:
    markers = {name: _MARKER.format(position) for position, name in enumerate(names)}
    url = reverse(viewname, kwargs=markers).replace("{", "{{").replace("}", "}}")
    for name, marker in markers.items():
        url = url.replace(marker, "{" + name + "}")
    return url


def _forget_templates(**kwargs) -> None:
    """Tests change URL settings (ROOT_URLCONF, ADMIN_URL…): reverse afresh after any change."""
    _templates.clear()


setting_changed.connect(_forget_templates)
