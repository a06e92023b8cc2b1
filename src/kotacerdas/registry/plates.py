"""Signing and checking the QR codes on building plates.

A plate's QR code is a URL to the city's scan page:

    https://<city>/p/PPJ-B-7F3K9Q-C?k=1a2b3c4d&s=<base64url Ed25519 signature>

The signature, by the city's plate key (separate from the journal's node
key), covers `kotacerdas-plate/v1`, the key id and the plate code, so a phone
holding the public keys can tell a genuine plate from a forged one with no
network, and the server does the same. `k` names the key, so plates signed by
an older key keep verifying after a new key is introduced.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from kotacerdas.journal.keys import create_signing_key, load_private_key
from kotacerdas.registry.codes import InvalidCode, normalize_plate_code

logger = logging.getLogger(__name__)
DOMAIN = "kotacerdas-plate/v1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def signed_message(kid: str, code: str) -> bytes:
    return f"{DOMAIN}\n{kid}\n{code}\n".encode()


@cache
def plate_key() -> Ed25519PrivateKey:
    path = Path(settings.KOTACERDAS_PLATE_KEY_FILE)
    if create_signing_key(path):
        logger.info("created plate signing key at %s", path)
    return load_private_key(path)


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Return the public keys plates may be signed by, by key id."""
    public = plate_key().public_key()
    return {key_id(public): public}


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
    key = plate_key()
    kid = key_id(key.public_key())
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
    if key is None:
        return Verdict.FORGED, code, "unknown key"
    try:
        key.verify(_unb64url(signature), signed_message(kid, code))
    except (InvalidSignature, ValueError):
        return Verdict.FORGED, code, "bad signature"
    return Verdict.GENUINE, code, ""


def offline_check_data() -> dict[str, object]:
    """Everything a phone needs to check plate signatures with no network.

    The signed message is `domain`, the key id and the plate code, each
    followed by a newline (see `signed_message`); keys are raw Ed25519 public
    keys in base64url.
    """
    return {"domain": DOMAIN, "keys": public_keys_json()}
