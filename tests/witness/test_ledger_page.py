"""The public ledger page shows the witnesses to every persona."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kotacerdas.accounts.roles import ROLES
from kotacerdas.journal import witnessing
from kotacerdas.journal.keys import node_verifier_key
from kotacerdas.journal.models import Block, Witness

PERSONAS = ["anonymous", *(role.name for role in ROLES), "outsider"]


@pytest.fixture
def witnessed_ledger(
    db: None,
    start_witness: Callable[[str, str], Any],
    grow_ledger: Callable[[int], Block],
    settings: Any,
) -> Block:
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    for name in ["witness.pemkot.test", "witness.bank.test"]:
        process = start_witness(name, node_verifier_key())
        witnessing.add_witness(name, process.url, process.store.vkey())
    grow_ledger(4)
    witnessing.push_to_witnesses()
    return grow_ledger(2)


@pytest.mark.parametrize("persona", PERSONAS)
def test_ledger_page_shows_witnesses(
    persona: str,
    witnessed_ledger: Block,
    personas: dict[str, Any],
    signed_in: Callable[[str], Client],
) -> None:
    client = Client() if persona == "anonymous" else signed_in(persona)

    response = client.get("/ledger/")
    html = response.content.decode()

    assert response.status_code == 200, "the ledger page is public"
    assert "witness.pemkot.test" in html, "the first witness is listed"
    assert "witness.bank.test" in html, "the second witness is listed"
    assert 'data-testid="witness-table"' in html
    assert "witness.bank.test, witness.pemkot.test" in html, "block 0 signers"
    assert "<td>2</td>" in html, "each witness lags by the two new entries"


def test_ledger_page_quorum_states(client: Client, witnessed_ledger: Block) -> None:
    before = client.get("/ledger/").content.decode()
    witnessing.push_to_witnesses()
    after = client.get("/ledger/").content.decode()

    assert 'data-testid="witness-quorum" class="bad"' in before, "block 1 unsigned"
    assert 'data-testid="witness-quorum" class="ok"' in after, "block 1 co-signed"
    assert after.count("witness.bank.test, witness.pemkot.test") == 2, "both blocks"


def test_ledger_page_silent_witness_translated(
    client: Client, witnessed_ledger: Block
) -> None:
    Witness.objects.filter(name="witness.bank.test").update(
        failures=3, last_error="request to http://127.0.0.1:9 failed: refused"
    )

    indonesian = client.get("/ledger/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/ledger/").content

    assert "Tidak menjawab: 3 percobaan gagal berturut-turut." in indonesian
    assert "Not answering: 3 failed attempts in a row." in english.decode()
    # The technical detail stays out of the text, in the tooltip only.
    assert 'title="request to http://127.0.0.1:9 failed: refused"' in indonesian
    assert "Menjawab" in indonesian, "the other witness answers"
