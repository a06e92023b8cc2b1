"""Fixtures for anchoring tests: an in-process chain, sealed blocks and partner keys."""

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import transaction
from eth_account.signers.local import LocalAccount

from kotacerdas.journal import chain as chains
from kotacerdas.journal import services
from kotacerdas.journal.models import Block


@pytest.fixture
def tester_chain() -> Iterator[chains.Chain]:
    """Give the test a fresh in-process chain, installed as this process's own."""
    chain = chains.new_in_process_chain()
    previous = chains._in_process
    chains._in_process = chain
    yield chain
    chains._in_process = previous


@pytest.fixture
def seal_block(db: None) -> Callable[[int], Block]:
    """Return a function that appends `count` events and seals them into a block."""

    def seal(count: int) -> Block:
        for user_id in range(count):
            with transaction.atomic():
                services.append(
                    "accounts.roles.changed",
                    {"user_id": user_id + 1, "roles": ["citizen"], "actor_id": None},
                )
        block = services.seal_pending()
        assert block is not None
        return block

    return seal


@pytest.fixture
def partner_key(tmp_path: Path) -> Callable[[str], tuple[Path, LocalAccount]]:
    """Return a function that creates a partner's chain key file by name."""

    def create(name: str) -> tuple[Path, LocalAccount]:
        path = tmp_path / f"{name}.key"
        return path, chains.load_or_create_key(path)

    return create


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def anvil_node(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Return a function that starts anvil on a free 127.0.0.1 port and returns its URL.

    Each call stops the node the previous call started, so a test can restart
    the chain on the same state directory; `crash_previous=True` kills it with
    SIGKILL instead, so it cannot write its state on the way out. Without anvil the test is skipped,
    except under CI, where it fails: CI installs anvil through `npm ci`.
    """
    if chains.anvil_binary() is None:
        message = "anvil not installed: run `npm ci` in the repository root"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    processes: list[subprocess.Popen[bytes]] = []

    def start(crash_previous: bool = False) -> str:
        if crash_previous:
            for process in processes:
                process.kill()
                process.wait(timeout=15)
        stop_all(processes)
        process, url = chains.start_anvil(tmp_path / "chain", port=0)
        processes.append(process)
        return url

    yield start
    stop_all(processes)


def stop_all(processes: list["subprocess.Popen[bytes]"]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)
