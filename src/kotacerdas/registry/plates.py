"""Signing and checking the QR codes on building plates.

A plate's QR code is a URL to the city's scan page:

    https://<city>/p/PPJ-B-7F3K9Q-C?k=1a2b3c4d&s=<base64url Ed25519 signature>

The signature, by the city's plate key (separate from the journal's node
key), covers `kotacerdas-plate/v1`, the key id and the plate code, so a phone
holding the public keys can tell a genuine plate from a forged one with no
network, and the server does the same. `k` names the key, so plates signed by
an older key keep verifying after a new key is introduced.

The key that signs new plates is the key file. `kotacerdas plates rotate-key`
replaces it and adds the old public key to the keyring file beside it
(`plate-ed25519.keys.json` next to `plate-ed25519.pem`), so its plates still
scan as genuine. A key marked revoked there (compromised) no longer counts:
its plates read as forged with the reason REVOKED_KEY, which the scan page
shows as "re-print needed".
"""

import base64
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from kotacerdas.journal.keys import KeyFile, create_signing_key
from kotacerdas.registry.codes import InvalidCode, normalize_plate_code

logger = logging.getLogger(__name__)
DOMAIN = "kotacerdas-plate/v1"
KEYRING_FORMAT = "kotacerdas-plate-keys/v1"
# The ReadPlate reason of a plate signed by a revoked key.
REVOKED_KEY = "revoked key"


class PlateKeyError(RuntimeError):
    """The plate key or its keyring file is unusable; the message names which."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def signed_message(kid: str, code: str) -> bytes:
    return f"{DOMAIN}\n{kid}\n{code}\n".encode()


_plate_key_file = KeyFile(lambda: Path(settings.KOTACERDAS_PLATE_KEY_FILE))


def plate_key() -> Ed25519PrivateKey:
    """Return the key that signs new plates, created on first use."""
    path = Path(settings.KOTACERDAS_PLATE_KEY_FILE)
    if create_signing_key(path):
        logger.info("created plate signing key at %s", path)
    return _plate_key_file()


def keyring_path() -> Path:
    """Return the keyring file beside the plate key file."""
    return Path(settings.KOTACERDAS_PLATE_KEY_FILE).with_suffix(".keys.json")


@dataclass(frozen=True)
class RetiredPlateKey:
    """An earlier plate key: its plates scan as genuine unless it is revoked."""

    key_id: str
    public_key: Ed25519PublicKey
    retired_at: str
    revoked_at: str | None

    def to_json(self) -> dict[str, Any]:
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {
            "key_id": self.key_id,
            "public_key": _b64url(raw),
            "retired_at": self.retired_at,
            "revoked_at": self.revoked_at,
        }


class _KeyringCache:
    """The parsed keyring file, read again when the file is replaced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[object, ...] | None = None
        self._keys: list[RetiredPlateKey] = []

    def __call__(self) -> list[RetiredPlateKey]:
        path = keyring_path()
        try:
            stat = path.stat()
        except FileNotFoundError:
            return []
        stamp = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._keys = parse_keyring(path.read_text("utf-8"), path)
                self._stamp = stamp
            return self._keys


