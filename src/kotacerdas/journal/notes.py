"""Signed notes, checkpoints and cosignatures in the C2SP forms.

The formats are `signed-note`, `tlog-checkpoint` and `tlog-cosignature`.

A note is UTF-8 text ending in a newline, a blank line, then one line per
signature: an em dash, the key name, and base64 of the 4-byte key id followed by
the Ed25519 signature over the note text. The key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || public key).
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = b"\x01"
COSIGNATURE_TYPE = b"\x04"
COSIGNATURE_HEADER = "cosignature/v1\n"
SIGNATURE_PREFIX = "\u2014 "


class NoteError(ValueError):
    """A note or checkpoint is malformed or its signature does not verify."""


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes, key_type: bytes = ED25519_TYPE) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + key_type + public_key).digest()[:4]


def verifier_key(
    name: str, public_key: Ed25519PublicKey, key_type: bytes = ED25519_TYPE
) -> str:
    """Return the verifier key string `name+hexid+base64(type||key)`."""
    raw = public_bytes(public_key)
    encoded = base64.b64encode(key_type + raw).decode()
    return f"{name}+{key_id(name, raw, key_type).hex()}+{encoded}"


def cosigner_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Return a witness's verifier key, of signature type 0x04 (cosignature/v1)."""
    return verifier_key(name, public_key, COSIGNATURE_TYPE)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str, key_type: bytes = ED25519_TYPE) -> "Verifier":
        try:
            name, hex_id, encoded = vkey.split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise NoteError(
                f"verifier key {vkey!r} is invalid: expected name+id+key"
            ) from error
        if raw[:1] != key_type or len(raw) != 33:
            wanted = "cosigner" if key_type == COSIGNATURE_TYPE else "Ed25519"
            raise NoteError(f"verifier key for {name!r} is not an {wanted} key")
        if key_id(name, raw[1:], key_type).hex() != hex_id:
            raise NoteError(
                f"verifier key for {name!r} has a key id that does not match"
            )
        return cls(
            name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:])
        )


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = private_key.sign(text.encode())
    raw = public_bytes(private_key.public_key())
    encoded = base64.b64encode(key_id(name, raw) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Return the note text and its (key name, key id, signature) lines."""
    text, separator, signature_block = note.rpartition("\n\n")
    if not separator or not signature_block.endswith("\n"):
        raise NoteError("note has no signature block after a blank line")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {line!r} does not start with an em dash")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError(f"signature line for {name!r} is not base64") from None
        if len(raw) < 5:
            raise NoteError(f"signature line for {name!r} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return text + "\n", signatures


def verify_note(note: str, verifier: Verifier) -> str:
    """Return the note text if `verifier` signed it, else raise NoteError."""
    text, signatures = split_note(note)
    for name, signer_id, signature in signatures:
        if name == verifier.name and signer_id == verifier.key_id:
            try:
                verifier.public_key.verify(signature, text.encode())
            except InvalidSignature:
                raise NoteError(f"signature by {name!r} does not verify") from None
            return text
    raise NoteError(f"note carries no signature by {verifier.name!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size, root, plus our two extension lines."""

    origin: str
    tree_size: int
    root_hash: bytes
    prev_hash: bytes
    sealed_at: datetime

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.tree_size}\n"
            f"{base64.b64encode(self.root_hash).decode()}\n"
            f"prev {base64.b64encode(self.prev_hash).decode()}\n"
            f"time {int(self.sealed_at.timestamp() * 1_000_000)}\n"
        )

    def block_hash(self) -> bytes:
        return hashlib.sha256(self.text().encode()).digest()

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) != 6 or lines[-1] != "":
            raise NoteError("checkpoint text must have five lines ending in a newline")
        origin, size, root, prev, time = lines[:5]
        if not size.isdigit() or (size.startswith("0") and size != "0"):
            raise NoteError(f"checkpoint tree size {size!r} is not a decimal number")
        if not prev.startswith("prev ") or not time.startswith("time "):
            raise NoteError("checkpoint lacks its prev and time extension lines")
        try:
            root_hash = base64.b64decode(root, validate=True)
            prev_hash = base64.b64decode(prev[5:], validate=True)
            micros = int(time[5:])
        except ValueError as error:
            raise NoteError(f"checkpoint has a malformed line: {error}") from error
        if len(root_hash) != 32 or len(prev_hash) != 32:
            raise NoteError("checkpoint hashes must be 32 bytes")
        sealed_at = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
        return cls(origin, int(size), root_hash, prev_hash, sealed_at)


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """Return the bytes a cosignature/v1 signs: header, time line, checkpoint body."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosign(
    checkpoint_text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> str:
    """Return one cosignature/v1 signature line (ending in a newline)."""
    if not 0 <= timestamp < 2**63:
        raise NoteError(f"cosignature time {timestamp} is out of range")
    signature = private_key.sign(cosigned_message(checkpoint_text, timestamp))
    raw = public_bytes(private_key.public_key())
    value = (
        key_id(name, raw, COSIGNATURE_TYPE) + timestamp.to_bytes(8, "big") + signature
    )
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(value).decode()}\n"


def verify_cosignature(note: str, verifier: Verifier) -> int:
    """Return the time of `verifier`'s cosignature on the note, else raise NoteError.

    `verifier` must have been parsed with `key_type=COSIGNATURE_TYPE`.
    """
    text, signatures = split_note(note)
    for name, signer_id, value in signatures:
        if name != verifier.name or signer_id != verifier.key_id:
            continue
        if len(value) != 8 + 64:
            raise NoteError(f"cosignature by {name!r} has the wrong length")
        timestamp = int.from_bytes(value[:8], "big")
        try:
            verifier.public_key.verify(value[8:], cosigned_message(text, timestamp))
        except InvalidSignature:
            raise NoteError(f"cosignature by {name!r} does not verify") from None
        return timestamp
    raise NoteError(f"note carries no cosignature by {verifier.name!r}")
