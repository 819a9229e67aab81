"""How figures read on the portal: amounts in 万元 shown as 亿元/万元 or million yuan."""

from decimal import Decimal

from django.utils.translation import get_language, gettext


def number(value) -> str:
    """A Decimal without trailing zeros, with thousands separators for whole numbers."""
    if value is None:
        return ""
    value = Decimal(value)
    return f"{value.normalize():,f}" if value == value.to_integral() else f"{value.normalize():f}"


def money(value_wan) -> str:
    """An amount in 万元 as people read it: 5.2亿元 / 2,700万元, or 520 million yuan in English."""
    if value_wan is None:
        return gettext("not disclosed")
    value = Decimal(value_wan)
    if (get_language() or "").startswith("en"):
        yuan = value * 10000
        if yuan >= 1_000_000:
            return f"{number((yuan / 1_000_000).quantize(Decimal('0.01')))} million yuan"
        return f"{number(yuan)} yuan"
    if value >= 10000:
        return f"{number((value / 10000).quantize(Decimal('0.01')))}亿元"
    return f"{number(value)}万元"