def parse_keyring(text: str, path: Path) -> list[RetiredPlateKey]:
    """Parse the keyring file's JSON; raise PlateKeyError if it is invalid."""
    try:
        value = json.loads(text)
        if value.get("format") != KEYRING_FORMAT:
            raise ValueError(f"format is not {KEYRING_FORMAT}")
        keys = []
        for item in value["keys"]:
            public = Ed25519PublicKey.from_public_bytes(_unb64url(item["public_key"]))
            if key_id(public) != item["key_id"]:
                raise ValueError(f"key id {item['key_id']} does not match its key")
            keys.append(
                RetiredPlateKey(
                    item["key_id"], public, item["retired_at"], item["revoked_at"]
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PlateKeyError(f"plate keyring {path} is invalid: {error}") from error
    return keys


retired_keys = _KeyringCache()


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Return the public keys plates may be signed by, by key id.

    These are the key that signs new plates and every retired key that is not
    revoked.
    """
    public = plate_key().public_key()
    trusted = {
        retired.key_id: retired.public_key
        for retired in retired_keys()
        if retired.revoked_at is None
    }
    trusted[key_id(public)] = public
    return trusted


def revoked_keys() -> dict[str, Ed25519PublicKey]:
    """Return the revoked (compromised) plate keys by key id."""
    return {
        retired.key_id: retired.public_key
        for retired in retired_keys()
        if retired.revoked_at is not None
    }


def public_keys_json() -> dict[str, str]:
    """The trusted keys as {key id: base64url raw key}, for phones."""
    return {
        kid: _b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
        for kid, key in trusted_keys().items()
    }


@dataclass(frozen=True)
class PlateSignature:
    key_id: str
    signature: str


def sign_plate(code: str) -> PlateSignature:
    """Sign a plate code; raise PlateKeyError if the key file contains a revoked key."""
    key = plate_key()
    kid = key_id(key.public_key())
    if kid in revoked_keys():
        raise PlateKeyError(
            f"the plate key {kid} is revoked; run `kotacerdas plates rotate-key` "
            "to sign new plates with a new key"
        )
    return PlateSignature(kid, _b64url(key.sign(signed_message(kid, code))))


def plate_url(code: str, kid: str, signature: str) -> str:
    base = settings.KOTACERDAS_PUBLIC_URL.rstrip("/")
    return f"{base}/p/{code}?k={kid}&s={signature}"


class Verdict(StrEnum):
    GENUINE = "genuine"
    FORGED = "forged"  # a plate code with a signature that does not verify
    MALFORMED = "malformed"  # not a plate URL or code at all
    UNSIGNED = "unsigned"  # a typed code: nothing to check offline


@dataclass(frozen=True)
class ReadPlate:
    """What a scanned QR text or typed code says, before any database lookup."""

    verdict: Verdict
    code: str | None
    reason: str = ""


def read_plate_text(text: str) -> ReadPlate:
    """Parse a QR payload or a typed code and check its signature.

    Accepts a plate URL from any host (the host printed on old plates may
    differ from today's) and a bare typed code.
    """
    text = text.strip()
    if not text:
        return ReadPlate(Verdict.MALFORMED, None, "empty")
    if "://" not in text and "?" not in text:
        try:
            return ReadPlate(Verdict.UNSIGNED, normalize_plate_code(text))
        except InvalidCode as error:
            return ReadPlate(Verdict.MALFORMED, None, error.message)
    parts = urlsplit(text)
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2 or segments[-2] != "p":
        return ReadPlate(Verdict.MALFORMED, None, "not a plate address")
    try:
        code = normalize_plate_code(segments[-1])
    except InvalidCode as error:
        return ReadPlate(Verdict.MALFORMED, None, error.message)
    query = parse_qs(parts.query)
    kid = query.get("k", [""])[0]
    signature = query.get("s", [""])[0]
    if not kid or not signature:
        return ReadPlate(Verdict.FORGED, code, "no signature")
    return ReadPlate(*_check(code, kid, signature))


def _check(code: str, kid: str, signature: str) -> tuple[Verdict, str, str]:
    key = trusted_keys().get(kid)
    revoked = key is None and kid in revoked_keys()
    if revoked:
        key = revoked_keys()[kid]
    if key is None:
        return Verdict.FORGED, code, "unknown key"
    try:
        key.verify(_unb64url(signature), signed_message(kid, code))
    except (InvalidSignature, ValueError):
        return Verdict.FORGED, code, "bad signature"
    if revoked:
        # Anyone with the compromised key can make this signature, so the
        # plate counts as forged until it is re-printed with a current key.
        return Verdict.FORGED, code, REVOKED_KEY
    return Verdict.GENUINE, code, ""


def offline_check_data() -> dict[str, object]:
    """Everything a phone needs to check plate signatures with no network.

    The signed message is `domain`, the key id and the plate code, each
    followed by a newline (see `signed_message`); keys are raw Ed25519 public
    keys in base64url.
    """
    return {"domain": DOMAIN, "keys": public_keys_json()}
