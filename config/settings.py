"""Settings, driven by the environment.

With nothing set, the site runs on one machine with no services: a SQLite file in
the repository (WAL mode) and the in-memory channel layer. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and channels-redis (``REDIS_URLS`` for several
Redis shards, ``REDIS_SENTINELS`` for Redis Sentinel). Every variable is listed in
README.md, "Configuration".
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" are yes)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable into a list."""
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string, or set "
            "DJANGO_DEBUG=1 to run with the development key (never in production)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# DJANGO_SECURE=1: the site is served over HTTPS only (TLS ends in a proxy in
# front; docs/deploy.md). What `manage.py check --deploy` asks of such a site.
if env_bool("DJANGO_SECURE"):
    SECURE_SSL_REDIRECT = True
    # Load balancers and scrapers reach each process directly, over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A year: what browsers' preload lists require. Start lower the first time
    # HTTPS is turned on (DJANGO_HSTS_SECONDS=3600): browsers remember it.
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS") or 365 * 86400)
    # Off where subdomains still serve plain HTTP; check --deploy then warns.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # Lets the domain be submitted to browsers' preload lists (nothing is sent).
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# DJANGO_SECURE_PROXY_SSL_HEADER=1: believe "X-Forwarded-Proto: https" from any
# client. Only where every request comes through a proxy that sets it; make
# serve's servers already take the scheme from trusted proxies (deploy.md).
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    # daphne first: its runserver serves ASGI (HTTP and WebSocket) in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "realtime",
    "giftlists",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "realtime.ops.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Django's database sessions, minus a key PostgreSQL cannot look up (a 500).
