"""Fixtures for witness tests: an in-memory log, witness directories and processes."""

import base64
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from kotacerdas.journal import merkle, services
from kotacerdas.journal.models import Block
from kotacerdas.journal.notes import sign_note, verifier_key
from kotacerdas.witness.store import WitnessStore

ORIGIN = "test.kotacerdas.local/journal"


def tree_hash(leaves: list[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    k = merkle.split_point(end - start)
    return merkle.node_hash(
        tree_hash(leaves, start, start + k), tree_hash(leaves, start + k, end)
    )


@dataclass
class MemoryLog:
    """A log whose entries are b'entry <n>' (or another prefix, for a fork)."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    origin: str = ORIGIN
    prefix: bytes = b"entry"
    leaves: list[bytes] = field(default_factory=list)

    @property
    def vkey(self) -> str:
        return verifier_key(self.origin, self.key.public_key())

    def grow_to(self, size: int) -> None:
        while len(self.leaves) < size:
            entry = self.prefix + b" %d" % len(self.leaves)
            self.leaves.append(merkle.leaf_hash(entry))

    def root(self, size: int) -> bytes:
        return tree_hash(self.leaves, 0, size) if size else merkle.EMPTY_ROOT

    def checkpoint(self, size: int, key: Ed25519PrivateKey | None = None) -> str:
        self.grow_to(size)
        root = base64.b64encode(self.root(size)).decode()
        text = f"{self.origin}\n{size}\n{root}\n"
        return sign_note(text, self.origin, key or self.key)

    def proof(self, old_size: int, new_size: int) -> list[bytes]:
        self.grow_to(new_size)
        return merkle.consistency_proof(
            old_size, new_size, lambda s, e: tree_hash(self.leaves, s, e)
        )

    def request(self, old_size: int, new_size: int) -> bytes:
        """Return an add-checkpoint body with a valid proof from `old_size`."""
        proof = self.proof(old_size, new_size) if 0 < old_size < new_size else []
        return add_checkpoint_body(old_size, proof, self.checkpoint(new_size))

    @staticmethod
    def body(old_size: int, proof: list[bytes], note: str) -> bytes:
        return add_checkpoint_body(old_size, proof, note)


def add_checkpoint_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old_size}\n"]
    lines += [base64.b64encode(node).decode() + "\n" for node in proof]
    return ("".join(lines) + "\n" + note).encode()


@pytest.fixture
def memory_log() -> MemoryLog:
    return MemoryLog()


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[[str, str], WitnessStore]:
    """Return a function creating a witness directory that trusts one log key."""

    def make(name: str, log_vkey: str) -> WitnessStore:
        store = WitnessStore(tmp_path / name)
        store.init(name)
        store.trust(log_vkey)
        return store

    return make


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WitnessProcess:
    """`kotacerdas witness serve` running in its own process on 127.0.0.1."""

    store: WitnessStore
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "kotacerdas.config.cli", "witness", "serve"]
        command += ["--dir", str(self.store.directory), "--port", str(self.port)]
        log = open(self.store.directory / "serve.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"witness exited: {self.read_log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"witness did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def read_log(self) -> str:
        return (self.store.directory / "serve.log").read_text()

    def evidence(self) -> list[dict[str, Any]]:
        files = sorted(self.store.evidence_dir.glob("*.json"))
        return [json.loads(path.read_text()) for path in files]


@pytest.fixture
def start_witness(
    make_store: Callable[[str, str], WitnessStore],
) -> Iterator[Callable[[str, str], WitnessProcess]]:
    """Return a function that starts a witness process trusting a log key."""
    started: list[WitnessProcess] = []

    def start(name: str, log_vkey: str) -> WitnessProcess:
        witness = WitnessProcess(make_store(name, log_vkey), free_port())
        witness.start()
        started.append(witness)
        return witness

    yield start
    for witness in started:
        witness.stop()


@pytest.fixture
def grow_ledger(db: None) -> Callable[[int], Block]:
    """Return a function that appends `count` events and seals them into a block."""

    def grow(count: int) -> Block:
        for index in range(count):
            with transaction.atomic():
                services.append(
                    "accounts.roles.changed",
                    {"user_id": index + 1, "roles": ["citizen"], "actor_id": None},
                )
        block = services.seal_pending()
        assert block is not None, "the new entries should seal into a block"
        return block

    return grow
