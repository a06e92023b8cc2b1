"""Rotating the node's signing key: `kotacerdas ledger keys rotate` and `ledger verify`.

Each test gives the node its own key file in a temporary directory, so the
rotation never touches the key the rest of the test run signs with.
"""

import io
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kotacerdas.journal import bundles, keys, services
from kotacerdas.journal.keys import (
    SigningKeyError,
    create_signing_key,
    load_private_key,
    node_key,
    node_key_history,
    node_verifier_key,
    sealing_key,
)
from kotacerdas.journal.models import Block, NodeKey
from kotacerdas.journal.notes import Verifier, split_note, verifier_key
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.ops import keyring
from kotacerdas.verify import verify_bundle
from kotacerdas.witness.store import WitnessStore

pytestmark = pytest.mark.django_db

ORIGIN = "kotacerdas.padangpanjang.local/journal"


@pytest.fixture
def key_file(settings, tmp_path: Path) -> Iterator[Path]:
    """Point the node at its own key file (and var/ directory) for this test."""
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
    assert block is not None, "waiting entries should seal into a block"
    return block


def signing_key_id(block: Block) -> str:
    _, signatures = split_note(block.note)
    assert len(signatures) == 1, "a block note carries only the node's signature"
    return signatures[0][1].hex()


def key_id(vkey: str) -> str:
    return vkey.split("+")[1]


def run_ledger(*args: str) -> str:
    output = io.StringIO()
    call_command("ledger", *args, stdout=output, stderr=io.StringIO())
    return output.getvalue()


def use_stale_copy(settings, retired_file: Path, tmp_path: Path) -> Path:
    """Point the node at a copy of the old key file, as a missed host would."""
    rotated = settings.KOTACERDAS_SIGNING_KEY_FILE
    stale = tmp_path / "stale" / "node-ed25519.pem"
    stale.parent.mkdir()
    shutil.copy(retired_file, stale)
    settings.KOTACERDAS_SIGNING_KEY_FILE = stale
    return rotated


def sign_with_stale_copy(settings, retired_file: Path, tmp_path: Path) -> Block:
    """Seal one block as a process with the old key file and an older sealer would.

    Today's sealer refuses a stale key file (see the test below), so this
    seals past that check to show that verification catches the block too.
    """
    rotated = use_stale_copy(settings, retired_file, tmp_path)
    try:
        append(2)
        with patch.object(services, "sealing_key", keys.node_key):
            return seal()
    finally:
        settings.KOTACERDAS_SIGNING_KEY_FILE = rotated


def test_sealer_refuses_stale_key_file(key_file: Path, settings, tmp_path) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()
    rotated = use_stale_copy(settings, rotation.retired_file, tmp_path)
    try:
        append(2)
        with pytest.raises(keys.SigningKeyError, match="not the node's newest key"):
            seal()
    finally:
        settings.KOTACERDAS_SIGNING_KEY_FILE = rotated
    assert Block.objects.count() == 2


def test_rotation_signs_next_block_with_new_key(key_file: Path) -> None:
    append(3)
    before = seal()
    old_vkey = node_verifier_key()

    rotation = keyring.rotate_node_key()
    append(2)
    after = seal()

    assert rotation.old_vkey == old_vkey
    assert rotation.first_block is None, "nothing waited, so nothing was sealed"
    assert signing_key_id(before) == key_id(old_vkey)
    assert signing_key_id(after) == key_id(rotation.new_vkey)
    assert node_verifier_key() == rotation.new_vkey


def test_history_ranges_follow_first_new_block(key_file: Path) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    pending = node_key_history()
    append(4)
    after = seal()

    history = node_key_history()

    assert [key.first_size for key in pending.keys] == [0, None]
    assert [key.last_size for key in pending.keys] == [None, None]
    assert [key.vkey for key in history.keys] == [
        rotation.old_vkey,
        rotation.new_vkey,
    ]
    assert [(key.first_size, key.last_size) for key in history.keys] == [
        (0, 3),
        (7, None),
    ]
    stored = list(NodeKey.objects.values_list("first_height", flat=True))
    node_key_history(record=True)
    recorded = list(NodeKey.objects.values_list("first_height", flat=True))
    assert stored == [0, None], "a plain read stores nothing"
    assert recorded == [0, after.height]


