"""Witness key rotation (`witness rotate-key`, `ledger witnesses update`) and witnesses
across a node key rotation, with witness processes on 127.0.0.1.
"""

import io
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from tests.witness.conftest import ORIGIN as ORIGIN_OF_MEMORY_LOG
from tests.witness.conftest import MemoryLog, WitnessProcess, free_port

from kotacerdas.journal import bundles, services, witness_admin, witnessing
from kotacerdas.journal.keys import (
    create_signing_key,
    node_key,
    node_key_history,
    node_verifier_key,
)
from kotacerdas.journal.models import Block, Cosignature, Witness, WitnessKey
from kotacerdas.journal.notes import (
    COSIGNATURE_TYPE,
    Verifier,
    cosign,
    cosigner_key,
    split_note,
    verify_cosignature,
)
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.ops import keyring
from kotacerdas.verify import verify_bundle
from kotacerdas.witness.cli import main as witness_main
from kotacerdas.witness.protocol import Witness as WitnessProtocol
from kotacerdas.witness.store import WitnessStore

pytestmark = pytest.mark.django_db

ORIGIN = "kotacerdas.padangpanjang.local/journal"
NAMES = ("witness.bank.example", "witness.uni.example")


@pytest.fixture
def key_file(settings, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "keys" / "node-ed25519.pem"
    settings.KOTACERDAS_SIGNING_KEY_FILE = path
    settings.KOTACERDAS_LEDGER_ORIGIN = ORIGIN
    settings.KOTACERDAS_WITNESS_QUORUM = 2
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


def seal(count: int) -> Block:
    append(count)
    block = services.seal_pending()
    assert block is not None
    return block


def store_cosignature(block: Block, witness: Witness, key: Ed25519PrivateKey) -> None:
    """Store a cosignature line made with `key`, bypassing the node's own check."""
    text, _ = split_note(block.note)
    timestamp = int(time.time())
    Cosignature.objects.create(
        block=block,
        witness=witness,
        timestamp=timestamp,
        line=cosign(text, witness.name, key, timestamp),
    )


@pytest.fixture
def partner_keys(key_file: Path) -> dict[str, Ed25519PrivateKey]:
    """Register two witnesses with generated keys; return each one's private key."""
    keys = {}
    for name in NAMES:
        key = Ed25519PrivateKey.generate()
        Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
        keys[name] = key
    return keys


def run_ledger(*args: str) -> str:
    output = io.StringIO()
    call_command("ledger", *args, stdout=output, stderr=io.StringIO())
    return output.getvalue()


# The witness's own command -------------------------------------------------------


def test_witness_rotate_key_prints_new_vkey(tmp_path: Path, capsys, caplog) -> None:
    store = WitnessStore(tmp_path / "bank")
    store.init("witness.bank.example")
    old_vkey = store.vkey()
    old_pem = store.private_key().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    caplog.set_level(logging.DEBUG)

    exit_code = witness_main(["rotate-key", "--dir", str(store.directory)])
    captured = capsys.readouterr()
    output = captured.out
    new_vkey = store.vkey()
    new_pem = store.private_key().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )

    old_id = old_vkey.split("+")[1]
    retired = store.directory / "retired" / f"witness-ed25519-{old_id}.pem"
    assert exit_code == 0
    assert new_vkey != old_vkey
    assert f"new witness key: {new_vkey}" in output
    assert (
        f"kotacerdas ledger witnesses update witness.bank.example --vkey '{new_vkey}'"
        in output
    )
    assert retired.read_bytes() == old_pem
    assert retired.stat().st_mode & 0o777 == 0o600
    assert (store.directory / "witness-ed25519.pem").stat().st_mode & 0o777 == 0o600
    everything = output + captured.err + caplog.text
    assert "rotated its key" in caplog.text
    assert "PRIVATE KEY" not in everything
    for pem in (old_pem, new_pem):
        assert pem.splitlines()[1].decode() not in everything


