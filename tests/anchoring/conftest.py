"""Fixtures for anchoring tests: an in-process chain, sealed blocks and partner keys."""

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