def test_published_keys_read_only(key_file: Path) -> None:
    """The backup exports the keys inside a read-only snapshot."""
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()

    with CaptureQueriesContext(connection) as queries:
        published = bundles.published_keys()
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]

    assert writes == []
    assert published["log"] == rotation.new_vkey
    assert published["log_keys"][1]["first_size"] == 5


def test_ledger_verify_accepts_both_keys(key_file: Path) -> None:
    append(3)
    seal()
    keyring.rotate_node_key()
    append(2)
    seal()
    append(1)
    seal()

    result = verify_ledger(node_key_history())
    output = run_ledger("verify", "--no-record")

    assert result.problems == []
    assert result.blocks_checked == 3
    assert "ledger valid" in output
    assert "blocks checked: 3" in output


def test_verify_from_block_after_rotation(key_file: Path) -> None:
    append(3)
    seal()
    keyring.rotate_node_key()
    append(2)
    seal()
    append(2)
    seal()

    for from_block in (1, 2):
        result = verify_ledger(node_key_history(), from_block=from_block)

        assert result.problems == [], f"from block {from_block}"


def test_single_vkey_rejects_rotated_ledger(key_file: Path) -> None:
    append(2)
    seal()
    old_vkey = node_verifier_key()
    keyring.rotate_node_key()
    append(2)
    seal()

    result = verify_ledger(Verifier.parse(old_vkey))

    assert result.problems == [f"block 1: note carries no signature by {ORIGIN!r}"]


def test_old_key_after_rotation_rejected(key_file: Path, settings, tmp_path) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()  # Block 1, the new key's first block, at tree size 5.

    forged = sign_with_stale_copy(settings, rotation.retired_file, tmp_path)
    history = node_key_history()
    result = verify_ledger(history)

    old_id, new_id = key_id(rotation.old_vkey), key_id(rotation.new_vkey)
    assert forged.height == 2
    assert signing_key_id(forged) == old_id
    assert result.problems == [
        f"block 2: checkpoint of 7 entries is signed by key {old_id}, which signs "
        f"checkpoints of 0 to 3 entries; checkpoints of this size must carry key "
        f"{new_id}"
    ]
    with pytest.raises(SystemExit):
        run_ledger("verify", "--no-record")


def test_bundle_of_old_key_after_rotation_invalid(
    key_file: Path, settings, tmp_path
) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    append(2)
    seal()
    sign_with_stale_copy(settings, rotation.retired_file, tmp_path)

    result = verify_bundle(bundles.build_bundle(6), bundles.published_keys())

    assert not result.ok
    assert result.code == "signature"
    assert "signs checkpoints of 0 to 3 entries" in result.reason


def test_stale_block_before_first_new_block_valid(
    key_file: Path, settings, tmp_path
) -> None:
    """A block the old key signed after the swap, but before the new key's first, is valid."""
    append(3)
    seal()
    rotation = keyring.rotate_node_key()

    stale = sign_with_stale_copy(settings, rotation.retired_file, tmp_path)
    append(1)
    first_new = seal()
    history = node_key_history()

    assert signing_key_id(stale) == key_id(rotation.old_vkey)
    assert signing_key_id(first_new) == key_id(rotation.new_vkey)
    assert [(key.first_size, key.last_size) for key in history.keys] == [
        (0, 5),
        (6, None),
    ]
    assert verify_ledger(history).problems == []


def test_rotate_seals_waiting_entries(key_file: Path) -> None:
    append(2)
    seal()
    append(3)

    output = run_ledger("keys", "rotate")
    latest = services.latest_block()

    assert latest is not None
    assert latest.height == 1
    new_vkey = node_verifier_key()
    assert signing_key_id(latest) == key_id(new_vkey)
    assert f"new node key: {new_vkey}" in output
    assert "the new key signed block 1 (tree size 5)" in output
    assert f"kotacerdas witness trust --dir DIR --vkey '{new_vkey}'" in output


def test_rotate_no_seal_leaves_entries_waiting(key_file: Path) -> None:
    append(2)
    seal()
    append(3)

    output = run_ledger("keys", "rotate", "--no-seal")

    assert services.latest_block().height == 0  # type: ignore[union-attr]
    assert "the new key signs the next block after block 0" in output


