"""Secrets come only from the environment or `<NAME>_FILE`, and never reach pages or logs."""

import base64
import logging
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from kotacerdas.config.env import env_str
from kotacerdas.journal.keys import create_signing_key, load_private_key, node_key

from .conftest import DemoCity
from .routes import page_routes

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kotacerdas"
ENVIRONMENT_READ = re.compile(
    r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^\]]+\](?!\s*=)"
)

# Files that read the environment directly, and why that is safe.
DIRECT_READERS = {
    # The helpers every setting goes through; they implement `<NAME>_FILE`.
    "config/env.py",
    # Reads `<NAME>_FILE` for the backup passphrase to name the file in errors.
    "ops/backup_keys.py",
    # Passes DJANGO_SETTINGS_MODULE on to the restore's child process.
    "ops/restore.py",
    # The test settings put a throwaway var/ directory in the environment.
    "config/test_settings.py",
}

# Every secret the settings read: each must go through env_str, which accepts
# the value itself or `<NAME>_FILE` naming a file that contains it.
SECRET_VARIABLES = {
    "config/settings.py": [
        "DJANGO_SECRET_KEY",
        "KOTACERDAS_PII_KEY",
        "KOTACERDAS_METRICS_TOKEN",
    ],
    "config/production.py": [
        "DJANGO_SECRET_KEY",
        "KOTACERDAS_PII_KEY",
        "KOTACERDAS_PERSONAL_DATA_SALT",
    ],
    "ops/backup_keys.py": ["PASSPHRASE_VARIABLE"],
}


def test_environment_read_through_helpers():
    readers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if ENVIRONMENT_READ.search(path.read_text())
    )

    assert set(readers) <= DIRECT_READERS, (
        "read settings through kotacerdas.config.env, which supports <NAME>_FILE: "
        f"{sorted(set(readers) - DIRECT_READERS)}"
    )


@pytest.mark.parametrize("relative", sorted(SECRET_VARIABLES))
def test_secret_variables_use_env_str(relative):
    text = (SOURCE / relative).read_text()

    for variable in SECRET_VARIABLES[relative]:
        assert re.search(rf"env_str\(\s*\"?{variable}\b", text), (
            f"{relative} must read {variable} with env_str"
        )


def test_secret_read_from_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file-0123456789\n")
    monkeypatch.delenv("KOTACERDAS_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("KOTACERDAS_METRICS_TOKEN_FILE", str(secret_file))

    assert env_str("KOTACERDAS_METRICS_TOKEN", "") == "from-a-file-0123456789"


def forms_of(secret: bytes) -> list[str]:
    """Return the ways a secret could be written out: hex, base64 and base64url."""
    return [
        secret.hex(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    ]


def private_forms(key: Ed25519PrivateKey) -> list[str]:
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    body = "".join(pem.strip().splitlines()[1:-1])
    return [*forms_of(raw), body]


def secrets_in_use() -> dict[str, list[str]]:
    from kotacerdas.registry.pii import _master_key
    from kotacerdas.registry.plates import plate_key

    found = {
        "node signing key": private_forms(node_key()),
        "plate signing key": private_forms(plate_key()),
        "personal-data key": forms_of(_master_key()),
        "SECRET_KEY": [settings.SECRET_KEY],
    }
    token = settings.KOTACERDAS_METRICS_TOKEN
    if token:
        found["metrics token"] = [token]
    return found


def leaks(text: str, secrets: dict[str, list[str]]) -> list[str]:
    return [
        name
        for name, forms in secrets.items()
        for form in forms
        if len(form) >= 16 and form in text
    ]


@pytest.mark.django_db
def test_pages_never_show_keys(demo_city: DemoCity, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = secrets_in_use()
    key_pages = ["/api/journal/keys", "/api/plates/keys", "/admin/"]

    shown = []
    for persona in ("admin", "anonymous"):
        client = demo_city.client(persona)
        urls = []
        for route in page_routes().values():
            try:
                urls.append(route.url(demo_city.objects))
            except KeyError:
                continue  # test_coverage names routes without fixture values
        for url in [*urls, *key_pages]:
            response = client.get(url)
            body = getattr(response, "content", b"").decode("utf-8", "replace")
            shown += [f"{url} as {persona}: {name}" for name in leaks(body, secrets)]
    logged = leaks(caplog.text, secrets)

    assert not shown, "\n".join(shown)
    assert not logged, f"logged while serving pages: {logged}"


@pytest.mark.django_db
def test_key_operations_never_log_keys(demo_city: DemoCity, caplog, tmp_path):
    from kotacerdas.journal.services import seal_pending

    caplog.set_level(logging.DEBUG)
    new_key_path = tmp_path / "new-key.pem"

    create_signing_key(new_key_path)
    new_key = load_private_key(new_key_path)
    seal_pending()
    secrets = {**secrets_in_use(), "new key": private_forms(new_key)}

    assert caplog.records, "the key operations logged nothing to check"
    assert not leaks(caplog.text, secrets)
