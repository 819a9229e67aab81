"""Production behaviour: security headers and cookies, deploy checks, page cache, faults, logs."""

import logging
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client

from xuhui_portal import db_router, selectors
from xuhui_portal.settings import database
from xuhui_portal.throttling import AnonymousApiThrottle

from .factories import make_incubator

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-like-7Hq2vN9xK4mP8sL3rT6wY1zB5cD0fG2hJ7kQ9nM4pR8sV3",
    "ALLOWED_HOSTS": "portal.example.org",
}


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


class HttpsClient(Client):
    """A browser on https://: every request is made over TLS."""

    def generic(self, method, path, data="", content_type="application/octet-stream", secure=False, **kwargs):
        return super().generic(method, path, data, content_type, True, **kwargs)


@pytest.fixture
def https_client(settings):
    settings.SECURE_SSL_REDIRECT = True
    return HttpsClient(raise_request_exception=False)


@pytest.mark.parametrize(
    "url",
    ["/", "/incubators/", "/no-such-page/", "/admin/login/", "/api/incubators/", "/static/css/portal.css"],
)
def test_every_response_carries_the_security_headers(https_client, url):
    response = https_client.get(url)
    assert response.status_code in (200, 404)
    csp = csp_directives(response)
    for forbidden in ("'unsafe-inline'", "'unsafe-eval'", "data:", "*", "http:", "https:"):
        assert forbidden not in csp["script-src"], forbidden
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert int(response["Strict-Transport-Security"].split("max-age=")[1].split(";")[0]) >= 31_536_000
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_plain_http_is_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/incubators/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_session_and_csrf_cookies_are_host_only_secure_and_httponly(https_client):
    User.objects.create_superuser("admin", "admin@example.org", "a-long-enough-password")
    page = https_client.get("/admin/login/")
    csrf = page.cookies["__Host-csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax" and csrf["path"] == "/"
    response = https_client.post(
        "/admin/login/",
        {
            "username": "admin",
            "password": "a-long-enough-password",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
        HTTP_REFERER="https://testserver/admin/login/",
    )
    session = response.cookies["__Host-sessionid"]
    assert (
        session["secure"] and session["httponly"] and session["samesite"] == "Lax" and not session["domain"]
    )


def test_deploy_check_reports_nothing():
    env = {**os.environ, **PRODUCTION_ENV}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_redis_the_workers_do_not_load_its_client():
    """The redis package is about 5 MB of a worker's memory: loaded only when REDIS_URL is set."""
    env = {**os.environ, **PRODUCTION_ENV}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    code = (
        "import sys, django; django.setup()\n"
        "from django.core.handlers.wsgi import WSGIHandler; from django.urls import get_resolver\n"
        "WSGIHandler(); get_resolver().url_patterns\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'django_redis')))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("cache_seconds", [0, 60])
def test_a_host_outside_allowed_hosts_is_answered_400(client, db, settings, cache_seconds):
    settings.PAGE_CACHE_SECONDS = cache_seconds
    for url in ["/", "/en/incubators/", "/robots.txt"]:
        response = client.get(url, HTTP_HOST="portal.example.invalid")
        assert response.status_code == 400 and "Bad request" in response.content.decode()
    response = client.get("/api/fields/", HTTP_HOST="portal.example.invalid")
    assert response.status_code == 400 and response.json() == {"detail": "Unknown host."}


def test_a_foreign_host_is_logged_as_one_warning_line(client, db):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(handler)
    try:
        client.get("/", HTTP_HOST="portal.example.invalid")
    finally:
        logger.removeHandler(handler)
    [record] = records
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "Invalid HTTP_HOST header: 'portal.example.invalid'" in record.getMessage()


@pytest.mark.parametrize(
    "url", ["/.git/", "/.git/config", "/.env", "/.env.example", "/static/../.env", "/.ci/run"]
)
def test_dotfiles_are_not_served(client, url):
    assert client.get(url).status_code == 404


#: The Redis database the page cache tests may empty (TEST_REDIS_URL overrides it).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: REQUIRE_REDIS_TESTS=1 (CI) turns "no Redis here" from a skip into a failure.
REDIS_REQUIRED = os.environ.get("REQUIRE_REDIS_TESTS", "").strip().lower() in {"1", "true", "yes"}


def redis_unavailable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as error:
        return f"no Redis at {TEST_REDIS_URL} ({error})"
    return None


@pytest.fixture
def redis_cache(settings):
    """The cache on a real Redis, emptied before and after."""
    reason = redis_unavailable()
    if reason:
        if REDIS_REQUIRED:
            pytest.fail(f"REQUIRE_REDIS_TESTS=1, but {reason}")
        pytest.skip(reason)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
    cache.clear()
    yield
    cache.clear()


class TestPageCache:
    """The page cache, on the in-process cache and on Redis, as in production."""

    @pytest.fixture(autouse=True, params=["locmem", "redis"])
    def _cache_on(self, request, settings):
        settings.PAGE_CACHE_SECONDS = 60
        if request.param == "redis":
            request.getfixturevalue("redis_cache")

    def test_anonymous_pages_are_cached_and_an_edit_shows_at_once(self, client):
        incubator = make_incubator(name_zh="缓存孵化器", description_zh="旧的简介")
        url = incubator.get_absolute_url()
        assert client.get(url)["X-Cache"] == "MISS"
        assert client.get(url)["X-Cache"] == "HIT"
        incubator.description_zh = "新的简介"
        incubator.save()
        response = client.get(url)
        assert response["X-Cache"] == "MISS" and "新的简介" in response.content.decode()

    def test_an_admin_edit_is_visible_on_the_next_public_request(self, client):
        from .admin_helpers import change_url, client_for, form_data, make_user

        incubator = make_incubator(name_zh="管理员改的孵化器", description_zh="改之前")
        client.get(incubator.get_absolute_url())
        admin = client_for(make_user("reviewer", superuser=True))
        page = admin.get(change_url(incubator))
        assert admin.post(change_url(incubator), form_data(page, description_zh="改之后")).status_code == 302
        assert "改之后" in client.get(incubator.get_absolute_url()).content.decode()

    def test_logged_in_users_and_the_admin_are_never_served_from_cache(self, client):
        user = User.objects.create_superuser("editor", "e@example.org", "a-long-enough-password")
        logged_in = Client()
        logged_in.force_login(user)
        for _ in range(2):
            assert "X-Cache" not in logged_in.get("/incubators/")
            assert "X-Cache" not in logged_in.get("/admin/")
            assert "X-Cache" not in client.get("/admin/login/")

    def test_a_hit_is_answered_before_sessions_and_authentication_with_the_same_headers(
        self, client, monkeypatch
    ):
        from django.contrib.sessions.middleware import SessionMiddleware

        make_incubator(name_zh="头信息孵化器")
        miss = client.get("/incubators/")
        sessions_opened = []
        original = SessionMiddleware.process_request
        monkeypatch.setattr(
            SessionMiddleware,
            "process_request",
            lambda self, request: sessions_opened.append(1) or original(self, request),
        )
        hit = client.get("/incubators/")
        assert hit["X-Cache"] == "HIT" and sessions_opened == []
        assert hit.content == miss.content
        assert {k: v for k, v in hit.items() if k != "X-Cache"} == {
            k: v for k, v in miss.items() if k != "X-Cache"
        }

    def test_visitors_with_a_session_or_credentials_are_not_served_from_cache(self, client, settings):
        make_incubator(name_zh="会话孵化器")
        client.get("/incubators/")
        with_session = Client()
        with_session.cookies[settings.SESSION_COOKIE_NAME] = "an-anonymous-session"
        assert "X-Cache" not in with_session.get("/incubators/")
        assert "X-Cache" not in client.get(
            "/api/incubators/", HTTP_AUTHORIZATION="Basic ZWRpdG9yOnNlY3JldA=="
        )

    def test_each_language_has_its_own_entry(self, client):
        make_incubator(name_zh="语言孵化器", name_en="Language Incubator")
        assert client.get("/incubators/")["X-Cache"] == "MISS"
        english = client.get("/en/incubators/")
        assert english["X-Cache"] == "MISS" and english["Content-Language"] == "en"
        assert client.get("/en/incubators/")["Content-Language"] == "en"
        assert client.get("/api/fields/")["Content-Language"] == "en"
        chinese = client.get("/api/fields/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert chinese["X-Cache"] == "MISS" and chinese["Content-Language"] == "zh-hans"
        assert client.get("/api/fields/", HTTP_ACCEPT_LANGUAGE="zh-hans")["X-Cache"] == "HIT"

    def test_api_hits_still_count_against_the_throttle(self, client, settings, monkeypatch):
        settings.API_ANON_RATE = "3/minute"
        # Inside one window of the fixed-window count, wherever the clock is.
        monkeypatch.setattr(AnonymousApiThrottle, "timer", lambda self: 1_800_000_030.0)
        statuses = [client.get("/api/fields/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    def test_api_misses_count_once(self, client, settings, monkeypatch):
        # The cache counts a miss with its lookup; the view's throttle must not count it again.
        settings.API_ANON_RATE = "3/minute"
        monkeypatch.setattr(AnonymousApiThrottle, "timer", lambda self: 1_800_000_030.0)
        responses = [client.get(f"/api/fields/?page_size={size}") for size in (5, 6, 7, 8)]
        assert [response.get("X-Cache") for response in responses[:3]] == ["MISS"] * 3
        assert [response.status_code for response in responses] == [200, 200, 200, 429]

    def test_csv_downloads_are_not_cached(self, client):
        client.get("/api/incubators/csv/")
        assert "X-Cache" not in client.get("/api/incubators/csv/")

    def test_with_redis_down_the_site_works_uncached(self, client, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
            }
        }
        for url in ["/", "/incubators/", "/api/incubators/"]:
            response = client.get(url)
            assert response.status_code == 200 and "X-Cache" not in response


def test_a_cached_api_response_costs_one_round_trip_to_redis(client, db, settings, redis_cache, monkeypatch):
    """The page lookup and the throttle's count go in one pipeline, not two commands."""
    import redis

    settings.PAGE_CACHE_SECONDS = 60
    client.get("/api/fields/")  # cached, and the generation known
    calls = []
    for cls, method in [(redis.Redis, "execute_command"), (redis.client.Pipeline, "execute")]:
        original = getattr(cls, method)
        monkeypatch.setattr(
            cls, method, lambda self, *a, _f=original, _m=method, **k: calls.append(_m) or _f(self, *a, **k)
        )
    response = client.get("/api/fields/")
    assert response["X-Cache"] == "HIT" and calls == ["execute"]


def test_a_redis_failure_in_the_api_lookup_pipeline_still_answers(
    client, db, settings, redis_cache, monkeypatch
):
    import redis

    settings.PAGE_CACHE_SECONDS = 60
    assert client.get("/api/fields/")["X-Cache"] == "MISS"  # the generation is known from now on

    def fail(self, *args, **kwargs):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(redis.client.Pipeline, "execute", fail)
    response = client.get("/api/fields/")
    assert response.status_code == 200 and "results" in response.json()


class TestDatabaseUnavailable:
    @pytest.fixture
    def broken(self, monkeypatch):
        def fail(*args, **kwargs):
            raise OperationalError(
                'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
            )

        monkeypatch.setattr(selectors, "home_overview", fail)
        monkeypatch.setattr("incubators.views.IncubatorListView.get_queryset", fail)
        return Client(raise_request_exception=False)

    def test_pages_answer_503_with_a_friendly_bilingual_page(self, broken):
        for url in ["/", "/incubators/"]:
            response = broken.get(url)
            html = response.content.decode()
            assert response.status_code == 503
            assert response["Retry-After"] == "30"
            assert "服务暂时不可用" in html and "Temporarily unavailable" in html
            assert "Traceback" not in html and "5432" not in html and "OperationalError" not in html

    def test_api_answers_503_in_json(self, broken, monkeypatch):
        monkeypatch.setattr(
            "incubators.api.IncubatorViewSet.get_queryset", lambda self: selectors.home_overview()
        )
        response = broken.get("/api/incubators/")
        assert response.status_code == 503 and response.json()["detail"].startswith("Service temporarily")

    def test_static_files_still_serve(self, broken):
        assert broken.get("/static/css/portal.css").status_code == 200

    def test_other_errors_stay_500_without_details(self, monkeypatch):
        monkeypatch.setattr(selectors, "home_overview", lambda: 1 / 0)
        response = Client(raise_request_exception=False).get("/")
        assert response.status_code == 500
        assert "ZeroDivisionError" not in response.content.decode()

    def test_healthz(self, client, monkeypatch):
        assert client.get("/healthz").json() == {"status": "ok"}

        def fail(*args, **kwargs):
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr("xuhui_portal.views.connection.cursor", fail)
        response = client.get("/healthz")
        assert response.status_code == 503 and response["Retry-After"]


def test_postgresql_statement_timeout_is_below_the_worker_timeout(monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "7000")
    config = database("postgres://portal@db.example.org:5432/portal")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=7000 -c max_parallel_workers_per_gather=0"
    monkeypatch.setenv("DB_PARALLEL_WORKERS", "2")
    assert database("postgres://db.example.org/portal")["OPTIONS"]["options"].endswith("_per_gather=2")
    assert config["CONN_HEALTH_CHECKS"] is True
    assert "options" not in database("sqlite:///portal.sqlite3").get("OPTIONS", {})


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL session setting")
def test_postgresql_sessions_run_queries_without_parallel_workers():
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


def test_one_log_line_per_request(client, caplog):
    make_incubator()
    with caplog.at_level(logging.INFO, logger="xuhui_portal.requests"):
        client.get("/incubators/?status=operating")
    [record] = [r for r in caplog.records if r.name == "xuhui_portal.requests"]
    method, path, status, duration, queries = record.getMessage().split()
    assert (method, path, status) == ("GET", "/incubators/?status=operating", "200")
    assert duration.endswith("ms") and queries.endswith("q") and int(queries[:-1]) > 0


class TestReadReplica:
    def test_router_sends_reads_to_the_replica_only_when_marked(self):
        router = db_router.ReadReplicaRouter()
        assert router.db_for_read(None) == "default"
        token = db_router.use_replica.set(True)
        try:
            assert router.db_for_read(None) == "replica"
            assert router.db_for_write(None) == "default"
        finally:
            db_router.use_replica.reset(token)

    def test_public_reads_are_marked_and_editors_reads_are_not(self, client, settings, monkeypatch):
        settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
        seen = []
        overview = selectors.home_overview
        monkeypatch.setattr(
            selectors, "home_overview", lambda: seen.append(db_router.use_replica.get()) or overview()
        )
        client.get("/")
        editor = Client()
        editor.force_login(User.objects.create_superuser("e", "e@example.org", "a-long-enough-password"))
        editor.get("/")
        assert seen == [True, False]


def test_gunicorn_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    namespace: dict = {}
    exec(open("deploy/gunicorn.conf.py").read(), namespace)
    assert (namespace["workers"], namespace["bind"], namespace["timeout"]) == (3, "0.0.0.0:9000", 30)