SESSION_ENGINE = "config.sessions"

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env() -> dict:
    """The default database: ``DATABASE_URL``, else a SQLite file in WAL mode."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    config = dj_database_url.parse(
        url,
        # Seconds a connection is kept for the next request or socket handshake;
        # 0 (the default) opens one per request. make serve sets 60.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    pool_size = int(os.environ.get("DATABASE_POOL_SIZE", "0"))
    if pool_size and config["ENGINE"] == "django.db.backends.postgresql":
        # Django runs each request in a thread of its own, so a persistent
        # connection is never reused by the next request: without a pool every
        # request opens a new PostgreSQL connection. make serve sets a pool.
        config["CONN_MAX_AGE"] = 0  # the pool keeps connections instead
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(4, pool_size),
            "max_size": pool_size,
            "timeout": 10,
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                # WAL lets readers (pages, sockets) go on while one writer commits.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                # Take the write lock when a transaction starts: concurrent writers
                # then queue instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_urls_from_env() -> list[str]:
    """The Redis shards named by URL: ``REDIS_URLS`` (comma-separated), or
    ``REDIS_URL`` as a single shard; both set is a mistake worth stopping for."""
    one = os.environ.get("REDIS_URL", "").strip()
    several = env_list("REDIS_URLS")
    if one and several:
        raise ImproperlyConfigured(
            "REDIS_URL and REDIS_URLS are both set. Set REDIS_URLS alone (one URL "
            "per shard, comma-separated), or REDIS_URL alone for one Redis."
        )
    return several or ([one] if one else [])


def redis_sentinels_from_env() -> tuple[list[tuple[str, int]], list[str]]:
    """``REDIS_SENTINELS`` (``host:port``, comma-separated) and the master
    name(s) they watch, ``REDIS_SENTINEL_MASTER`` (one per shard,
    comma-separated); empty lists when Sentinel is not used."""
    from config.cache import sentinel_address

    sentinels = env_list("REDIS_SENTINELS")
    masters = env_list("REDIS_SENTINEL_MASTER")
    if not sentinels and not masters:
        return [], []
    if not sentinels or not masters:
        raise ImproperlyConfigured(
            "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: the sentinels "
            "(host:port, comma-separated) and the name of the master they watch."
        )
    if redis_urls_from_env():
        raise ImproperlyConfigured(
            "REDIS_SENTINELS is set together with REDIS_URL or REDIS_URLS. With "
            "Sentinel the sentinels name the master: unset the URL(s)."
        )
    try:
        return [sentinel_address(item) for item in sentinels], masters
    except ValueError:
        raise ImproperlyConfigured(
            f"REDIS_SENTINELS must be host:port pairs, not {sentinels!r}."
        ) from None


def redis_hosts_from_env() -> list[dict]:
    """channels-redis ``hosts``, one per shard (empty: no Redis). The realtime
    app keeps presence, process heartbeats and connection counts on the first."""
    # No socket_timeout: redis-py enforces it with asyncio.wait_for, which on
    # Python 3.11 can swallow a task's cancellation, and then timeouts and
    # shutdowns around the layer hang. The layer's blocking receives time
    # out on the server (5 s), and the layer watch notices a Redis that
    # stops answering. A bounded pool keeps mass disconnects from opening
    # a connection each.
    pool = {"max_connections": 1000}
    sentinels, masters = redis_sentinels_from_env()
    if sentinels:
        password = os.environ.get("REDIS_SENTINEL_PASSWORD", "")
        master_password = os.environ.get("REDIS_PASSWORD", "")
        return [
            {
                "sentinels": sentinels,
                "master_name": master,
                "sentinel_kwargs": {"password": password} if password else None,
                **({"password": master_password} if master_password else {}),
                **pool,
            }
            for master in masters
        ]
    return [{"address": url, **pool} for url in redis_urls_from_env()]


def channel_layers_from_env() -> dict:
    """In-memory layer by default; Redis (``REDIS_URL``, ``REDIS_URLS`` or
    ``REDIS_SENTINELS``) selects channels-redis, sharded over every host.

    ``REALTIME_CHANNEL_LAYER`` picks channels-redis's ``core`` layer (default) or
    its ``pubsub`` layer.
    """
    hosts = redis_hosts_from_env()
    if not hosts:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    kind = os.environ.get("REALTIME_CHANNEL_LAYER", "core").strip() or "core"
    backends = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    if kind not in backends:
        raise ImproperlyConfigured(
            f"REALTIME_CHANNEL_LAYER must be one of {sorted(backends)}, not {kind!r}."
        )
    layer_config: dict = {
        "hosts": hosts,
        "prefix": os.environ.get("REDIS_PREFIX", "asgi"),
    }
    if kind == "core":
        layer_config["capacity"] = int(os.environ.get("CHANNEL_LAYER_CAPACITY", "1000"))
        layer_config["group_expiry"] = 86400
    return {"default": {"BACKEND": backends[kind], "CONFIG": layer_config}}


CHANNEL_LAYERS = channel_layers_from_env()


def caches_from_env() -> dict:
    """Memory per process by default; with Redis, Redis, so that what is
    counted there (failed sign-ins) is counted once for every process.

    With several shards the cache stays on the first: it holds a few small
    counters, and Django's RedisCache reads from its other LOCATIONs as
    replicas, which shards are not. Behind Sentinel it follows the (first)
    master."""
    options = {
        # Seconds before a stalled Redis fails a cache call (the sign-in
        # throttle then lets the sign-in through) instead of hanging it.
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
    }
    prefix = os.environ.get("REDIS_PREFIX", "asgi")
    sentinels, masters = redis_sentinels_from_env()
    if sentinels:
        password = os.environ.get("REDIS_SENTINEL_PASSWORD", "")
        master_password = os.environ.get("REDIS_PASSWORD", "")
        return {
            "default": {
                "BACKEND": "config.cache.SentinelRedisCache",
                "LOCATION": [f"{host}:{port}" for host, port in sentinels],
                "KEY_PREFIX": prefix,
                "OPTIONS": {
                    **options,
                    "master_name": masters[0],
                    "sentinel_kwargs": {"password": password} if password else None,
                    **({"password": master_password} if master_password else {}),
                },
            }
        }
    urls = redis_urls_from_env()
    if not urls:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": urls[0],
            "KEY_PREFIX": prefix,
            "OPTIONS": options,
        }
    }


CACHES = caches_from_env()

# Failed sign-ins are counted per client address and per username, on every
# sign-in path (giftlists/signin.py); past the limit within the window, both are
# refused until the window ends. 10 in 15 minutes: ample for a person who
# mistypes, a few hundred guesses a day for a script.
AUTHENTICATION_BACKENDS = ["giftlists.signin.ThrottledModelBackend"]
SIGNIN_FAILURE_LIMIT = 10
SIGNIN_FAILURE_WINDOW = 15 * 60
# Sign-ups per client address, every submission counted: a family signing up
# together behind one router fits; an account factory does not.
SIGNUP_LIMIT = 10
SIGNUP_WINDOW = 60 * 60
# Password reset requests per client address and per email: a person who does
# not find the mail asks again a few times; nobody's inbox gets flooded.
PASSWORD_RESET_LIMIT = 5
PASSWORD_RESET_WINDOW = 60 * 60

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# Mail (password resets) is printed on the console unless EMAIL_HOST names an
# SMTP server; README.md, "Configuration", lists the EMAIL_* variables.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "webmaster@localhost"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
    # STARTTLS unless told otherwise; Django refuses it together with SSL.
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or (465 if EMAIL_USE_SSL else 587))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    # Seconds before a mail server that stops answering fails the request.
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    # Token first: a request without credentials gets 401 with
    # "WWW-Authenticate: Token", which tells API clients how to sign in.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser lets deep nesting escape as a 500 (RecursionError); this
    # one answers 400 past REALTIME["MAX_JSON_DEPTH"] levels, as the WebSocket.
    "DEFAULT_PARSER_CLASSES": [
        "realtime.transports.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    # 50 a page: a family's lists and a list's gifts fit on one page.
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per user (giftlists/throttles.py): invitations enough for a whole family
    # in one sitting; accept attempts, right or wrong, far more than a person
    # needs and far too few to guess a token.
    "DEFAULT_THROTTLE_RATES": {
        "invitations": "30/hour",
        "invitation_accept": "60/hour",
    },
}

# How long an invitation link works (giftlists.services.create_invitation).
GIFTLISTS_INVITATION_TTL = timedelta(days=7)
# The currency a new family's prices are in until its admin picks another
# (an ISO 4217 code; giftlists.currencies).
GIFTLISTS_DEFAULT_CURRENCY = (
    os.environ.get("GIFTLISTS_DEFAULT_CURRENCY", "EUR").strip().upper() or "EUR"
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Gift lists API",
    "DESCRIPTION": "Families, their gift lists and gifts, with live events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Offline assets for the interactive docs: nothing is loaded from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The realtime app's settings; every key and its default is in realtime/conf.py.
REALTIME: dict = {
    # PROTOCOL.md section 6: staff may follow any topic of the site.
    "STAFF_BYPASS_POLICIES": True,
    # REALTIME_DISABLED=1 measures what realtime costs a REST write (make bench,
    # scenario S4): no app registers its models or policies.
    "AUTODISCOVER": not env_bool("REALTIME_DISABLED"),
}
if os.environ.get("REALTIME_EVENT_RETENTION_HOURS"):
    REALTIME["EVENT_RETENTION"] = (
        float(os.environ["REALTIME_EVENT_RETENTION_HOURS"]) * 3600
    )
if os.environ.get("REALTIME_METRICS_TOKEN"):
    REALTIME["METRICS_TOKEN"] = os.environ["REALTIME_METRICS_TOKEN"]
if os.environ.get("REALTIME_SSE_KEEPALIVE_SECONDS"):
    REALTIME["SSE_KEEPALIVE"] = float(os.environ["REALTIME_SSE_KEEPALIVE_SECONDS"])

# "json" (one object a line, for log collectors) or "text" (for people); JSON is
# the default with DEBUG off.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
_ONE_HANDLER = {"handlers": ["console"], "level": "INFO", "propagate": False}
# uvicorn logs every WebSocket handshake (path and query) at INFO on
# uvicorn.error: an access log by another name, and a twentieth of what
# opening a connection costs. Like the access logs, only with ACCESS_LOG=1.
# (uvicorn decides whether to write its access log by whether the logger has
# a handler, which this configuration gives it: its level decides instead.)
_ACCESS_LOG = os.environ.get("ACCESS_LOG", "").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}
_UVICORN_LOGS = {**_ONE_HANDLER, "level": "INFO" if _ACCESS_LOG else "WARNING"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "realtime.ops.logging.RequestContextFilter"},
        "redact_tokens": {"()": "realtime.ops.logging.RedactTokensFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [trace=%(trace_id)s] "
            "%(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(trace_id)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # Redact first: ASGI servers log paths with query strings (?token=).
            "filters": ["redact_tokens", "request_context"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        # Each of these would otherwise print through a handler of its own, twice,
        # or without the redaction: Django's console handler, the ASGI servers'.
        "django": _ONE_HANDLER,
        # Django's own development server logs every request, query included,
        # through a handler of its own.
        "django.server": _ONE_HANDLER,
        "django.db.backends": {"level": "INFO"},
        # daphne.access too (scripts/run_daphne.py logs daphne's access log).
        "daphne": _ONE_HANDLER,
        "uvicorn": _ONE_HANDLER,
        "uvicorn.error": _UVICORN_LOGS,
        "uvicorn.access": _UVICORN_LOGS,
    },
}
