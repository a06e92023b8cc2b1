"""The ledger as its users reach it: the `ledger` command, the JSON API and the pages."""

import base64
import io
from collections.abc import Callable

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection
from django.test import Client

from kotacerdas.journal import merkle, services
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Block, Entry, VerifyRun
from kotacerdas.journal.notes import Checkpoint, verifier_key, verify_note

pytestmark = pytest.mark.django_db

AppendEntries = Callable[[int], list[Entry]]


@pytest.fixture
def two_blocks(append_entries: AppendEntries) -> list[Block]:
    """Block 0 holds entries 0-4 and block 1 entries 5-10."""
    append_entries(5)
    first = services.seal_pending()
    append_entries(6)
    second = services.seal_pending()
    assert first is not None and second is not None, "both blocks should be sealed"
    return [first, second]


def run_verify(*args: str) -> tuple[int, str]:
    """Run `ledger verify` and return its exit code and standard output."""
    output = io.StringIO()
    try:
        call_command("ledger", "verify", *args, stdout=output, stderr=io.StringIO())
    except SystemExit as exit:
        return int(exit.code or 0), output.getvalue()
    return 0, output.getvalue()


def corrupt_entry(seq: int) -> None:
    """Rewrite an entry's payload after lifting the triggers, as an attacker would."""
    body = bytes(Entry.objects.get(seq=seq).body).replace(b'"citizen"', b'"admin"')
    with connection.cursor() as cursor:
        cursor.execute("UPDATE journal_entry SET body = %s WHERE seq = %s", [body, seq])


