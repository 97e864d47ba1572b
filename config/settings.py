"""RedWheel settings. Every value comes from the environment (see .env.example)."""

import os
from pathlib import Path

import dj_database_url

from config import dev_secrets
from config.env import env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / env_str("ENV_FILE", ".env"))  # an absolute ENV_FILE stays as it is

DEBUG = env_bool("DEBUG", False)
# The development defaults of every secret are refused with DEBUG off (redwheel/core/checks.py).
SECRET_KEY = env_str("SECRET_KEY", dev_secrets.SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "redwheel.core.admin_apps.RedWheelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "redwheel.core",
    "redwheel.accounts",
    "redwheel.orgs",
    "redwheel.drivers",
    "redwheel.exchange",
    "redwheel.scoring",
    "redwheel.dispatch",
    "redwheel.appeals",
    "redwheel.mobilization",
    "redwheel.party.recruitment",
    "redwheel.party.meetings",
    "redwheel.party.evaluation",
    "redwheel.party.dues",
    "redwheel.party.mobile",
    "redwheel.party",
    "redwheel.insights",
    "redwheel.demo",  # the top layer: builds the demo city from every app's demo hook
]

MIDDLEWARE = [
    # First: the load balancer's probes are answered before host validation, HTTPS redirects,
    # sessions and locale, and the request metrics time everything below them.
    "redwheel.core.health.ProbeMiddleware",
    "redwheel.core.metrics.PrometheusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early, to wrap every middleware that may reach the database: a lost database is a 503.
    "redwheel.core.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "redwheel.core.middleware.DomainErrorMiddleware",  # last: renders what views raise
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "redwheel" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "redwheel.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'redwheel.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A persistent connection is tested before each request's first query, so one that
        # died with a database restart is replaced instead of failing that request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the task worker share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's prepared statements off (prepare_threshold None) for poolers.
    # Its client-side-binding cursors never prepare anyway; a threshold no query reaches keeps
    # automatic preparation off while the platform look-ups (scoring.lookup) prepare
    # explicitly. Behind PgBouncer in transaction mode this needs PgBouncer >= 1.21 with
    # max_prepared_statements set (docs/operations.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["redwheel.accounts.backends.PhoneBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
ACTIVATION_CODE_TTL_MINUTES = env_int("ACTIVATION_CODE_TTL_MINUTES", 10)
ACTIVATION_CODE_MAX_ATTEMPTS = env_int("ACTIVATION_CODE_MAX_ATTEMPTS", 5)
# One SMS code per account per interval and a daily cap: no SMS flood, no endless guessing.
ACTIVATION_CODE_RESEND_SECONDS = env_int("ACTIVATION_CODE_RESEND_SECONDS", 60)
ACTIVATION_CODES_PER_DAY = env_int("ACTIVATION_CODES_PER_DAY", 5)

# HTTPS. Off by default so development and tests run over plain HTTP; production turns them
# on (docs/operations.md), and `manage.py check --deploy` warns about any left off.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: the request header that carries the original scheme, e.g.
# X-Forwarded-Proto. Only set it when the proxy always overwrites that header.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "redwheel" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "redwheel" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 50)

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env_str("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL"),
        # Fail fast when Redis is gone: callers fall back to the database (scoring.cache).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "ENQUEUE_ON_COMMIT": True,
    }
}

# Personal data: Fernet keys (urlsafe base64, 32 bytes). The first key encrypts; all decrypt,
# so rotating means prepending a new key and running `manage.py rotate_pii_keys`.
PII_ENCRYPTION_KEYS = env_list("PII_ENCRYPTION_KEYS", dev_secrets.PII_ENCRYPTION_KEY)
PII_BLIND_INDEX_KEY = env_str("PII_BLIND_INDEX_KEY", dev_secrets.PII_BLIND_INDEX_KEY)
# Only while rotating the blind-index key: the previous key, for `rotate_pii_keys --reindex`.
PII_OLD_BLIND_INDEX_KEY = env_str("PII_OLD_BLIND_INDEX_KEY", "")

# Exchange ingestion: batch size limit, position sampling and retention.
EXCHANGE_MAX_BATCH = env_int("EXCHANGE_MAX_BATCH", 5000)
# Badge/score look-ups per platform token and window (seconds); see docs/scoring.md.
SCORING_LOOKUP_RATE_LIMIT = env_int("SCORING_LOOKUP_RATE_LIMIT", 1200)
SCORING_LOOKUP_RATE_WINDOW = env_int("SCORING_LOOKUP_RATE_WINDOW", 60)
POSITION_SAMPLE_SECONDS = env_int("POSITION_SAMPLE_SECONDS", 60)
POSITION_RETENTION_DAYS = env_int("POSITION_RETENTION_DAYS", 90)
# Months of exchange facts kept on PostgreSQL (this month included); older monthly partitions
# are dropped whole by the daily partition job. 0 keeps everything. docs/operations.md.
EXCHANGE_RETENTION_MONTHS = env_int("EXCHANGE_RETENTION_MONTHS", 36)

# The console backend prints codes to the log: development only (refused with DEBUG off).
# Production uses redwheel.core.sms.HttpSmsBackend (docs/operations.md) or its own class.
SMS_BACKEND = env_str("SMS_BACKEND", "redwheel.core.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_KEY = env_str("SMS_GATEWAY_KEY", "")
SMS_GATEWAY_SECRET = env_str("SMS_GATEWAY_SECRET", "")
SMS_GATEWAY_TIMEOUT_SECONDS = env_int("SMS_GATEWAY_TIMEOUT_SECONDS", 10)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
# Off: webhooks to private, loopback, link-local, ... addresses are refused (SSRF guard).
# Turn on only for a closed intranet whose platforms' endpoints have private addresses.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)
# How long a worker's claim on a notification lasts before another worker may retry it;
# keep it well above WEBHOOK_TIMEOUT_SECONDS so a slow send is not sent twice.
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 120)

# Health checks and metrics (docs/operations.md, "Health checks and metrics"). /readyz fails
# when no worker heartbeat is younger than READY_WORKER_MAX_AGE_S seconds (0: not checked);
# workers write one every WORKER_HEARTBEAT_SECONDS. READY_DB_TIMEOUT_SECONDS bounds the
# readiness check's own database connection and query.
READY_WORKER_MAX_AGE_S = env_int("READY_WORKER_MAX_AGE_S", 120)
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
READY_DB_TIMEOUT_SECONDS = env_int("READY_DB_TIMEOUT_SECONDS", 2)
# /metrics (Prometheus) answers 404 unless enabled, and then only to "Authorization: Bearer
# <METRICS_TOKEN>"; with DEBUG off an enabled endpoint needs a long token (redwheel.E011).
METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Gunicorn with several worker processes: a directory, emptied at each start, where
# prometheus_client's multiprocess mode keeps every process's request metrics. prometheus_client
# switches mode on the variable's mere presence, so an empty value is removed.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
if not PROMETHEUS_MULTIPROC_DIR:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# No compulsion (domain-rules §1, redwheel/core/compulsion.py): on, nothing may count logins,
# check-ins, time, clicks, likes or shares toward a score, ranking or assessment, and rankings
# of persons stay off. Turning it off is a tenant's explicit, visible decision.
NO_COMPULSION = env_bool("NO_COMPULSION", True)
