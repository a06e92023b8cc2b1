"""Production settings: `DJANGO_SETTINGS_MODULE=kotacerdas.config.production`.

These are the normal settings, read from the same environment, with what a city
server behind nginx needs on top. DEBUG is off and the database is PostgreSQL.
Pages are served over HTTPS only: secure cookies, HSTS, and a redirect to HTTPS
that trusts nginx's X-Forwarded-Proto. Secrets come from the environment or
from `<NAME>_FILE`.

The embedded city creates missing secrets under var/keys on first use. Here a
missing secret stops the process at start, because a new random key would
silently make stored NIK and KK numbers unreadable or change every personal-data
hash. The only fallbacks are the salt and the personal-data key files that an
earlier run created (or a restore put back) under the keys directory.

Every problem found is listed in one SettingError, with the variable and the fix.
"""

import base64
import binascii
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.http.request import validate_host

from kotacerdas.config.env import SettingError, env_bool, env_int, env_list, env_str

MIN_SECRET_KEY_LENGTH = 50
MIN_SALT_LENGTH = 32
PII_KEY_BYTES = 32
# One year, the minimum the HSTS preload list requires. A city trying HTTPS for
# the first time can start lower with DJANGO_HSTS_SECONDS=3600.
DEFAULT_HSTS_SECONDS = 31_536_000
RANDOM_TEXT_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
PII_KEY_COMMAND = (
    "python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())'"
)


def _secret_key_problems() -> list[str]:
    key = env_str("DJANGO_SECRET_KEY", "")
    if not key:
        return [
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is missing; "
            f"make one with: {RANDOM_TEXT_COMMAND}"
        ]
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < 5
        or key.startswith("django-insecure-")
    ):
        return [
            f"DJANGO_SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} "
            f"random characters, made with: {RANDOM_TEXT_COMMAND}"
        ]
    return []


def _database_problems() -> list[str]:
    url = env_str("DATABASE_URL", "")
    if not url:
        return [
            "DATABASE_URL is missing; production runs on PostgreSQL, such as "
            "postgres://kotacerdas@127.0.0.1:5432/kotacerdas"
        ]
    try:
        engine = dj_database_url.parse(url)["ENGINE"]
    except ValueError as error:
        return [f"DATABASE_URL is invalid ({error}); use postgres://user@host/name"]
    if engine != "django.db.backends.postgresql":
        scheme = url.split(":", 1)[0]
        return [
            f"DATABASE_URL uses {scheme}, but production runs on PostgreSQL only; "
            "use postgres://user@host:5432/name"
        ]
    return []


def _address_problems() -> list[str]:
    problems = []
    hosts = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not hosts:
        problems.append(
            "DJANGO_ALLOWED_HOSTS is missing; set the city's host name, "
            "such as kotacerdas.padangpanjang.go.id"
        )
    elif "*" in hosts:
        problems.append(
            "DJANGO_ALLOWED_HOSTS must not contain '*'; list the host names"
        )
    public_url = env_str("KOTACERDAS_PUBLIC_URL", "")
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname:
        problems.append(
            f"KOTACERDAS_PUBLIC_URL={public_url!r} is invalid; set the https:// "
            "address citizens open, because plate QR codes and receipts print it"
        )
    elif hosts and not _host_allowed(parts.hostname, hosts):
        problems.append(
            f"KOTACERDAS_PUBLIC_URL names host {parts.hostname}, which is not in "
            "DJANGO_ALLOWED_HOSTS; add it there, or scanned plates are rejected"
        )
    return problems


def _host_allowed(host: str, allowed: list[str]) -> bool:
    # Django compares the Host header, which puts an IPv6 address in brackets.
    return validate_host(f"[{host}]" if ":" in host else host, allowed)


def _keys_dir_problems() -> tuple[Path | None, list[str]]:
    var_dir = env_str("KOTACERDAS_VAR_DIR", "")
    if not var_dir or not Path(var_dir).is_absolute():
        return None, [
            f"KOTACERDAS_VAR_DIR={var_dir!r} is invalid; set an absolute path, "
            "such as /var/lib/kotacerdas"
        ]
    keys_dir = env_str("KOTACERDAS_KEYS_DIR", "") or str(Path(var_dir) / "keys")
    return Path(keys_dir), []


