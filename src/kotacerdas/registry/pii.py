"""Encryption at rest and blind indexes for NIK and KK numbers.

Numbers are sealed with AES-256-GCM; the row's table and column are bound in
as associated data, so a sealed NIK copied into another column does not open.
Lookups go through an HMAC-SHA256 "blind index" of the digits, under a second
key, so finding a member by NIK never needs to decrypt the table. Both keys
are derived (HKDF-SHA256) from one 32-byte master key: the
KOTACERDAS_PII_KEY setting (base64) or, by default, a random key created under
var/keys with 0600 permissions.
"""

import base64
import hashlib
import hmac
import logging
import os
import secrets
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

logger = logging.getLogger(__name__)
VERSION = b"\x01"
NONCE_BYTES = 12


class PersonalDataKeyError(RuntimeError):
    """The personal-data key is missing, malformed or does not open a value."""


@cache
def _master_key() -> bytes:
    configured = getattr(settings, "KOTACERDAS_PII_KEY", "")
    if configured:
        try:
            key = base64.b64decode(configured, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise PersonalDataKeyError(
                "KOTACERDAS_PII_KEY must be 32 random bytes in base64; "
                'make one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'
            )
        return key
    path = Path(settings.KEYS_DIR) / "personal-data-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(32))
            logger.info("created personal-data key at %s", path)
    key = path.read_bytes()
    if len(key) != 32:
        raise PersonalDataKeyError(f"personal-data key {path} is not 32 bytes")
    return key


def _derive(purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kotacerdas/" + purpose
    ).derive(_master_key())


@cache
def _cipher() -> AESGCM:
    return AESGCM(_derive(b"pii-encryption"))


@cache
def _index_key() -> bytes:
    return _derive(b"pii-blind-index")


def clear_key_cache() -> None:
    """Forget cached keys (tests that change the key setting call this)."""
    _master_key.cache_clear()
    _cipher.cache_clear()
    _index_key.cache_clear()


def seal(value: str, context: str) -> bytes:
    """Encrypt `value` for the column named by `context` ("member.nik")."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + nonce + _cipher().encrypt(nonce, value.encode(), context.encode())


def open_sealed(sealed: bytes | memoryview, context: str) -> str:
    data = bytes(sealed)
    if not data or data[:1] != VERSION:
        raise PersonalDataKeyError(f"{context}: unknown sealed-value version")
    nonce, ciphertext = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
    try:
        return _cipher().decrypt(nonce, ciphertext, context.encode()).decode()
    except InvalidTag:
        raise PersonalDataKeyError(
            f"{context}: the value does not open with the configured personal-data key"
        ) from None


def blind_index(value: str, kind: str) -> str:
    """Return the hex HMAC under the index key that finds `value` of `kind`."""
    return hmac.new(
        _index_key(), kind.encode() + b":" + value.encode(), hashlib.sha256
    ).hexdigest()
