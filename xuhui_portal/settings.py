"""Settings for the Xuhui Innovation Portal: one module, every deployment choice read from the environment.

See README.md ("Configuration") and .env.example for the variables.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, str(default)).strip().lower()
    if raw not in {"true", "false", "1", "0"}:
        raise ImproperlyConfigured(f"{name} must be true/false/1/0, got {raw!r}")
    return raw in {"true", "1"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default)).strip()
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")

INSTALLED_APPS = [
    "xuhui_portal.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.syndication",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "concurrency",
    "import_export",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "xuhui_portal",
    "districts",
    "incubators",
    "transfers",
]

MIDDLEWARE = [
    # Outermost: one log line per request, static files and errors included.
    "xuhui_portal.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files carry the policy too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions, locale and authentication: a hit skips them (see its docstring).
    "xuhui_portal.middleware.AnonymousCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "xuhui_portal.middleware.ApiLanguageMiddleware",
    "xuhui_portal.middleware.RejectNulBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication (it must know who is anonymous), before anything that writes.
    "xuhui_portal.middleware.ReadReplicaMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xuhui_portal.urls"
WSGI_APPLICATION = "xuhui_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]


def database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # A runaway query is cancelled (and answered 503) well before gunicorn would kill the worker.
        timeout = env_int("DB_STATEMENT_TIMEOUT_MS", 10_000)
        # No parallel query by default: with every core busy serving requests, the extra processes
        # a query would start only compete with them (English search under load: 31 → 48 rps).
        parallel = env_int("DB_PARALLEL_WORKERS", 0)
        config.setdefault("OPTIONS", {})["options"] = (
            f"-c statement_timeout={timeout} -c max_parallel_workers_per_gather={parallel}"
        )
        config["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
    return config


# SQLite file in the project unless DATABASE_URL names another database (PostgreSQL in production).
DATABASES = {"default": database(os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# Optional read replica: anonymous page and API reads go there (xuhui_portal/db_router.py).
if os.environ.get("READ_DATABASE_URL"):
    DATABASES["replica"] = {**database(os.environ["READ_DATABASE_URL"]), "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["xuhui_portal.db_router.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses any login, even with the right password, while the user and address are locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The admin lives at ADMIN_URL (e.g. "staff-7f3a/"), so scanners looking for /admin/ find nothing.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"
# Staff with a TOTP device must give its code at login; with OTP_REQUIRED every staff member must.
OTP_REQUIRED = env_bool("OTP_REQUIRED", False)
OTP_TOTP_ISSUER = "Xuhui Innovation Portal"

# Lock a username at one address out after 5 failed logins, for an hour (django-axes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False

# Read-only JSON API (django-rest-framework): the lists' own FilterSets, pages with counts,
# anonymous clients throttled (429 with Retry-After beyond the rate).
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["xuhui_portal.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "xuhui_portal.pagination.PortalPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["xuhui_portal.throttling.AnonymousApiThrottle"],
}
#: Requests an anonymous API client (one address) may make, e.g. "120/minute" or "5000/day".
API_ANON_RATE = os.environ.get("API_ANON_RATE", "120/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Xuhui Innovation Portal API",
    "DESCRIPTION": (
        "Read-only open data of Shanghai Xuhui District's innovation ecosystem: innovation districts, "
        "incubators, institutions, transfer platforms and projects, headline indicators, fields, sources "
        "and milestones. Published records only. Lists take the same filters as the portal's pages; "
        "several values of one filter are OR-ed, different filters AND-ed. Anonymous clients may make "
        "API_ANON_RATE requests (default 120 per minute) and get 429 with Retry-After beyond it."
    ),
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's validator badge would call validator.swagger.io: off (no request leaves the site).
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "xuhui_portal.api_schema.document_error_responses",
    ],
}

# Imports run in one transaction: a file with any bad row changes nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Shared cache: Redis when REDIS_URL is set (all processes and servers see the same pages and
# invalidations), local memory otherwise. A Redis outage is ignored: the site runs uncached.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# {% cache %} fragments that differ only by language (the header, the head's fixed links, the
# footer), kept in each process until it ends: a fragment costs a tenth of what rendering it did,
# and a Redis round trip would cost more than that. Their links are reversed under the process's
# script prefix: one deployment, one prefix. With DEBUG on, templates are re-read on every
# request, and so are these fragments.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends." + ("dummy.DummyCache" if DEBUG else "locmem.LocMemCache"),
    "LOCATION": "template-fragments",
    "TIMEOUT": None,
}
#: The benchmark's trivial view (/bench/trivial/), the ceiling it compares pages with; off in production.
BENCHMARK_VIEWS = env_bool("BENCHMARK_VIEWS", False)
#: Seconds an anonymous page or API response stays cached (0: no page cache).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Security ---------------------------------------------------------------------------------
# HTTPS: the site is served over TLS (by gunicorn behind a proxy, or the proxy itself); on by
# default in production. Off only for a local production-like run over plain HTTP (make serve,
# the benchmark).
HTTPS = env_bool("HTTPS", not DEBUG)
if env_bool("BEHIND_PROXY", False):
    # The proxy terminates TLS and says so; it must strip this header from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63_072_000) if HTTPS else 0  # two years
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
# The __Host- prefix pins a cookie to this host, path /, and HTTPS (browsers refuse it otherwise).
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script anywhere; the API docs' bootstrap scripts carry the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Mail (error reports to ADMINS, password resets): SMTP configured from the environment
# (Django 6.1's MAILERS); the console in development.
if DEBUG and not os.environ.get("EMAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 10,
            },
        }
    }
DEFAULT_FROM_EMAIL = SERVER_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")
ADMINS = [("Portal admins", address) for address in env_list("ADMIN_EMAILS")]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_mistake": {"()": "xuhui_portal.log_filters.ClientMistake"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"},
        # Errors, with tracebacks, go to stderr; users only ever see the 500/503 pages.
        "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # One line per request: method, path, status, duration, SQL query count.
        "xuhui_portal.requests": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # Logins, failures and lockouts (usernames and addresses, never passwords).
        "xuhui_portal.security": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        # A foreign Host header: a one-line warning (the request is answered 400).
        "django.security.DisallowedHost": {
            "handlers": ["stderr"],
            "filters": ["client_mistake"],
            "propagate": False,
        },
        "axes": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
