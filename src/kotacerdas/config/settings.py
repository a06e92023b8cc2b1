"""Django settings for Kota Cerdas, read from the environment.

Every variable is listed with its default in `.env.example`. The defaults run the
embedded demo city: a SQLite file and keys under `var/`, bound to 127.0.0.1.
"""

import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet as xstatic_leaflet
from django.utils.translation import gettext_lazy as _

from kotacerdas.config.env import (
    SettingError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("KOTACERDAS_VAR_DIR", Path.cwd() / "var").resolve()
KEYS_DIR = env_path("KOTACERDAS_KEYS_DIR", VAR_DIR / "keys")


def _load_or_create_secret_key() -> str:
    """Return the Django secret key, creating a private one for the embedded city.

    Production passes DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE); a laptop run
    keeps a random key under var/keys so sessions survive restarts.
    """
    configured = env_str("DJANGO_SECRET_KEY", "")
    if configured:
        return configured
    path = KEYS_DIR / "django-secret-key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    KEYS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(key, encoding="utf-8")
    return key


SECRET_KEY = _load_or_create_secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "kotacerdas.config",
    "kotacerdas.city",
    "kotacerdas.accounts",
    "kotacerdas.journal",
    "kotacerdas.registry",
    "kotacerdas.wallet",
    "kotacerdas.levy",
    "kotacerdas.reconciliation",
    "kotacerdas.snap",
    "kotacerdas.waste",
    "kotacerdas.waste.bank",
    "kotacerdas.waste.reports",
    "kotacerdas.command",
    "kotacerdas.pilot",
    "kotacerdas.sharing",
    "kotacerdas.ops",
    "kotacerdas.demo",
]

MIDDLEWARE = [
    # First, so that request latency covers every other middleware too.
    "kotacerdas.ops.middleware.RequestMetricsMiddleware",
    # Gives every error under /api/ the API's JSON error shape.
    "kotacerdas.config.request_limits.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kotacerdas.config.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kotacerdas.config.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so that its 413 page can show the signed-in user.
    "kotacerdas.config.request_limits.RequestLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # Turns a page's ServiceOff error into a 403 page naming service and area.
    "kotacerdas.pilot.middleware.ServiceOffMiddleware",
]

ROOT_URLCONF = "kotacerdas.config.urls"
WSGI_APPLICATION = "kotacerdas.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kotacerdas.accounts.context.roles",
                "kotacerdas.pilot.context.services_on",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another one.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kotacerdas.sqlite3'}")
