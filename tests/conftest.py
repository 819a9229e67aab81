import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation


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
    """Throttle counters and cached pages live in the cache: every test starts without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request to an /en/ page leaves English active in the thread; the next test starts in Chinese."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
