"""Fixtures for bundle tests: sealed entries, witnesses with real keys, cosignatures."""

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from kotacerdas.journal import services
from kotacerdas.journal.models import Block, Cosignature, Witness
from kotacerdas.journal.notes import cosign, cosigner_key, split_note

# Runs the verifier's command line with Django unimportable and every socket refused.
OFFLINE_RUNNER = """
import runpy, socket, sys
sys.modules["django"] = None
def refuse(*args, **kwargs):
    raise OSError("network is blocked in this test")
socket.socket = refuse
socket.create_connection = refuse
sys.argv = ["kotacerdas.verify", *sys.argv[1:]]
runpy.run_module("kotacerdas.verify", run_name="__main__")
"""


@dataclass(frozen=True)
class TestWitness:
    row: Witness
    key: Ed25519PrivateKey


def append_events(count: int) -> None:
    """Append `count` events, each in its own atomic block as services do."""
    for number in range(count):
        with transaction.atomic():
            payload = {"user_id": number + 1, "roles": ["citizen"], "actor_id": None}
            services.append("accounts.roles.changed", payload)


def seal() -> Block:
    block = services.seal_pending()
    assert block is not None, "sealing should have made a block"
    return block


@pytest.fixture
def witnesses(db: None) -> list[TestWitness]:
    """Three active witnesses with generated cosigner keys; the quorum is 2."""
    made = []
    for name in (
        "witness.bank.example",
        "witness.inspectorate.example",
        "witness.uni.example",
    ):
        key = Ed25519PrivateKey.generate()
        row = Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
        made.append(TestWitness(row, key))
    return made


def cosign_block(block: Block, signers: list[TestWitness]) -> None:
    """Store each signer's cosignature/v1 line on the block, as the node would."""
    text, _ = split_note(block.note)
    for signer in signers:
        timestamp = int(time.time())
        line = cosign(text, signer.row.name, signer.key, timestamp)
        Cosignature.objects.create(
            block=block, witness=signer.row, timestamp=timestamp, line=line
        )


@pytest.fixture
def witnessed_block(witnesses: list[TestWitness]) -> Callable[[int], Block]:
    """Return a function that appends events, seals them and has two witnesses co-sign."""

    def make(count: int) -> Block:
        append_events(count)
        block = seal()
        cosign_block(block, witnesses[:2])
        return block

    return make


OfflineVerifier = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def offline_verifier() -> OfflineVerifier:
    """Return a function that runs `python -m kotacerdas.verify ARGS` offline.

    The subprocess has Django unimportable and every socket refused, so a
    passing run proves the verifier needs neither.
    """

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", OFFLINE_RUNNER, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    return run


@pytest.fixture
def cosigner() -> Callable[[Block, list[TestWitness]], None]:
    return cosign_block


@pytest.fixture
def appender(db: None) -> Callable[[int], None]:
    return append_events
