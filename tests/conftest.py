import random
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import translation

from transfers.models import TransferProject
from xuhui_portal.models import ContentVersion, PublicationState

from .factories import make_district, make_field, make_institution, make_platform, make_project


@pytest.fixture(autouse=True)
def _fast_and_plain(settings):
    """Fast password hashing, and static files served from the source folders (no collectstatic)."""
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP unless secure=True
    settings.PAGE_CACHE_SECONDS = 0  # tests that need the page cache turn it on themselves
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters, cached pages and fragments live in the caches: every test starts
    without them."""
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request to an /en/ page leaves English active in the thread; the next test starts in Chinese."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def catalogue(db):
    """40 projects over every dimension, with unknown values, shared names and a draft."""
    rng = random.Random(7)
    districts = [make_district() for _ in range(3)]
    platforms = [make_platform() for _ in range(3)]
    institutions = [make_institution() for _ in range(4)]
    fields = [make_field() for _ in range(4)]
    for n in range(40):
        make_project(
            name_zh=rng.choice(["细胞治疗平台", "免疫疗法", "医学影像系统", f"项目{n}"]),
            stage=rng.choice(TransferProject.Stage.values),
            transfer_mode=rng.choice(["", *TransferProject.TransferMode.values]),
            district=rng.choice([*districts, None]),
            platform=rng.choice([*platforms, None]),
            owner_institution=rng.choice([*institutions, None]),
            year=rng.choice([None, 2019, 2021, 2023, 2024]),
            transfer_amount_wan=rng.choice(
                [None, Decimal("0"), Decimal("12.5"), Decimal("300.25"), Decimal("80")]
            ),
            summary_zh=rng.choice(["基于细胞的治疗", "影像诊断", "免疫治疗新方法"]),
            fields_=rng.sample(fields, rng.randint(0, 2)),
        )
    make_project(
        name_zh="草稿细胞", publication_state=PublicationState.DRAFT, stage=TransferProject.Stage.values[0]
    )
    return {"districts": districts, "platforms": platforms, "institutions": institutions, "fields": fields}


@pytest.fixture
def count_version_bumps(monkeypatch):
    """Call it to start counting content version changes: the list it returns gets the
    `project_ids` of each ContentVersion.bump() from then on (None for a full change)."""

    def start() -> list:
        bumps = []
        bump = ContentVersion.bump

        def counted_bump(*args, **kwargs):
            bumps.append(kwargs.get("project_ids"))
            bump(*args, **kwargs)

        monkeypatch.setattr(ContentVersion, "bump", counted_bump)
        return bumps

    return start
