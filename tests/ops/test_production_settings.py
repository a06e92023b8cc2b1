"""The production settings profile: what it enforces and what it refuses to start with."""

import base64
import importlib.util
import os
import secrets
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.test import Client, override_settings

from kotacerdas.config.env import SettingError

# Found, not imported: importing it checks the test run's own environment.
_spec = importlib.util.find_spec("kotacerdas.config.production")
assert _spec is not None and _spec.origin is not None
PROFILE = Path(_spec.origin)

# Every variable the profile reads, so a test starts from an environment that
# sets none of them (the test run itself sets KOTACERDAS_VAR_DIR, for example).
PROFILE_VARIABLES = [
    "DATABASE_URL",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_DEBUG",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS",
    "DJANGO_HSTS_PRELOAD",
    "DJANGO_HSTS_SECONDS",
    "DJANGO_SECRET_KEY",
    "DJANGO_SECURE_COOKIES",
    "KOTACERDAS_DEMO_CITIZENS",
    "KOTACERDAS_DEMO_CREWS",
    "KOTACERDAS_KEYS_DIR",
    "KOTACERDAS_PERSONAL_DATA_SALT",
    "KOTACERDAS_PII_KEY",
    "KOTACERDAS_PUBLIC_URL",
    "KOTACERDAS_VAR_DIR",
]


