"""The offline verifier across a node key rotation: bundles, exports and key histories.

The command-line checks run `python -m kotacerdas.verify` in a subprocess with
Django unimportable and sockets refused (the runner of tests/bundles).
"""

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st
from tests.bundles.conftest import OFFLINE_RUNNER

from kotacerdas.journal import bundles, services
from kotacerdas.journal.keys import create_signing_key, node_key
from kotacerdas.journal.models import Block
from kotacerdas.journal.notes import (
    Checkpoint,
    NoteError,
    Verifier,
    sign_note,
    verifier_key,
)
from kotacerdas.ops import keyring
from kotacerdas.verify import parse_keys, verify_bundle
from kotacerdas.verify.bundle import VerificationError
from kotacerdas.verify.history import LogKeys

ORIGIN = "kotacerdas.padangpanjang.local/journal"


@pytest.fixture
def key_file(settings, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "keys" / "node-ed25519.pem"
    settings.KOTACERDAS_SIGNING_KEY_FILE = path
    settings.KOTACERDAS_LEDGER_ORIGIN = ORIGIN
    settings.VAR_DIR = tmp_path / "var"
    create_signing_key(path)
    node_key.cache_clear()
    yield path
    node_key.cache_clear()


def append(count: int) -> None:
    for number in range(count):
        with transaction.atomic():
            payload = {"user_id": number + 1, "roles": ["citizen"], "actor_id": None}
            services.append("accounts.roles.changed", payload)


def seal() -> Block:
    block = services.seal_pending()
    assert block is not None
    return block


def offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OFFLINE_RUNNER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def stale_block(settings, retired_file: Path, tmp_path: Path) -> Block:
    """Seal two entries with a copy of the retired key, as a stale process would.

    Today's sealer refuses a stale key file, so the block is sealed past that
    check, as an older version of the sealer would have done.
    """
    rotated = settings.KOTACERDAS_SIGNING_KEY_FILE
    stale = tmp_path / "stale.pem"
    shutil.copy(retired_file, stale)
    settings.KOTACERDAS_SIGNING_KEY_FILE = stale
    try:
        append(2)
        with patch.object(services, "sealing_key", node_key):
            return seal()
    finally:
        settings.KOTACERDAS_SIGNING_KEY_FILE = rotated


# Bundles -------------------------------------------------------------------------


@pytest.mark.django_db
def test_old_and_new_bundles_verify_offline(key_file: Path, tmp_path: Path) -> None:
    append(3)
    seal()
    old_bundle = bundles.build_bundle(1)
    keyring.rotate_node_key()
    append(2)
    seal()
    new_bundle = bundles.build_bundle(4)
    keys = write_json(tmp_path / "keys.json", bundles.published_keys())

    old = offline(write_json(tmp_path / "old.json", old_bundle), "--keys", keys)
    new = offline(write_json(tmp_path / "new.json", new_bundle), "--keys", keys)

    assert old.returncode == 0, old.stdout + old.stderr
    assert old.stdout.startswith("valid, included in the checkpoint of 3 entries")
    assert new.returncode == 0, new.stdout + new.stderr
    assert new.stdout.startswith("valid, included in the checkpoint of 5 entries")


@pytest.mark.django_db
def test_old_bundle_fails_without_history(key_file: Path, tmp_path: Path) -> None:
    """A keys file with only the newest key cannot check a receipt from before."""
    append(3)
    seal()
    old_bundle = bundles.build_bundle(1)
    keyring.rotate_node_key()
    append(2)
    seal()
    keys = bundles.published_keys()
    del keys["log_keys"]

    done = offline(
        write_json(tmp_path / "old.json", old_bundle),
        "--keys",
        write_json(tmp_path / "keys.json", keys),
    )

    assert done.returncode == 1
    assert done.stdout.startswith(
        f"invalid: checkpoint: note carries no signature by {ORIGIN!r}"
    )


@pytest.mark.django_db
def test_stale_old_key_bundle_invalid_offline(
    key_file: Path, tmp_path: Path, settings
) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()
    stale_block(settings, rotation.retired_file, tmp_path)
    keys = write_json(tmp_path / "keys.json", bundles.published_keys())

    done = offline(
        write_json(tmp_path / "bundle.json", bundles.build_bundle(6)), "--keys", keys
    )

    old_id, new_id = (
        keyring.key_id_hex(rotation.old_vkey),
        keyring.key_id_hex(rotation.new_vkey),
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"invalid: checkpoint: checkpoint of 7 entries is signed by key {old_id}, "
        f"which signs checkpoints of 0 to 3 entries; checkpoints of this size must "
        f"carry key {new_id}"
    )


# Exports -------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_across_rotation_verifies(key_file: Path, tmp_path: Path) -> None:
    append(3)
    seal()
    keyring.rotate_node_key()
    append(2)
    seal()
    keyring.rotate_node_key()
    append(4)
    seal()
    directory = tmp_path / "export"
    call_command("ledger", "export", str(directory), stdout=io.StringIO())
    exported_keys = json.loads((directory / "keys.json").read_text())

    done = offline("--export", str(directory), "--keys", str(directory / "keys.json"))

    assert len(exported_keys["log_keys"]) == 3
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("valid: 9 entries and 3 checkpoints")


@pytest.mark.django_db
def test_export_with_stale_block_invalid(
    key_file: Path, tmp_path: Path, settings
) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()
    stale_block(settings, rotation.retired_file, tmp_path)
    directory = tmp_path / "export"
    call_command("ledger", "export", str(directory), stdout=io.StringIO())

    done = offline("--export", str(directory), "--keys", str(directory / "keys.json"))

    old_id = keyring.key_id_hex(rotation.old_vkey)
    assert done.returncode == 1
    assert done.stdout.startswith(
        "invalid: block 2 (checkpoints/00000002.txt): checkpoint: checkpoint of 7 "
        f"entries is signed by key {old_id}, which signs checkpoints of 0 to 3 entries"
    )


# Key histories, without Django ----------------------------------------------------


SEALED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def checkpoint_note(size: int, key: Ed25519PrivateKey) -> str:
    text = Checkpoint(ORIGIN, size, bytes(32), bytes(32), SEALED_AT).text()
    return sign_note(text, ORIGIN, key)


def history_json(keys: list[Ed25519PrivateKey], starts: list[int]) -> list[dict]:
    """Return log_keys for keys that take over at the given first sizes."""
    items = []
    for index, key in enumerate(keys):
        last = starts[index + 1] - 1 if index + 1 < len(keys) else None
        items.append(
            {
                "vkey": verifier_key(ORIGIN, key.public_key()),
                "first_size": 0 if index == 0 else starts[index],
                "last_size": last,
            }
        )
    return items


@st.composite
def rotations(draw: st.DrawFn) -> tuple[list[int], int, int]:
    """Return first sizes of 1 to 4 keys, a signing key index and a tree size."""
    gaps = draw(st.lists(st.integers(1, 50), min_size=0, max_size=3))
    starts = [0]
    for gap in gaps:
        starts.append(starts[-1] + gap)
    signer = draw(st.integers(0, len(starts) - 1))
    size = draw(st.integers(0, starts[-1] + 60))
    return starts, signer, size


KEY_POOL = [Ed25519PrivateKey.generate() for _ in range(4)]


@given(rotations())
def test_checkpoint_valid_only_in_signer_range(case) -> None:
    starts, signer, size = case
    keys = KEY_POOL[: len(starts)]
    history = LogKeys.from_json(ORIGIN, history_json(keys, starts))
    note = checkpoint_note(size, keys[signer])
    in_range = starts[signer] <= size and (
        signer + 1 == len(starts) or size < starts[signer + 1]
    )

    _, signers = history.signers(note)

    assert [key.verifier.key_id for key in signers] == [
        Verifier.parse(verifier_key(ORIGIN, keys[signer].public_key())).key_id
    ]
    if in_range:
        assert history.check_size(signers, size).verifier == signers[0].verifier
    else:
        with pytest.raises(NoteError, match="checkpoints of this size must carry"):
            history.check_size(signers, size)


def test_pending_key_verifies_nothing() -> None:
    old, new = KEY_POOL[:2]
    history = LogKeys.from_json(
        ORIGIN,
        [
            {"vkey": verifier_key(ORIGIN, old.public_key()), "first_size": 0},
            {"vkey": verifier_key(ORIGIN, new.public_key()), "first_size": None},
        ],
    )
    note = checkpoint_note(10, new)
    _, signers = history.signers(note)

    with pytest.raises(NoteError) as caught:
        history.check_size(signers, 10)

    assert "no published key signs this size yet" not in str(caught.value)
    assert "which signs no checkpoint yet" in str(caught.value)


def test_gap_between_keys_rejected() -> None:
    """A size between the old key's last checkpoint and the new key's first."""
    old, new = KEY_POOL[:2]
    items = [
        {
            "vkey": verifier_key(ORIGIN, old.public_key()),
            "first_size": 0,
            "last_size": 3,
        },
        {"vkey": verifier_key(ORIGIN, new.public_key()), "first_size": 7},
    ]
    history = LogKeys.from_json(ORIGIN, items)

    for key in (old, new):
        _, signers = history.signers(checkpoint_note(5, key))
        with pytest.raises(NoteError) as caught:
            history.check_size(signers, 5)
        assert "no published key signs this size yet" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"log_keys": []}, "log_keys is not a non-empty list"),
        ({"log_keys": [{"first_size": 0}]}, "log_keys item 0 has no vkey"),
        (
            {"log_keys": [{"vkey": "OLD", "first_size": True, "last_size": None}]},
            "neither a whole number nor null",
        ),
        (
            {
                "log_keys": [
                    {"vkey": "OLD", "first_size": 0, "last_size": 9},
                    {"vkey": "NEW", "first_size": 5, "last_size": None},
                ]
            },
            "inside the range of the key before it",
        ),
        (
            {"log_keys": [{"vkey": "OLD", "first_size": 9, "last_size": 3}]},
            "before it starts at 9",
        ),
        (
            {"log_keys": [{"vkey": "NEW", "first_size": 0, "last_size": None}]},
            "the log key is missing from log_keys",
        ),
        (
            {"log_keys": [{"vkey": "OTHER", "first_size": 0, "last_size": None}]},
            "is not named after the origin",
        ),
    ],
)
def test_invalid_history_rejected(change: dict, message: str) -> None:
    old, new = KEY_POOL[:2]
    vkeys = {
        "OLD": verifier_key(ORIGIN, old.public_key()),
        "NEW": verifier_key(ORIGIN, new.public_key()),
        "OTHER": verifier_key("other.example/journal", old.public_key()),
    }
    history = [
        {**item, "vkey": vkeys.get(item.get("vkey"), item.get("vkey"))}
        if isinstance(item, dict) and "vkey" in item
        else item
        for item in change["log_keys"]
    ]
    keys = {
        "format": "kotacerdas-keys/v1",
        "origin": ORIGIN,
        "log": vkeys["OLD"],
        "log_keys": history,
        "witnesses": [],
        "quorum": 1,
    }
    bundle = {"format": "kotacerdas-bundle/v1", "origin": ORIGIN}

    result = verify_bundle(bundle, keys)

    assert result.code == "keys"
    assert message in result.reason
    with pytest.raises(VerificationError) as caught:
        parse_keys(keys)
    assert caught.value.code == "keys"
