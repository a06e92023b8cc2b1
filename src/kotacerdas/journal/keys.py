"""The node's Ed25519 signing key, created on first run with 0600 permissions."""

import logging
import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings

from kotacerdas.journal.notes import Verifier, verifier_key

logger = logging.getLogger(__name__)


class SigningKeyError(RuntimeError):
    """The node's signing key is missing, unreadable or not Ed25519."""


def create_signing_key(path: Path) -> bool:
    """Create the key file if it does not exist; return True if it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    logger.info("created Ed25519 signing key at %s", path)
    return True


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SigningKeyError(
            f"signing key {path} not found; run `kotacerdas run` or "
            "`kotacerdas ledger init-key` to create it"
        ) from None
    except ValueError as error:
        raise SigningKeyError(f"signing key {path} is not a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key")
    return key


@cache
def node_key() -> Ed25519PrivateKey:
    return load_private_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))


def node_verifier_key() -> str:
    return verifier_key(settings.KOTACERDAS_LEDGER_ORIGIN, node_key().public_key())


def node_verifier() -> Verifier:
    return Verifier.parse(node_verifier_key())