def write_secret(path: Path, value: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def complete_env(tmp_path: Path) -> dict[str, str]:
    """Return a production environment with its secrets in files, as systemd passes them."""
    secrets_dir = tmp_path / "secrets"
    pii_key = base64.b64encode(os.urandom(32)).decode()
    return {
        "DATABASE_URL": "postgres://kotacerdas@127.0.0.1:5432/kotacerdas",
        "DJANGO_ALLOWED_HOSTS": "kotacerdas.padangpanjang.go.id",
        "KOTACERDAS_PUBLIC_URL": "https://kotacerdas.padangpanjang.go.id",
        "KOTACERDAS_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SECRET_KEY_FILE": write_secret(
            secrets_dir / "django-secret-key", secrets.token_urlsafe(50)
        ),
        "KOTACERDAS_PERSONAL_DATA_SALT_FILE": write_secret(
            secrets_dir / "personal-data-salt", secrets.token_urlsafe(50)
        ),
        "KOTACERDAS_PII_KEY_FILE": write_secret(secrets_dir / "pii-key", pii_key),
    }


@pytest.fixture
def load_profile(monkeypatch: pytest.MonkeyPatch):
    """Return a function that imports the profile afresh under a given environment.

    The profile's checks read only the environment, so they run here in the
    test process. The values it then takes from the normal settings are the
    test run's, so database and path settings are checked in a subprocess.
    """

    def load(env: dict[str, str]) -> ModuleType:
        for name in PROFILE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        spec = importlib.util.spec_from_file_location("production_under_test", PROFILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def problems_of(load_profile, env: dict[str, str]) -> str:
    with pytest.raises(SettingError) as raised:
        load_profile(env)
    return str(raised.value)


def run_kotacerdas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {
        name: value
        for name, value in os.environ.items()
        if name.removesuffix("_FILE") not in PROFILE_VARIABLES
    }
    return subprocess.run(
        [sys.executable, "-m", "kotacerdas.config.cli", *args],
        env={
            **clean,
            **env,
            "DJANGO_SETTINGS_MODULE": "kotacerdas.config.production",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# A complete environment ------------------------------------------------------------


def test_check_deploy_is_clean(complete_env):
    result = run_kotacerdas(complete_env, "check", "--deploy", "--fail-level", "DEBUG")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_no_subdomains(complete_env):
    # Preload is the city's decision and not reported. Turning includeSubDomains
    # off is reported, because Django's deployment check recommends it.
    env = {**complete_env, "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "false"}

    result = run_kotacerdas(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "security.W005" in result.stderr
    assert "security.W021" not in result.stderr


def test_profile_uses_postgres_and_var_dir(complete_env):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE']); "
        "print(s.DATABASES['default']['CONN_HEALTH_CHECKS']); "
        "print(s.KEYS_DIR); print(s.STATIC_ROOT)"
    )

    result = run_kotacerdas(complete_env, "shell", "--no-imports", "-c", code)

    assert result.returncode == 0, result.stderr
    engine, health_checks, keys_dir, static_root = result.stdout.split()
    var_dir = complete_env["KOTACERDAS_VAR_DIR"]
    assert engine == "django.db.backends.postgresql"
    assert health_checks == "True"
    assert keys_dir == f"{var_dir}/keys"
    assert static_root == f"{var_dir}/static"


def test_profile_turns_on_https_settings(load_profile, complete_env):
    profile = load_profile(complete_env)

    assert profile.DEBUG is False
    assert profile.SESSION_COOKIE_SECURE is True
    assert profile.CSRF_COOKIE_SECURE is True
    assert profile.SECURE_SSL_REDIRECT is True
    assert profile.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert profile.SECURE_HSTS_SECONDS == 31_536_000
    assert profile.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert profile.SECURE_HSTS_PRELOAD is False


def test_hsts_settings_follow_environment(load_profile, complete_env):
    env = {
        **complete_env,
        "DJANGO_HSTS_SECONDS": "3600",
        "DJANGO_HSTS_PRELOAD": "true",
    }

    profile = load_profile(env)

    assert profile.SECURE_HSTS_SECONDS == 3600
    assert profile.SECURE_HSTS_PRELOAD is True
    assert profile.SILENCED_SYSTEM_CHECKS == []


def test_loading_creates_no_key_files(load_profile, complete_env):
    load_profile(complete_env)

    keys_dir = Path(complete_env["KOTACERDAS_VAR_DIR"]) / "keys"
    assert not keys_dir.exists()


# What the profile refuses ------------------------------------------------------------

INVALID = [
    ("DJANGO_DEBUG", "true", "DJANGO_DEBUG=true is not allowed"),
    ("DJANGO_SECURE_COOKIES", "false", "DJANGO_SECURE_COOKIES=false is not allowed"),
    ("DATABASE_URL", "sqlite:///var/kotacerdas.sqlite3", "uses sqlite"),
    ("DATABASE_URL", "mysql://kota@127.0.0.1/kota", "uses mysql"),
    ("DJANGO_ALLOWED_HOSTS", "*", "must not contain '*'"),
    ("KOTACERDAS_PUBLIC_URL", "http://kotacerdas.padangpanjang.go.id", "https://"),
    (
        "KOTACERDAS_PUBLIC_URL",
        "https://elsewhere.example.org",
        "host elsewhere.example.org, which is not in DJANGO_ALLOWED_HOSTS",
    ),
    ("KOTACERDAS_VAR_DIR", "var", "set an absolute path"),
    ("DJANGO_SECRET_KEY", "django-insecure-" + "x" * 60, "too weak"),
    ("DJANGO_SECRET_KEY", "short", "too weak"),
    ("KOTACERDAS_PERSONAL_DATA_SALT", "short", "too short"),
    ("KOTACERDAS_PII_KEY", base64.b64encode(b"16 bytes only!!!").decode(), "32 random"),
    ("KOTACERDAS_PII_KEY", "not base64 at all", "32 random bytes in base64"),
    ("KOTACERDAS_DEMO_CITIZENS", "1", "KOTACERDAS_DEMO_CITIZENS=true"),
    ("KOTACERDAS_DEMO_CREWS", "1", "KOTACERDAS_DEMO_CREWS=true"),
]


@pytest.mark.parametrize(("name", "value", "message"), INVALID)
def test_invalid_value_is_rejected(load_profile, complete_env, name, value, message):
    env = {key: item for key, item in complete_env.items() if key != f"{name}_FILE"}
    env[name] = value

    problems = problems_of(load_profile, env)

    assert message in problems
    assert problems.count("\n- ") == 1, "only the changed variable is a problem"


REQUIRED = [
    ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is missing"),
    ("DATABASE_URL", "DATABASE_URL is missing"),
    ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS is missing"),
    ("KOTACERDAS_PUBLIC_URL", "KOTACERDAS_PUBLIC_URL='' is invalid"),
    ("KOTACERDAS_VAR_DIR", "KOTACERDAS_VAR_DIR='' is invalid"),
    ("KOTACERDAS_PERSONAL_DATA_SALT", "KOTACERDAS_PERSONAL_DATA_SALT (or its _FILE)"),
    ("KOTACERDAS_PII_KEY", "KOTACERDAS_PII_KEY (or its _FILE) is missing"),
]


@pytest.mark.parametrize(("name", "message"), REQUIRED)
def test_missing_value_is_rejected(load_profile, complete_env, name, message):
    env = {
        key: value
        for key, value in complete_env.items()
        if key not in (name, f"{name}_FILE")
    }

    problems = problems_of(load_profile, env)

    assert message in problems


def test_every_problem_is_listed_at_once(load_profile):
    problems = problems_of(load_profile, {"DJANGO_DEBUG": "true"})

    assert problems.count("\n- ") == len(REQUIRED) + 1


def test_missing_secret_key_creates_no_file(load_profile, complete_env):
    env = {k: v for k, v in complete_env.items() if k != "DJANGO_SECRET_KEY_FILE"}

    problems_of(load_profile, env)

    var_dir = Path(complete_env["KOTACERDAS_VAR_DIR"])
    assert not (var_dir / "keys" / "django-secret-key").exists()


def test_unreadable_secret_file_is_named(load_profile, complete_env, tmp_path):
    missing = tmp_path / "no-such-file"
    env = {**complete_env, "DJANGO_SECRET_KEY_FILE": str(missing)}

    problems = problems_of(load_profile, env)

    assert f"DJANGO_SECRET_KEY_FILE={missing} cannot be read" in problems


def test_existing_key_files_replace_variables(load_profile, complete_env):
    # A city that ran with generated keys keeps them, because the salt file
    # contains raw bytes, which no environment variable can carry.
    keys_dir = Path(complete_env["KOTACERDAS_VAR_DIR"]) / "keys"
    keys_dir.mkdir(parents=True)
    (keys_dir / "personal-data-salt").write_bytes(os.urandom(32))
    (keys_dir / "personal-data-key").write_bytes(os.urandom(32))
    env = {
        key: value
        for key, value in complete_env.items()
        if key not in ("KOTACERDAS_PERSONAL_DATA_SALT_FILE", "KOTACERDAS_PII_KEY_FILE")
    }

    profile = load_profile(env)

    assert profile.DEBUG is False


def test_public_url_may_use_subdomain_pattern(load_profile, complete_env):
    env = {
        **complete_env,
        "DJANGO_ALLOWED_HOSTS": ".padangpanjang.go.id",
        "KOTACERDAS_PUBLIC_URL": "https://kotacerdas.padangpanjang.go.id/",
    }

    profile = load_profile(env)

    assert profile.SECURE_SSL_REDIRECT is True


# Behind nginx ------------------------------------------------------------------------


@pytest.fixture
def behind_proxy(load_profile, complete_env):
    profile = load_profile(complete_env)
    with override_settings(
        SECURE_SSL_REDIRECT=profile.SECURE_SSL_REDIRECT,
        SECURE_PROXY_SSL_HEADER=profile.SECURE_PROXY_SSL_HEADER,
        SECURE_REDIRECT_EXEMPT=profile.SECURE_REDIRECT_EXEMPT,
        SECURE_HSTS_SECONDS=profile.SECURE_HSTS_SECONDS,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=profile.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    ):
        yield


@pytest.mark.django_db
def test_plain_http_redirects_to_https(behind_proxy):
    response = Client().get("/ledger/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/ledger/"


@pytest.mark.django_db
def test_proxied_https_is_served_with_hsts(behind_proxy):
    response = Client().get("/ledger/", headers={"x-forwarded-proto": "https"})

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/healthz", "/readyz", "/metrics"])
def test_health_paths_skip_redirect(behind_proxy, path):
    # Health checks and Prometheus reach the app server over plain HTTP, so
    # whatever status the endpoint returns, it must not be a redirect.
    response = Client().get(path)

    assert response.status_code != 301