def test_rotation_on_empty_ledger(key_file: Path) -> None:
    rotation = keyring.rotate_node_key()
    append(2)
    block = seal()

    history = node_key_history()

    assert NodeKey.objects.count() == 1, "the first key signed nothing"
    assert [key.vkey for key in history.keys] == [rotation.new_vkey]
    assert signing_key_id(block) == key_id(rotation.new_vkey)
    assert verify_ledger(history).problems == []


def test_second_rotation_drops_unused_key(key_file: Path) -> None:
    append(2)
    seal()
    first = keyring.rotate_node_key()
    second = keyring.rotate_node_key()
    append(2)
    seal()

    history = node_key_history()

    assert [key.vkey for key in history.keys] == [first.old_vkey, second.new_vkey]
    assert second.old_vkey == first.new_vkey
    assert verify_ledger(history).problems == []


def test_two_rotations_keep_all_ranges(key_file: Path) -> None:
    sizes = []
    vkeys = [node_verifier_key()]
    for count in (2, 3, 4):
        append(count)
        sizes.append(seal().tree_size)
        if len(vkeys) < 3:
            vkeys.append(keyring.rotate_node_key().new_vkey)

    history = node_key_history()

    assert [key.vkey for key in history.keys] == vkeys
    assert [(key.first_size, key.last_size) for key in history.keys] == [
        (0, 2),
        (5, 5),
        (9, None),
    ]
    assert sizes == [2, 5, 9]
    assert verify_ledger(history).problems == []


def test_rotation_keeps_old_key_file(key_file: Path) -> None:
    append(1)
    seal()
    old_public = node_key().public_key()

    rotation = keyring.rotate_node_key()

    retired = load_private_key(rotation.retired_file)
    assert retired.public_key() == old_public
    assert rotation.retired_file.parent == key_file.parent / "retired"
    assert rotation.retired_file.stat().st_mode & 0o777 == 0o600
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_id(rotation.old_vkey) in rotation.retired_file.name


def test_rotation_rejects_foreign_key_file(key_file: Path) -> None:
    append(1)
    seal()
    key_file.unlink()
    create_signing_key(key_file)

    with pytest.raises(keyring.RotationError) as caught:
        keyring.rotate_node_key()

    assert "the latest block 0 is not signed by the key file" in str(caught.value)
    assert NodeKey.objects.count() == 0


def test_rotation_rejects_key_file_not_newest(key_file: Path, tmp_path) -> None:
    append(1)
    seal()
    rotation = keyring.rotate_node_key()
    shutil.copy(rotation.retired_file, tmp_path / "old.pem")
    (tmp_path / "old.pem").replace(key_file)

    with pytest.raises(CommandError) as caught:
        run_ledger("keys", "rotate")

    assert (
        f"contains key {key_id(rotation.old_vkey)}, but the node's newest key is "
        f"{key_id(rotation.new_vkey)}"
    ) in str(caught.value)


def test_sealing_key_rejects_stale_key_file(key_file: Path, settings, tmp_path):
    append(1)
    seal()
    rotation = keyring.rotate_node_key()
    stale = tmp_path / "stale.pem"
    shutil.copy(rotation.retired_file, stale)

    assert sealing_key().public_key() == node_key().public_key()
    settings.KOTACERDAS_SIGNING_KEY_FILE = stale
    with pytest.raises(SigningKeyError) as caught:
        sealing_key()

    assert f"node's newest key ({key_id(rotation.new_vkey)})" in str(caught.value)


def test_running_key_cache_follows_file(key_file: Path) -> None:
    """A worker that loaded the key before the rotation signs with the new one after."""
    loaded = node_key()

    rotation = keyring.rotate_node_key()
    reloaded = node_key()

    assert loaded.public_key() != reloaded.public_key()
    assert node_verifier_key() == rotation.new_vkey


def test_published_keys_list_history(key_file: Path) -> None:
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    pending = bundles.published_keys()
    append(2)
    seal()

    published = json.loads(run_ledger("keys"))

    assert pending["log"] == rotation.old_vkey, "the latest block is the old key's"
    assert pending["log_keys"][-1] == {
        "vkey": rotation.new_vkey,
        "first_size": None,
        "last_size": None,
    }
    assert published["log"] == rotation.new_vkey
    assert published["log_keys"] == [
        {"vkey": rotation.old_vkey, "first_size": 0, "last_size": 3},
        {"vkey": rotation.new_vkey, "first_size": 5, "last_size": None},
    ]