_database = dj_database_url.parse(
    DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE_S", 60)
)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take the write lock at BEGIN, so two
    # writers queue instead of failing with "database is locked" on upgrade.
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_float("SQLITE_BUSY_TIMEOUT_S", 30.0, minimum=0.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _database["CONN_MAX_AGE"] = 0
elif _database["ENGINE"] == "django.db.backends.postgresql":
    _database.setdefault("OPTIONS", {})
else:
    raise SettingError(
        f"DATABASE_URL uses the unsupported engine {_database['ENGINE']}; "
        "use sqlite:///path or postgres://user@host/name."
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): lock a username from one address after
# repeated failures, for a cool-off period.
AXES_FAILURE_LIMIT = env_int("KOTACERDAS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_int("KOTACERDAS_LOGIN_COOLOFF_MIN", 15, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lock do not restart it, so the lock ends at the time the page shows.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Scan limits per signed-in user (or client address) and minute: the scan
# page, the plate check API and the pickup API. A pickup sync after a day
# offline sends one request per queued pickup, so its limit is higher.
KOTACERDAS_SCAN_LIMIT_PER_MIN = env_int("KOTACERDAS_SCAN_LIMIT_PER_MIN", 60, minimum=1)
KOTACERDAS_PICKUP_LIMIT_PER_MIN = env_int(
    "KOTACERDAS_PICKUP_LIMIT_PER_MIN", 600, minimum=1
)

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("KOTACERDAS_TIME_ZONE", "Asia/Jakarta")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from Python packages, never from a CDN: the
# command center must work on a closed city network.
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/leaflet", xstatic_leaflet.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# Sent on every response; an empty value sends none. Scripts and styles stay
# unrestricted because several pages carry inline scripts.
KOTACERDAS_CONTENT_SECURITY_POLICY = env_str(
    "KOTACERDAS_CONTENT_SECURITY_POLICY",
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
)

# Kota Cerdas itself.
KOTACERDAS_CITY = env_str("KOTACERDAS_CITY", "padang-panjang")
KOTACERDAS_SIGNING_KEY_FILE = env_path(
    "KOTACERDAS_SIGNING_KEY_FILE", KEYS_DIR / "node-ed25519.pem"
)
KOTACERDAS_LEDGER_ORIGIN = env_str(
    "KOTACERDAS_LEDGER_ORIGIN", "kotacerdas.padangpanjang.local/journal"
)
KOTACERDAS_SEAL_INTERVAL_S = env_float("KOTACERDAS_SEAL_INTERVAL_S", 5.0, minimum=0.1)
KOTACERDAS_SEAL_MAX_ENTRIES = env_int("KOTACERDAS_SEAL_MAX_ENTRIES", 50_000, minimum=1)
# Key for the salted hashes that let events refer to personal data without
# containing it; by default a random key created under var/keys.
KOTACERDAS_PERSONAL_DATA_SALT = env_str("KOTACERDAS_PERSONAL_DATA_SALT", "")
# Key (32 bytes, base64) that encrypts NIK and KK numbers at rest and keys
# their search index; by default a random key created under var/keys.
KOTACERDAS_PII_KEY = env_str("KOTACERDAS_PII_KEY", "")
# The plate key signs the QR codes on building plates.
KOTACERDAS_PLATE_KEY_FILE = env_path(
    "KOTACERDAS_PLATE_KEY_FILE", KEYS_DIR / "plate-ed25519.pem"
)
# The address printed in plate QR codes: the city's public scan page.
KOTACERDAS_PUBLIC_URL = env_str("KOTACERDAS_PUBLIC_URL", "http://127.0.0.1:8000")
# Largest registry import file accepted, in bytes.
KOTACERDAS_IMPORT_MAX_BYTES = env_int(
    "KOTACERDAS_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024
)
# Request size limits; config/request_limits.py returns 413 above them. A body
# that is not multipart (JSON, a form without files) is read into memory up to
# this size, in bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "KOTACERDAS_MAX_BODY_BYTES", 2_621_440, minimum=1024
)
# Fields in one form body, and parameters in one query string.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("KOTACERDAS_MAX_FIELDS", 1000, minimum=10)
# A multipart body with files, in bytes; the largest upload (an import) fits.
KOTACERDAS_MAX_REQUEST_BYTES = env_int(
    "KOTACERDAS_MAX_REQUEST_BYTES",
    KOTACERDAS_IMPORT_MAX_BYTES + 4 * 1024 * 1024,
    minimum=1024,
)
# Street map tiles, only when a tile server is configured (the map works
# without them, on kelurahan boundaries from the city profile).
KOTACERDAS_MAP_TILE_URL = env_str("KOTACERDAS_MAP_TILE_URL", "")
KOTACERDAS_MAP_TILE_ATTRIBUTION = env_str("KOTACERDAS_MAP_TILE_ATTRIBUTION", "")
KOTACERDAS_DEMO_PASSWORD = env_str("KOTACERDAS_DEMO_PASSWORD", "kotacerdas-demo")
# Size of the demo city `kotacerdas run` builds into an empty database:
# small, city or large.
KOTACERDAS_DEMO_SIZE = env_str("KOTACERDAS_DEMO_SIZE", "city")
# Whether the worker records the demo crews' pickups as their stops fall due
# (job "demo-crews"). `kotacerdas run` turns it on unless started with --no-demo.
KOTACERDAS_DEMO_CREWS = env_bool("KOTACERDAS_DEMO_CREWS", False)
# The demo citizens pay shops, top up, pay levies and file reports through the
# services (job "demo-citizens"). `kotacerdas run` turns it on unless --no-demo.
KOTACERDAS_DEMO_CITIZENS = env_bool("KOTACERDAS_DEMO_CITIZENS", False)

# Witnesses (see docs/witnesses.md). A checkpoint counts as witnessed once this
# many of the active witnesses have co-signed it.
KOTACERDAS_WITNESS_QUORUM = env_int("KOTACERDAS_WITNESS_QUORUM", 2, minimum=1)
KOTACERDAS_WITNESS_INTERVAL_S = env_float(
    "KOTACERDAS_WITNESS_INTERVAL_S", 5.0, minimum=0.1
)
KOTACERDAS_WITNESS_TIMEOUT_S = env_float(
    "KOTACERDAS_WITNESS_TIMEOUT_S", 10.0, minimum=0.1
)
# Demo witnesses `kotacerdas run` starts beside the city (0 for none); their
# state and keys live under var/witnesses/.
KOTACERDAS_DEMO_WITNESSES = env_int("KOTACERDAS_DEMO_WITNESSES", 3, minimum=0)

# Anchoring on an EVM chain (see docs/anchoring.md). An empty URL means: the
# local anvil node `kotacerdas run` starts when one is installed, otherwise the
# in-process development chain, which is lost on restart.
KOTACERDAS_CHAIN_URL = env_str("KOTACERDAS_CHAIN_URL", "")
KOTACERDAS_CHAIN_KEY_FILE = env_path(
    "KOTACERDAS_CHAIN_KEY_FILE", KEYS_DIR / "chain-operator.key"
)
KOTACERDAS_ANCHOR_INTERVAL_S = env_float(
    "KOTACERDAS_ANCHOR_INTERVAL_S", 60.0, minimum=1.0
)
# Partner attestations the anchor contract needs before a root is final.
KOTACERDAS_ANCHOR_THRESHOLD = env_int("KOTACERDAS_ANCHOR_THRESHOLD", 2, minimum=1)

# Waste management (see docs/waste.md).
# Uploaded photos (pickups, citizen reports) are kept here.
MEDIA_ROOT = env_path("KOTACERDAS_MEDIA_DIR", VAR_DIR / "media")
MEDIA_URL = "/media/"
# A pickup scanned farther than this from its point's location is flagged.
KOTACERDAS_PICKUP_FLAG_DISTANCE_M = env_int(
    "KOTACERDAS_PICKUP_FLAG_DISTANCE_M", 150, minimum=10
)
# A second scan of the same point within this window is not counted again.
KOTACERDAS_PICKUP_REPEAT_WINDOW_S = env_int(
    "KOTACERDAS_PICKUP_REPEAT_WINDOW_S", 1800, minimum=0
)
# Levy credit for a confirmed missed pickup, as a share of the month's tariff
# divided by the scheduled pickups of the month; 0 turns the rule off.
KOTACERDAS_MISSED_PICKUP_CREDIT = env_bool("KOTACERDAS_MISSED_PICKUP_CREDIT", True)
# Distances: great-circle times this factor, unless a road-network table
# service (OSRM /table or Valhalla /sources_to_targets) is configured.
KOTACERDAS_ROAD_FACTOR = env_float("KOTACERDAS_ROAD_FACTOR", 1.35, minimum=1.0)
KOTACERDAS_ROUTING_SPEED_KMH = env_float(
    "KOTACERDAS_ROUTING_SPEED_KMH", 20.0, minimum=1.0
)
KOTACERDAS_OSRM_URL = env_str("KOTACERDAS_OSRM_URL", "")
KOTACERDAS_VALHALLA_URL = env_str("KOTACERDAS_VALHALLA_URL", "")
KOTACERDAS_ROUTING_TIME_LIMIT_S = env_float(
    "KOTACERDAS_ROUTING_TIME_LIMIT_S", 10.0, minimum=0.5
)
# Name of the registered routing engine the planner uses (see waste/routing).
KOTACERDAS_ROUTING_ENGINE = env_str("KOTACERDAS_ROUTING_ENGINE", "pyvrp")
# Container sensors over MQTT: broker address and the topic prefix; a
# container's readings arrive on <prefix>/<sensor id>.
KOTACERDAS_MQTT_URL = env_str("KOTACERDAS_MQTT_URL", "mqtt://127.0.0.1:1883")
KOTACERDAS_MQTT_TOPIC_PREFIX = env_str(
    "KOTACERDAS_MQTT_TOPIC_PREFIX", "kotacerdas/padang-panjang/containers"
)
# A sensor with no reading for this long is flagged silent.
KOTACERDAS_SENSOR_SILENT_AFTER_S = env_int(
    "KOTACERDAS_SENSOR_SILENT_AFTER_S", 3 * 3600, minimum=60
)
# Whether `kotacerdas run` starts the demo's sensor simulator, and its
# simulated seconds per real second (10: a simulated day every 2.4 hours).
KOTACERDAS_SENSOR_SIM = env_bool("KOTACERDAS_SENSOR_SIM", True)
KOTACERDAS_SENSOR_SIM_SPEED = env_float("KOTACERDAS_SENSOR_SIM_SPEED", 10.0, minimum=0)

# Monitoring (see docs/monitoring.md).
# Bearer token that unlocks /metrics and the detailed /health report. While it
# is empty, only requests sent straight to the app server from this machine
# (loopback, no proxy headers) and users with ops.view_monitoring get them.
KOTACERDAS_METRICS_TOKEN = env_str("KOTACERDAS_METRICS_TOKEN", "")
# This server's name in heartbeats and metrics; by default the host name.
KOTACERDAS_INSTANCE_NAME = env_str("KOTACERDAS_INSTANCE_NAME", socket.gethostname())
# The worker and the sensor intake write their heartbeat this often.
KOTACERDAS_HEARTBEAT_INTERVAL_S = env_float(
    "KOTACERDAS_HEARTBEAT_INTERVAL_S", 10.0, minimum=1.0
)
# A database round trip slower than this makes the database check warn.
KOTACERDAS_HEALTH_DB_WARN_MS = env_float(
    "KOTACERDAS_HEALTH_DB_WARN_MS", 250.0, minimum=1.0
)
# Whether the health report expects the MQTT sensor intake to run when
# containers have sensors; turn it off when sensors report over HTTP only.
KOTACERDAS_HEALTH_MQTT_INTAKE = env_bool("KOTACERDAS_HEALTH_MQTT_INTAKE", True)


def _age_limits(check: str, warn_s: float, fail_s: float) -> tuple[float, float]:
    """Read a health check's warn and fail ages in seconds from the environment."""
    warn = env_float(f"KOTACERDAS_HEALTH_{check}_WARN_S", warn_s, minimum=1.0)
    fail = env_float(f"KOTACERDAS_HEALTH_{check}_FAIL_S", fail_s, minimum=1.0)
    if fail < warn:
        raise SettingError(
            f"KOTACERDAS_HEALTH_{check}_FAIL_S={fail} is below "
            f"KOTACERDAS_HEALTH_{check}_WARN_S={warn}; the fail age must be the "
            "larger one."
        )
    return warn, fail


# Ages in seconds at which a health check turns warn and fail, by check.
KOTACERDAS_HEALTH_AGE_LIMITS_S = {
    "heartbeat": _age_limits("HEARTBEAT", 120.0, 600.0),
    "checkpoint": _age_limits("CHECKPOINT", 60.0, 600.0),
    "witness": _age_limits("WITNESS", 300.0, 1800.0),
    "anchor": _age_limits("ANCHOR", 900.0, 3600.0),
    "rollups": _age_limits("ROLLUPS", 300.0, 1800.0),
    "mqtt": _age_limits("MQTT", 1800.0, 10800.0),
}
# prometheus_client's multiprocess mode: every web server process writes its
# request metrics to files here, and /metrics adds them up. The client reads
# the variable from the environment, so it is set there too. Empty the
# directory before the web server starts (see docs/monitoring.md).
PROMETHEUS_MULTIPROC_DIR = env_path("PROMETHEUS_MULTIPROC_DIR", VAR_DIR / "prometheus")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# text: one plain line per record; json: one JSON object per line.
KOTACERDAS_LOG_FORMAT = env_str("KOTACERDAS_LOG_FORMAT", "text").lower()
if KOTACERDAS_LOG_FORMAT not in {"text", "json"}:
    raise SettingError(
        f"KOTACERDAS_LOG_FORMAT={KOTACERDAS_LOG_FORMAT!r} is invalid; use text or json."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(process)d %(name)s %(message)s"
        },
        "json": {"()": "kotacerdas.ops.logging_json.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "kotacerdas.ops.logging_json.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if KOTACERDAS_LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # axes logs usernames and client addresses at INFO; keep only its warnings.
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
if KOTACERDAS_LOG_FORMAT == "json":
    # gunicorn gives its loggers their own text handlers; in the web server's
    # worker processes these lines then go through the JSON handler instead.
    for _gunicorn_logger in ("gunicorn.error", "gunicorn.access"):
        LOGGING["loggers"][_gunicorn_logger] = {  # type: ignore[index]
            "handlers": ["console"],
            "propagate": False,
        }
