"""ASCII slugs for bilingual records.

Django's slugify() drops Chinese characters, so a record with only a Chinese name would get an empty
slug. We slugify the English name, else the pinyin of the Chinese name, and make the result unique.
"""

from django.db import models
from django.utils.text import slugify


def base_slug(name_en: str, name_zh: str, max_length: int) -> str:
    slug = slugify(name_en)
    if not slug:
        # Imported here: pypinyin's dictionaries take ~50 MB, which no page-serving worker needs.
        from pypinyin import lazy_pinyin

        slug = slugify(" ".join(lazy_pinyin(name_zh)))
    slug = slug or "record"
    return slug[:max_length].strip("-") or "record"


def unique_slug(instance: models.Model, name_en: str, name_zh: str) -> str:
    """A slug for `instance` that no other row of its model uses: `base`, `base-2`, `base-3`, …"""
    model = type(instance)
    max_length = model._meta.get_field("slug").max_length
    base = base_slug(name_en, name_zh, max_length - 6)
    others = model._default_manager.exclude(pk=instance.pk) if instance.pk else model._default_manager.all()
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug
