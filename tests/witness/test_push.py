"""The node pushing checkpoints to witness processes on 127.0.0.1."""

import base64
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from kotacerdas.journal import witness_admin, witnessing
from kotacerdas.journal.keys import node_key, node_verifier_key
from kotacerdas.journal.models import Block, Cosignature, Witness
from kotacerdas.journal.notes import (
    COSIGNATURE_TYPE,
    Checkpoint,
    Verifier,
    sign_note,
    verify_cosignature,
)

StartWitness = Callable[[str, str], Any]


@pytest.fixture
def two_witnesses(db: None, start_witness: StartWitness, settings: Any) -> list[Any]:
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    processes = [
        start_witness("witness.pemkot.test", node_verifier_key()),
        start_witness("witness.bank.test", node_verifier_key()),
    ]
    for process in processes:
        witnessing.add_witness(process.store.name(), process.url, process.store.vkey())
    return processes


def forged_note(block: Block, root_hash: bytes, tree_size: int) -> str:
    """Sign, with the node's own key, a checkpoint of another tree."""
    checkpoint = Checkpoint(
        origin=block.note.split("\n", 1)[0],
        tree_size=tree_size,
        root_hash=root_hash,
        prev_hash=bytes(block.block_hash),
        sealed_at=timezone.now(),
    )
    return sign_note(checkpoint.text(), checkpoint.origin, node_key())