def test_witness_rotation_keeps_state(tmp_path: Path) -> None:
    log = MemoryLog()
    store = WitnessStore(tmp_path / "bank")
    store.init("witness.bank.example")
    store.trust(log.vkey)
    witness = WitnessProtocol(store)
    before = witness.respond("POST", "/add-checkpoint", log.request(0, 3))

    _old_vkey, new_vkey, _retired = store.rotate_key()
    after = witness.respond("POST", "/add-checkpoint", log.request(3, 5))

    assert before.status == 200
    assert after.status == 200, after.body
    new_verifier = Verifier.parse(new_vkey, key_type=COSIGNATURE_TYPE)
    assert verify_cosignature(log.checkpoint(5) + after.body.decode(), new_verifier)
    assert store.log_state(ORIGIN_OF_MEMORY_LOG).size == 5  # type: ignore[union-attr]


# The city's side -----------------------------------------------------------------


def test_update_keeps_old_cosignatures_valid(
    partner_keys: dict[str, Ed25519PrivateKey],
) -> None:
    bank, uni = (Witness.objects.get(name=name) for name in NAMES)
    first = seal(3)
    store_cosignature(first, bank, partner_keys[bank.name])
    store_cosignature(first, uni, partner_keys[uni.name])
    old_bundle = bundles.build_bundle(1)
    new_key = Ed25519PrivateKey.generate()

    output = run_ledger(
        "witnesses",
        "update",
        bank.name,
        "--vkey",
        cosigner_key(bank.name, new_key.public_key()),
    )
    second = seal(2)
    bank.refresh_from_db()
    store_cosignature(second, bank, new_key)
    store_cosignature(second, uni, partner_keys[uni.name])
    keys = bundles.published_keys()
    report = witness_admin.extra_checks()[0]

    assert "cosignatures stay valid up to tree size 3" in output
    assert WitnessKey.objects.get().last_size == 3
    assert (report.checked, report.problems) == (4, [])
    bank_item = next(item for item in keys["witnesses"] if item["name"] == bank.name)
    assert bank_item["retired_keys"] == [
        {
            "vkey": cosigner_key(bank.name, partner_keys[bank.name].public_key()),
            "last_size": 3,
        }
    ]
    for bundle in (old_bundle, bundles.build_bundle(4)):
        result = verify_bundle(bundle, keys)
        assert result.ok, result.reason
        assert result.witnesses == list(NAMES)
        assert result.witnessed
        assert result.witnesses_known == 2


def test_old_witness_key_after_update_rejected(
    partner_keys: dict[str, Ed25519PrivateKey],
) -> None:
    bank = Witness.objects.get(name=NAMES[0])
    first = seal(3)
    store_cosignature(first, bank, partner_keys[bank.name])
    new_key = Ed25519PrivateKey.generate()
    witnessing.replace_witness_key(
        bank.name, cosigner_key(bank.name, new_key.public_key())
    )
    second = seal(2)

    store_cosignature(second, bank, partner_keys[bank.name])
    report = witness_admin.extra_checks()[0]
    result = verify_bundle(bundles.build_bundle(4), bundles.published_keys())

    old_id = cosigner_key(bank.name, partner_keys[bank.name].public_key()).split("+")[1]
    assert report.problems == [
        f"cosignature by {bank.name} on block 1 does not verify: it is made with "
        f"key {old_id}, which was retired after the checkpoint of 3 entries"
    ]
    assert not result.ok
    assert result.code == "cosignature"
    assert (
        f"cosignature by {bank.name!r} is made with key {old_id}, which was "
        "retired after the checkpoint of 3 entries"
    ) in result.reason


def test_update_rejects_bad_requests(
    partner_keys: dict[str, Ed25519PrivateKey],
) -> None:
    bank, uni = NAMES
    current = cosigner_key(bank, partner_keys[bank].public_key())
    fresh = cosigner_key(bank, Ed25519PrivateKey.generate().public_key())
    witnessing.replace_witness_key(bank, fresh)
    cases = [
        (
            "witness.none.example",
            cosigner_key(
                "witness.none.example", Ed25519PrivateKey.generate().public_key()
            ),
            "witness 'witness.none.example' not found",
        ),
        (bank, fresh, f"witness {bank!r} already has this key"),
        (bank, current, "is or was registered; a witness needs a new key"),
        (uni, fresh, f"witness name {uni!r} differs from its key's name {bank!r}"),
        (bank, "not-a-key", "is invalid: expected name+id+key"),
    ]

    for name, vkey, message in cases:
        with pytest.raises(CommandError) as caught:
            run_ledger("witnesses", "update", name, "--vkey", vkey)
        assert message in str(caught.value), name

    with pytest.raises(witnessing.WitnessError, match="is a retired witness key"):
        witnessing.add_witness(bank, "http://127.0.0.1:9", current)
    with pytest.raises(witnessing.WitnessError, match="ledger witnesses update"):
        witnessing.add_witness(
            bank,
            "http://127.0.0.1:9",
            cosigner_key(bank, Ed25519PrivateKey.generate().public_key()),
        )


