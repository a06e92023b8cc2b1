"""Fixtures for the verify page: sealed entries co-signed by witnesses with real keys."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.test import Client

from kotacerdas.journal import services
from kotacerdas.journal.models import Block, Cosignature, Witness
from kotacerdas.journal.notes import cosign, cosigner_key, split_note

WITNESS_NAMES = (
    "witness.bank.example",
    "witness.inspectorate.example",
    "witness.uni.example",
)


@dataclass(frozen=True)
class TestWitness:
    row: Witness
    key: Ed25519PrivateKey


def append_events(count: int) -> None:
    for number in range(count):
        with transaction.atomic():
            payload = {"user_id": number + 1, "roles": ["citizen"], "actor_id": None}
            services.append("accounts.roles.changed", payload)


def seal() -> Block:
    block = services.seal_pending()
    assert block is not None, "sealing should have made a block"
    return block


def cosign_block(block: Block, signers: list[TestWitness]) -> None:
    """Store each signer's cosignature/v1 line on the block, as the node does."""
    text, _ = split_note(block.note)
    for signer in signers:
        timestamp = int(time.time())
        line = cosign(text, signer.row.name, signer.key, timestamp)
        Cosignature.objects.create(
            block=block, witness=signer.row, timestamp=timestamp, line=line
        )


@pytest.fixture
def witnesses(db: None) -> list[TestWitness]:
    """Three active witnesses with generated cosigner keys (the test quorum is 2)."""
    made = []
    for name in WITNESS_NAMES:
        key = Ed25519PrivateKey.generate()
        row = Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
        made.append(TestWitness(row, key))
    return made


@pytest.fixture
def witnessed_block(witnesses: list[TestWitness]) -> Callable[[int], Block]:
    """Return a function that appends events, seals them and has two witnesses co-sign."""
    assert settings.KOTACERDAS_WITNESS_QUORUM == 2

    def make(count: int) -> Block:
        append_events(count)
        block = seal()
        cosign_block(block, witnesses[:2])
        return block

    return make


@pytest.fixture
def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def indonesian() -> Client:
    return Client()