def test_keys_history_lists_blocks(key_file: Path) -> None:
    never = run_ledger("keys", "history")
    append(3)
    seal()
    rotation = keyring.rotate_node_key()
    pending = run_ledger("keys", "history")
    append(2)
    seal()

    lines = run_ledger("keys", "history").splitlines()

    old_id, new_id = key_id(rotation.old_vkey), key_id(rotation.new_vkey)
    assert never == f"key {old_id} signs every block (never rotated)\n"
    assert f"key {new_id} installed " in pending
    assert "(no block signed yet)" in pending
    assert lines == [
        f"key {old_id} signed blocks 0 to 0, checkpoints of 0 to 3 entries",
        f"key {new_id} signs from block 1 on, checkpoints of 5 entries or more",
    ]


def test_demo_witnesses_trust_new_key(key_file: Path, settings) -> None:
    store = WitnessStore(Path(settings.VAR_DIR) / "witnesses" / "pemkot")
    store.init("witness.pemkot.example")
    store.trust(node_verifier_key())
    other = WitnessStore(Path(settings.VAR_DIR) / "witnesses" / "other")
    other.init("witness.other.example")

    rotation = keyring.rotate_node_key()

    assert rotation.demo_witnesses == ["witness.pemkot.example"]
    trusted = store.trusted_logs()[ORIGIN]
    assert trusted == Verifier.parse(rotation.new_vkey)
    assert other.trusted_logs() == {}, "a witness of no log stays as it was"


def test_rotation_logs_no_secret(key_file: Path, caplog) -> None:
    append(2)
    seal()
    caplog.set_level(logging.DEBUG)

    output = run_ledger("keys", "rotate")
    keys = [node_key(), *map(load_private_key, key_file.parent.glob("retired/*"))]

    text = caplog.text + output
    assert len(keys) == 2, "the new key and the retired old key"
    assert "rotated node key" in caplog.text
    assert "PRIVATE KEY" not in text
    for key in keys:
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        assert pem.splitlines()[1].decode() not in text
        assert raw.hex() not in text


def test_lost_key_replaced_by_new_file(key_file: Path) -> None:
    append(3)
    seal()
    lost_vkey = node_verifier_key()
    key_file.unlink()

    output = run_ledger("keys", "rotate", "--no-seal", "--lost-key", lost_vkey)
    append(2)
    block = seal()

    new_vkey = node_verifier_key()
    assert new_vkey != lost_vkey
    assert signing_key_id(block) == key_id(new_vkey)
    assert f"new node key: {new_vkey}" in output
    assert f"the lost key {key_id(lost_vkey)} stays valid" in output
    assert verify_ledger(node_key_history()).problems == []


def test_lost_key_adopts_key_that_signed(key_file: Path) -> None:
    """A key file created again after the loss already signed a block."""
    append(3)
    seal()
    lost_vkey = node_verifier_key()
    key_file.unlink()
    create_signing_key(key_file)
    append(2)
    seal()
    broken = verify_ledger(node_key_history()).problems

    rotation = keyring.rotate_node_key(lost_vkey=lost_vkey)
    history = node_key_history()

    assert broken == [f"block 0: note carries no signature by {ORIGIN!r}"], (
        "without a history, the key file's key is the only key"
    )
    assert rotation.first_block is not None
    assert rotation.first_block.height == 1
    assert [(key.first_size, key.last_size) for key in history.keys] == [
        (0, 3),
        (5, None),
    ]
    assert verify_ledger(history).problems == []


def test_lost_key_rejects_wrong_keys(key_file: Path) -> None:
    append(1)
    seal()
    current = node_verifier_key()
    current_key = Verifier.parse(current)
    other = verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())
    foreign = verifier_key("other.example/journal", current_key.public_key)
    cases = [
        (current, "contains the key named as lost; it is not lost"),
        (other, f"no block is signed by the lost key {key_id(other)}"),
        (foreign, "the lost key is named 'other.example/journal'"),
        ("nonsense", "is invalid: expected name+id+key"),
    ]

    for vkey, message in cases:
        with pytest.raises(CommandError) as caught:
            run_ledger("keys", "rotate", "--lost-key", vkey)
        assert message in str(caught.value), vkey
    assert NodeKey.objects.count() == 0