def test_cosignature_checked_before_update_not_stored(
    partner_keys: dict[str, Ed25519PrivateKey],
) -> None:
    bank = Witness.objects.get(name=NAMES[0])
    block = seal(2)
    text, _ = split_note(block.note)
    line = cosign(text, bank.name, partner_keys[bank.name], int(time.time()))
    new_key = Ed25519PrivateKey.generate()
    witnessing.replace_witness_key(
        bank.name, cosigner_key(bank.name, new_key.public_key())
    )

    with pytest.raises(witnessing.WitnessError, match="got a new key"):
        witnessing.record_cosignature(bank, block, line, int(time.time()))

    assert Cosignature.objects.count() == 0


# Witness processes on 127.0.0.1 -----------------------------------------------------


@pytest.fixture
def witness_processes(key_file: Path, tmp_path: Path) -> Iterator[list[WitnessProcess]]:
    started = []
    for name in NAMES:
        store = WitnessStore(tmp_path / name)
        store.init(name)
        store.trust(node_verifier_key())
        process = WitnessProcess(store, free_port())
        process.start()
        started.append(process)
        witnessing.add_witness(name, process.url, store.vkey())
    yield started
    for process in started:
        process.stop()


def push_now() -> int:
    """Push to every witness, skipping the backoff of earlier failures."""
    Witness.objects.update(next_attempt_at=None)
    return witnessing.push_to_witnesses()


def test_partner_rotation_with_processes(
    witness_processes: list[WitnessProcess], caplog
) -> None:
    bank = witness_processes[0]
    seal(3)
    assert push_now() == 2

    rotated = subprocess.run(
        [
            sys.executable,
            "-m",
            "kotacerdas.witness",
            "rotate-key",
            "--dir",
            str(bank.store.directory),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    new_vkey = bank.store.vkey()
    seal(2)
    refused = push_now()
    failure = Witness.objects.get(name=bank.store.name()).last_error
    run_ledger("witnesses", "update", bank.store.name(), "--vkey", new_vkey)
    accepted = push_now()
    caplog.set_level(logging.DEBUG)
    verify_report = run_ledger("verify", "--no-record")

    assert f"new witness key: {new_vkey}" in rotated.stdout
    assert refused == 1, "the serving witness signs with its new key at once"
    assert "returned no valid cosignature" in failure
    assert accepted == 1
    assert witnessing.latest_witnessed_block().tree_size == 5  # type: ignore[union-attr]
    assert "cosignatures: 4 checked, 0 problems" in verify_report
    assert "ledger valid" in verify_report


def test_node_rotation_with_processes(
    witness_processes: list[WitnessProcess],
) -> None:
    seal(3)
    assert push_now() == 2
    old_bundle = bundles.build_bundle(1)

    rotation = keyring.rotate_node_key()
    seal(2)
    refused = push_now()
    errors = list(Witness.objects.values_list("last_error", flat=True))
    for process in witness_processes:
        directory = str(process.store.directory)
        vkey = rotation.new_vkey
        assert witness_main(["trust", "--dir", directory, "--vkey", vkey]) == 0
    accepted = push_now()
    keys = bundles.published_keys()

    assert refused == 0
    assert all("status 403" in error for error in errors), errors
    assert accepted == 2, "each witness proves consistency from size 3 to 5"
    latest = witnessing.latest_witnessed_block()
    assert latest is not None and latest.tree_size == 5
    assert verify_ledger(node_key_history()).problems == []
    for bundle in (old_bundle, bundles.build_bundle(4)):
        result = verify_bundle(bundle, keys)
        assert result.ok, result.reason
        assert result.witnessed, result.witnesses