def b64decode(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def test_verify_command_reports_valid(two_blocks: list[Block]) -> None:
    code, output = run_verify()

    assert code == 0, f"verify failed: {output}"
    assert "ledger valid: entries checked: 11, blocks checked: 2," in output, output


def test_verify_command_records_run(two_blocks: list[Block]) -> None:
    run_verify()

    run = VerifyRun.objects.get()
    assert run.ok, f"the recorded run should be valid: {run.first_problem}"
    assert run.entries_checked == 11, "the run should count 11 entries"


def test_verify_command_names_tampered_entry(
    two_blocks: list[Block], tamper: None
) -> None:
    corrupt_entry(3)

    code, output = run_verify()

    assert code == 1, "verify should exit with status 1"
    assert "ledger INVALID: entry 3:" in output, output
    assert VerifyRun.objects.get().first_problem.startswith("entry 3:"), "recorded"


def test_from_block_trusts_earlier_blocks(
    two_blocks: list[Block], tamper: None
) -> None:
    corrupt_entry(3)

    code, output = run_verify("--from-block", "1", "--no-record")

    assert code == 0, f"entries of block 0 should be trusted: {output}"
    assert "entries checked: 6, blocks checked: 1," in output, output
    assert not VerifyRun.objects.exists(), "--no-record should store nothing"


def test_from_block_catches_later_tamper(two_blocks: list[Block], tamper: None) -> None:
    corrupt_entry(8)

    code, output = run_verify("--from-block", "1")

    assert code == 1, "verify should exit with status 1"
    assert "ledger INVALID: entry 8:" in output, output


def test_from_missing_block_fails(two_blocks: list[Block]) -> None:
    code, output = run_verify("--from-block", "5")

    assert code == 1, "verify should exit with status 1"
    assert "block 4 not found" in output, output
    assert "the journal has 2 blocks, use --from-block 2 or lower" in output, output


def test_foreign_verifier_key_fails(two_blocks: list[Block]) -> None:
    origin = node_verifier().name
    stranger = verifier_key(origin, Ed25519PrivateKey.generate().public_key())

    code, output = run_verify("--vkey", stranger)

    assert code == 1, "verify should exit with status 1"
    assert "ledger INVALID: block 0: note carries no signature" in output, output


def test_seal_command_reports_block(append_entries: AppendEntries) -> None:
    append_entries(2)
    output = io.StringIO()

    call_command("ledger", "seal", stdout=output)

    assert "sealed block 0 at tree size 2" in output.getvalue(), output.getvalue()


def test_api_proof_verifies_against_checkpoint(
    client: Client, two_blocks: list[Block]
) -> None:
    checkpoint = client.get("/api/journal/checkpoint").json()
    root = b64decode(checkpoint["root_hash"])

    for seq in range(11):
        entry = client.get(f"/api/journal/entries/{seq}").json()
        leaf = merkle.leaf_hash(rfc8785.dumps(entry["body"]))
        proof = [b64decode(node) for node in entry["proof"]]

        assert b64decode(entry["leaf_hash"]) == leaf, f"entry {seq}: leaf differs"
        assert merkle.verify_inclusion(leaf, seq, 11, proof, root), f"entry {seq}"


def test_api_proof_against_older_checkpoint(
    client: Client, two_blocks: list[Block]
) -> None:
    entry = client.get("/api/journal/entries/2", {"tree_size": 5}).json()
    signed = Checkpoint.parse(verify_note(entry["checkpoint"], node_verifier()))
    proof = [b64decode(node) for node in entry["proof"]]
    leaf = b64decode(entry["leaf_hash"])

    assert signed.tree_size == 5, "the proof should come with the size-5 checkpoint"
    assert merkle.verify_inclusion(leaf, 2, 5, proof, signed.root_hash), "rejected"


def test_api_checkpoint_text_is_signed(client: Client, two_blocks: list[Block]) -> None:
    response = client.get("/api/journal/checkpoint.txt")
    text = verify_note(response.content.decode(), node_verifier())

    assert response["Content-Type"].startswith("text/plain"), "plain text expected"
    assert Checkpoint.parse(text).tree_size == 11, "the latest checkpoint has 11"


def test_api_consistency_proof_verifies(
    client: Client, two_blocks: list[Block]
) -> None:
    old, new = two_blocks
    response = client.get("/api/journal/consistency", {"old_size": 5, "new_size": 11})
    proof = [b64decode(node) for node in response.json()["proof"]]

    accepted = merkle.verify_consistency(
        5, 11, bytes(old.root_hash), bytes(new.root_hash), proof
    )

    assert accepted, "consistency proof from block 0 to block 1 was rejected"


def test_api_unknown_entry_is_404(client: Client, two_blocks: list[Block]) -> None:
    response = client.get("/api/journal/entries/99")

    assert response.status_code == 404, "a missing entry should be 404"
    assert response.json()["error"]["message"] == "entry 99 not found", "message"


def test_api_unsealed_entry_explains(
    client: Client, two_blocks: list[Block], append_entries: AppendEntries
) -> None:
    append_entries(1)

    response = client.get("/api/journal/entries/11")

    assert response.status_code == 404, "an unsealed entry has no proof yet"
    assert "wait for the next block" in response.json()["error"]["message"], "hint"


def test_api_bad_consistency_sizes(client: Client, two_blocks: list[Block]) -> None:
    response = client.get("/api/journal/consistency", {"old_size": 9, "new_size": 5})

    assert response.status_code == 422, "invalid sizes should be rejected"
    assert response.json()["error"]["code"] == "invalid"
    assert "sizes 9 and 5 are invalid" in response.json()["error"]["message"], "msg"


def test_ledger_page_shows_checkpoint(client: Client, two_blocks: list[Block]) -> None:
    response = client.get("/ledger/")
    html = response.content.decode()
    root_b64 = base64.b64encode(bytes(two_blocks[1].root_hash)).decode()

    assert response.status_code == 200, "the ledger page should render"
    assert 'data-testid="checkpoint-size">11<' in html, "latest size shown"
    assert root_b64 in html, "the root hash should be shown"
    assert "<html" in html, "the full page includes the layout"


def test_ledger_page_without_blocks(client: Client) -> None:
    response = client.get("/ledger/")

    assert response.status_code == 200, "the page should render with no blocks"
    no_checkpoint = 'data-testid="checkpoint-size">\N{EN DASH}<'
    assert no_checkpoint in response.content.decode(), (
        "a dash marks a missing checkpoint"
    )


def test_ledger_partial_for_htmx(client: Client, two_blocks: list[Block]) -> None:
    response = client.get("/ledger/", headers={"HX-Request": "true"})
    html = response.content.decode()

    assert response.status_code == 200, "the partial should render"
    assert "<html" not in html, "HTMX polling gets only the live panel"
    assert 'data-testid="journal-size">11<' in html, "the panel shows the size"


def test_entry_page_shows_proof(client: Client, two_blocks: list[Block]) -> None:
    proof = services.inclusion_proof(4)

    response = client.get("/ledger/entries/4/")
    html = response.content.decode()

    assert response.status_code == 200, "the entry page should render"
    assert base64.b64encode(proof.leaf_hash).decode() in html, "leaf hash shown"
    assert "accounts.roles.changed" in html, "event type shown"


def test_entry_page_unknown_is_404(client: Client) -> None:
    response = client.get("/ledger/entries/5/")

    assert response.status_code == 404, "a missing entry should be 404"
