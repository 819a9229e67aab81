"""Translations: complete catalogue, compiled catalogue in step with it, Chinese by default."""

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from incubators.models import Incubator

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_string_is_translated():
    catalogue = polib.pofile(str(CATALOGUE))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_compiled_catalogue_matches_the_source():
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.pofile(str(CATALOGUE))}
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
        for e in polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    }
    stale = {key for key in source if source[key] != compiled.get(key)}
    assert not stale, f"run `make messages`: the .mo is out of date for {sorted(stale)[:5]}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "孵化器"), ("en", "incubator")],
)
def test_model_names_follow_the_language(language, expected):
    with translation.override(language):
        assert str(Incubator._meta.verbose_name) == expected


def test_chinese_is_the_default_language():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