def _keys_dir_label(keys_dir: Path | None) -> str:
    return str(keys_dir) if keys_dir is not None else "the keys directory"


def _salt_problems(keys_dir: Path | None) -> list[str]:
    salt = env_str("KOTACERDAS_PERSONAL_DATA_SALT", "")
    if salt:
        if len(salt) < MIN_SALT_LENGTH:
            return [
                f"KOTACERDAS_PERSONAL_DATA_SALT is too short: use at least "
                f"{MIN_SALT_LENGTH} random characters, made with: {RANDOM_TEXT_COMMAND}"
            ]
        return []
    if keys_dir is not None and (keys_dir / "personal-data-salt").is_file():
        return []
    return [
        "KOTACERDAS_PERSONAL_DATA_SALT (or its _FILE) is missing, and there is no "
        f"personal-data-salt in {_keys_dir_label(keys_dir)}; make one with: "
        f"{RANDOM_TEXT_COMMAND} "
        "(keep it with the backups: a new salt changes every personal-data hash)"
    ]


def _pii_key_problems(keys_dir: Path | None) -> list[str]:
    encoded = env_str("KOTACERDAS_PII_KEY", "")
    if encoded:
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != PII_KEY_BYTES:
            return [
                "KOTACERDAS_PII_KEY is invalid: it must be 32 random bytes in "
                f"base64, made with: {PII_KEY_COMMAND}"
            ]
        return []
    if keys_dir is not None and (keys_dir / "personal-data-key").is_file():
        return []
    return [
        "KOTACERDAS_PII_KEY (or its _FILE) is missing, and there is no "
        f"personal-data-key in {_keys_dir_label(keys_dir)}; make one with: "
        f"{PII_KEY_COMMAND} "
        "(back it up: without it stored NIK and KK numbers cannot be read)"
    ]


def _switch_problems() -> list[str]:
    problems = []
    if env_bool("DJANGO_DEBUG", False):
        problems.append("DJANGO_DEBUG=true is not allowed in production; unset it")
    if not env_bool("DJANGO_SECURE_COOKIES", True):
        problems.append(
            "DJANGO_SECURE_COOKIES=false is not allowed in production, which is "
            "served over HTTPS only; unset it"
        )
    for name in ("KOTACERDAS_DEMO_CREWS", "KOTACERDAS_DEMO_CITIZENS"):
        if env_bool(name, False):
            problems.append(
                f"{name}=true would make the worker record invented activity; "
                "unset it in production"
            )
    return problems


def environment_problems() -> list[str]:
    """Return every reason the environment is not fit for production, or []."""
    keys_dir, problems = _keys_dir_problems()
    problems += _secret_key_problems()
    problems += _database_problems()
    problems += _address_problems()
    problems += _salt_problems(keys_dir)
    problems += _pii_key_problems(keys_dir)
    problems += _switch_problems()
    return problems


# The check runs before the normal settings are imported, because importing them
# creates a random secret key under var/keys when none is configured.
_problems = environment_problems()
if _problems:
    raise SettingError(
        "the environment is not ready for production "
        "(DJANGO_SETTINGS_MODULE=kotacerdas.config.production):\n- "
        + "\n- ".join(_problems)
    )

from kotacerdas.config.settings import *  # noqa: E402, F403
from kotacerdas.config.settings import DATABASES  # noqa: E402

DEBUG = False
WHITENOISE_USE_FINDERS = False

# A connection kept between requests is checked before reuse, so a PostgreSQL
# restart or a switch to the standby costs one failed check, not failed requests.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# nginx terminates TLS and sets X-Forwarded-Proto on every request it passes on,
# replacing any value the client sent. Gunicorn listens on 127.0.0.1 (or a
# private address only nginx reaches), so no client can set the header itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
# Health checks and Prometheus call the app server directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^(health|healthz|readyz|metrics)/?$"]

SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", DEFAULT_HSTS_SECONDS, minimum=1)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading is a request to the browser makers that takes months to undo, so
# it stays the city's own decision and its absence is not a deployment warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Read by commands that must not run in production, such as `kotacerdas demo`.
KOTACERDAS_PRODUCTION = True
