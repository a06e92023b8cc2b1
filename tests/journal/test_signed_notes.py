"""Signed notes and checkpoints in the C2SP `signed-note` and `tlog-checkpoint` forms."""

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kotacerdas.journal import notes

ORIGIN = "kota.example/ledger"


@pytest.fixture
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(private_key: Ed25519PrivateKey) -> notes.Verifier:
    vkey = notes.verifier_key(ORIGIN, private_key.public_key())
    return notes.Verifier.parse(vkey)


def checkpoint() -> notes.Checkpoint:
    return notes.Checkpoint(
        origin=ORIGIN,
        tree_size=12,
        root_hash=hashlib.sha256(b"root").digest(),
        prev_hash=bytes(32),
        sealed_at=datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC),
    )


def test_key_id_follows_signed_note(private_key: Ed25519PrivateKey) -> None:
    raw = notes.public_bytes(private_key.public_key())
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw).digest()[:4]

    assert notes.key_id(ORIGIN, raw) == expected, "key id is SHA-256(name\\n0x01 key)"


def test_verifier_key_has_three_parts(private_key: Ed25519PrivateKey) -> None:
    vkey = notes.verifier_key(ORIGIN, private_key.public_key())
    name, hex_id, encoded = vkey.split("+", 2)
    raw = notes.public_bytes(private_key.public_key())

    assert name == ORIGIN, "the first part is the key name"
    assert hex_id == notes.key_id(ORIGIN, raw).hex(), "the second is the hex key id"
    assert base64.b64decode(encoded) == b"\x01" + raw, "the third is type || key"


def test_signed_note_verifies(
    private_key: Ed25519PrivateKey, verifier: notes.Verifier
) -> None:
    text = checkpoint().text()

    note = notes.sign_note(text, ORIGIN, private_key)

    assert note.startswith(text + "\n\u2014 " + ORIGIN + " "), f"layout: {note!r}"
    assert notes.verify_note(note, verifier) == text, "verify should return the text"


def test_signature_line_carries_key_id(
    private_key: Ed25519PrivateKey, verifier: notes.Verifier
) -> None:
    note = notes.sign_note(checkpoint().text(), ORIGIN, private_key)
    encoded = note.rstrip("\n").rsplit(" ", 1)[1]
    raw = base64.b64decode(encoded)

    assert raw[:4] == verifier.key_id, "signature starts with the 4-byte key id"
    assert len(raw) == 4 + 64, "an Ed25519 signature is 64 bytes"


def test_changed_text_fails_verification(
    private_key: Ed25519PrivateKey, verifier: notes.Verifier
) -> None:
    note = notes.sign_note(checkpoint().text(), ORIGIN, private_key)
    forged = note.replace("\n12\n", "\n13\n", 1)

    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.verify_note(forged, verifier)


def test_tampered_signature_rejected(
    private_key: Ed25519PrivateKey, verifier: notes.Verifier
) -> None:
    note = notes.sign_note(checkpoint().text(), ORIGIN, private_key)
    text, _, line = note.rstrip("\n").rpartition("\n")
    prefix, encoded = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x01
    forged = f"{text}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"

    with pytest.raises(notes.NoteError, match=f"signature by '{ORIGIN}' does not"):
        notes.verify_note(forged, verifier)


def test_other_key_not_accepted(private_key: Ed25519PrivateKey) -> None:
    note = notes.sign_note(checkpoint().text(), ORIGIN, private_key)
    stranger = Ed25519PrivateKey.generate().public_key()
    other = notes.Verifier.parse(notes.verifier_key(ORIGIN, stranger))

    with pytest.raises(notes.NoteError, match=f"no signature by '{ORIGIN}'"):
        notes.verify_note(note, other)


def test_note_without_signatures_rejected(verifier: notes.Verifier) -> None:
    with pytest.raises(notes.NoteError, match="no signature block"):
        notes.verify_note(checkpoint().text(), verifier)


def test_unterminated_text_rejected(private_key: Ed25519PrivateKey) -> None:
    with pytest.raises(notes.NoteError, match="must end with a newline"):
        notes.sign_note("no newline", ORIGIN, private_key)


def test_verifier_key_with_wrong_id(private_key: Ed25519PrivateKey) -> None:
    name, _, encoded = notes.verifier_key(ORIGIN, private_key.public_key()).split(
        "+", 2
    )

    with pytest.raises(notes.NoteError, match="key id that does not match"):
        notes.Verifier.parse(f"{name}+00000000+{encoded}")


def test_malformed_verifier_key_rejected() -> None:
    with pytest.raises(notes.NoteError, match="expected name\\+id\\+key"):
        notes.Verifier.parse("just-a-name")


def test_checkpoint_text_layout() -> None:
    lines = checkpoint().text().split("\n")

    assert lines[0] == ORIGIN, "line 1 is the origin"
    assert lines[1] == "12", "line 2 is the decimal tree size"
    assert base64.b64decode(lines[2]) == checkpoint().root_hash, "line 3 is the root"
    assert lines[3] == "prev " + base64.b64encode(bytes(32)).decode(), "prev line"
    assert lines[4] == "time 1740817815123456", "time line in microseconds"
    assert lines[5] == "", "the text ends with a newline"


def test_checkpoint_round_trips() -> None:
    original = checkpoint()

    parsed = notes.Checkpoint.parse(original.text())

    assert parsed == original, "parsing the text should give the same checkpoint"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("origin\n012\nAA==\nprev AA==\ntime 1\n", "is not a decimal number"),
        ("origin\n12\n", "five lines"),
        ("origin\n12\nAA==\nprevious AA==\ntime 1\n", "prev and time"),
        (f"origin\n12\nAA==\nprev {'A' * 44}\ntime 1\n", "must be 32 bytes"),
    ],
)
def test_malformed_checkpoint_rejected(text: str, message: str) -> None:
    with pytest.raises(notes.NoteError, match=message):
        notes.Checkpoint.parse(text)