def test_push_cosigns_quorum(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    block = grow_ledger(7)

    cosigned = witnessing.push_to_witnesses()
    note = witnessing.witnessed_note(block)

    assert cosigned == 2, "both witnesses co-sign"
    assert witnessing.latest_witnessed_block() == block, "the quorum is met"
    for process in two_witnesses:
        verifier = Verifier.parse(process.store.vkey(), key_type=COSIGNATURE_TYPE)
        assert verify_cosignature(note, verifier) > 0, process.store.name()
    assert Witness.objects.filter(last_size=7, failures=0).count() == 2


def test_push_proves_growth(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    grow_ledger(5)
    witnessing.push_to_witnesses()
    block = grow_ledger(9)

    cosigned = witnessing.push_to_witnesses()

    assert cosigned == 2, "the consistency proof from 5 to 14 convinces both"
    assert Cosignature.objects.filter(block=block).count() == 2
    assert witnessing.push_to_witnesses() == 0, "nothing new to co-sign"


def test_witnessed_checkpoint_api(
    client: Client, two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    assert client.get("/api/journal/checkpoint/witnessed.txt").status_code == 404
    block = grow_ledger(3)
    witnessing.push_to_witnesses()

    response = client.get("/api/journal/checkpoint/witnessed.txt")

    assert response.status_code == 200, response.content
    assert response.content.decode() == witnessing.witnessed_note(block)
    assert response.content.decode().count("\u2014 ") == 3, "node and two witnesses"


def test_node_corrects_stale_size(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    grow_ledger(4)
    witnessing.push_to_witnesses()
    Witness.objects.update(last_size=0)
    grow_ledger(2)

    cosigned = witnessing.push_to_witnesses()

    assert cosigned == 2, "a 409 gives the size and the retry succeeds"
    assert Witness.objects.filter(last_size=6).count() == 2


def test_fork_same_size_refused(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    block = grow_ledger(6)
    witnessing.push_to_witnesses()
    witness = two_witnesses[0]
    fork = forged_note(block, bytes(32), 6)

    response = requests.post(
        f"{witness.url}/add-checkpoint", data=f"old 6\n\n{fork}".encode(), timeout=10
    )
    evidence = witness.evidence()

    assert response.status_code == 409, response.text
    assert response.text == "6\n"
    assert len(evidence) == 1, "the fork is kept as evidence"
    assert evidence[0]["submitted_checkpoint"] == fork
    assert evidence[0]["cosigned_checkpoint"].startswith(block.note)
    assert "REJECTED a conflicting checkpoint" in witness.read_log()


def test_fork_bad_proof_refused(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    block = grow_ledger(6)
    witnessing.push_to_witnesses()
    witness = two_witnesses[1]
    fork = forged_note(block, bytes(range(32)), 10)
    proof = base64.b64encode(bytes(32)).decode()

    response = requests.post(
        f"{witness.url}/add-checkpoint",
        data=f"old 6\n{proof}\n{proof}\n\n{fork}".encode(),
        timeout=10,
    )
    state = requests.get(
        f"{witness.url}/checkpoint/{block.note.split(chr(10))[0]}", timeout=10
    )

    assert response.status_code == 422, response.text
    assert len(witness.evidence()) == 1, "the fork is kept as evidence"
    assert state.text.startswith(block.note), "the witness still holds block 6"


def test_rejected_fork_keeps_history(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    block = grow_ledger(6)
    witnessing.push_to_witnesses()
    witness = two_witnesses[0]
    fork = forged_note(block, bytes(32), 8)
    body = f"old 6\n{base64.b64encode(bytes(32)).decode()}\n\n{fork}"
    requests.post(f"{witness.url}/add-checkpoint", data=body.encode(), timeout=10)
    grow_ledger(2)

    witnessing.push_to_witnesses()

    assert Witness.objects.filter(failures=0).count() == 2, (
        "the rejected fork did not move the witness, so the real history "
        "is still co-signed"
    )


def test_down_witness_catches_up(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    grow_ledger(4)
    witnessing.push_to_witnesses()
    down = two_witnesses[1]
    down.stop()
    latest = grow_ledger(3)

    assert witnessing.push_to_witnesses() == 1, "only the running witness co-signs"
    failed = Witness.objects.get(name=down.store.name())
    assert failed.failures == 1
    assert "request to" in failed.last_error, failed.last_error
    assert failed.next_attempt_at is not None, "a next attempt is scheduled"
    assert failed.next_attempt_at > timezone.now(), "after a backoff delay"
    down.start()
    assert witnessing.push_to_witnesses() == 0, "the witness waits out its backoff"
    row = next(
        row
        for row in witnessing.status_context(latest)["witness_rows"]
        if row["witness"].name == down.store.name()
    )
    assert row["lag_entries"] == 3, "it lags by the three new entries"

    later = failed.next_attempt_at + timedelta(seconds=1)
    assert witnessing.push_to_witnesses(now=later) == 1, "after the backoff it co-signs"

    caught_up = Witness.objects.get(name=down.store.name())
    assert caught_up.failures == 0, "the failure count resets"
    assert caught_up.last_error == "", "the last error clears"
    assert caught_up.last_size == 7
    rows = witnessing.status_context(latest)["witness_rows"]
    assert [row["lag_entries"] for row in rows] == [0, 0], "no witness lags"


def test_cosignature_check_finds_tampering(
    two_witnesses: list[Any], grow_ledger: Callable[[int], Block]
) -> None:
    grow_ledger(3)
    witnessing.push_to_witnesses()
    [report] = witness_admin.extra_checks()
    assert (report.name, report.checked, report.problems) == ("cosignatures", 2, [])

    cosignature = Cosignature.objects.first()
    assert cosignature is not None
    cosignature.timestamp += 1
    cosignature.save()
    [report] = witness_admin.extra_checks()

    assert len(report.problems) == 1, report.problems
    assert "carries time" in report.problems[0]


def test_ledger_witnesses_commands(
    db: None, make_store: Callable[[str, str], Any]
) -> None:
    store = make_store("witness.cli.test", node_verifier_key())
    output = StringIO()

    call_command(
        "ledger",
        "witnesses",
        "add",
        "witness.cli.test",
        "http://127.0.0.1:9",
        store.vkey(),
        stdout=output,
    )
    call_command("ledger", "witnesses", "list", stdout=output)
    call_command("ledger", "witnesses", "remove", "witness.cli.test", stdout=output)

    assert "witness.cli.test active http://127.0.0.1:9" in output.getvalue()
    assert "witness witness.cli.test deactivated" in output.getvalue()
    assert not Witness.objects.get(name="witness.cli.test").active


@pytest.mark.parametrize(
    ("name", "url", "vkey_of", "message"),
    [
        ("other.name", "http://127.0.0.1:9", "witness", "differs from its key's name"),
        ("witness.cli.test", "ftp://x", "witness", "must start with http://"),
        ("witness.cli.test", "http://127.0.0.1:9", "node", "is not an cosigner key"),
    ],
)
def test_witness_add_rejects(
    db: None,
    make_store: Callable[[str, str], Any],
    name: str,
    url: str,
    vkey_of: str,
    message: str,
) -> None:
    store = make_store("witness.cli.test", node_verifier_key())
    vkey = store.vkey() if vkey_of == "witness" else node_verifier_key()

    with pytest.raises(CommandError) as error:
        call_command("ledger", "witnesses", "add", name, url, vkey)

    assert message in str(error.value), str(error.value)


def test_remove_unknown_witness(db: None) -> None:
    with pytest.raises(CommandError, match="witness 'nobody' not found"):
        call_command("ledger", "witnesses", "remove", "nobody")
