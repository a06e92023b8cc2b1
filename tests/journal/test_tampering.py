"""Tampering with stored journal rows is caught by `verify_ledger`, which names the row.

Each test first lifts the append-only triggers (the `tamper` fixture), as an
attacker with database rights would, then edits the tables with raw SQL.
"""

import json
from collections.abc import Callable

import pytest
import rfc8785
from django.db import DatabaseError, connection, transaction

from kotacerdas.journal import services
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Block, Entry, MerkleNode
from kotacerdas.journal.verify import VerifyResult, verify_ledger

pytestmark = pytest.mark.django_db

AppendEntries = Callable[[int], list[Entry]]


@pytest.fixture
def sealed_ledger(append_entries: AppendEntries) -> list[Block]:
    """Eight entries in two blocks: block 0 holds entries 0-4, block 1 entries 5-7."""
    append_entries(5)
    first = services.seal_pending()
    append_entries(3)
    second = services.seal_pending()
    assert first is not None and second is not None, "both blocks should be sealed"
    return [first, second]


def verify() -> VerifyResult:
    return verify_ledger(node_verifier())


def execute(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def body_of(seq: int) -> dict[str, object]:
    return json.loads(bytes(Entry.objects.get(seq=seq).body))


def set_body(seq: int, envelope: dict[str, object]) -> None:
    execute(
        "UPDATE journal_entry SET body = %s WHERE seq = %s",
        [rfc8785.dumps(envelope), seq],
    )


def first_problem(result: VerifyResult) -> str:
    assert not result.ok, "verify should have found a problem"
    return result.problems[0]


def test_untouched_ledger_verifies(sealed_ledger: list[Block]) -> None:
    result = verify()

    assert result.ok, f"untouched ledger reported {result.problems}"
    assert result.entries_checked == 8, "all eight entries should be checked"
    assert result.blocks_checked == 2, "both blocks should be checked"


def test_update_rejected_by_trigger(sealed_ledger: list[Block]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only") as raised,
        transaction.atomic(),
    ):
        execute("UPDATE journal_entry SET event_type = 'x.y.z' WHERE seq = 1")

    assert "UPDATE" in str(raised.value), "the message should name the operation"


def test_delete_rejected_by_trigger(sealed_ledger: list[Block]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only") as raised,
        transaction.atomic(),
    ):
        Entry.objects.filter(seq=1).delete()

    assert "DELETE" in str(raised.value), "the message should name the operation"


@pytest.mark.parametrize("table", ["journal_merklenode", "journal_block"])
def test_other_tables_reject_delete(sealed_ledger: list[Block], table: str) -> None:
    with (
        pytest.raises(DatabaseError, match=f"{table} is append-only"),
        transaction.atomic(),
    ):
        execute(f"DELETE FROM {table}")


def test_changed_payload_names_entry(sealed_ledger: list[Block], tamper: None) -> None:
    envelope = body_of(3)
    envelope["payload"] = {"user_id": 999, "roles": ["admin"], "actor_id": None}
    set_body(3, envelope)

    problem = first_problem(verify())

    assert problem.startswith("entry 3:"), f"problem should name entry 3: {problem}"
    assert "leaf hash" in problem, f"problem should mention the leaf hash: {problem}"


def test_changed_entry_in_second_block(
    sealed_ledger: list[Block], tamper: None
) -> None:
    envelope = body_of(6)
    envelope["actor"] = "forged-actor"
    set_body(6, envelope)

    problem = first_problem(verify())

    assert problem.startswith("entry 6:"), f"problem should name entry 6: {problem}"


def test_deleted_entry_is_named(sealed_ledger: list[Block], tamper: None) -> None:
    execute("DELETE FROM journal_entry WHERE seq = 2")

    problem = first_problem(verify())

    assert "entry 2 is missing" in problem, f"problem should name entry 2: {problem}"


def test_deleted_last_entry_detected(sealed_ledger: list[Block], tamper: None) -> None:
    execute("DELETE FROM journal_entry WHERE seq = 7")

    problem = first_problem(verify())

    assert "block 1" in problem, f"problem should name block 1: {problem}"
    assert "deleted" in problem, f"problem should say entries were deleted: {problem}"


def test_swapped_entries_name_first(sealed_ledger: list[Block], tamper: None) -> None:
    second, fifth = body_of(2), body_of(5)
    set_body(2, fifth)
    set_body(5, second)

    problem = first_problem(verify())

    assert "entry 2:" in problem, f"problem should name entry 2: {problem}"
    assert "sequence number 5" in problem, f"problem should give 5: {problem}"


def test_swapped_sequence_numbers_detected(
    sealed_ledger: list[Block], tamper: None
) -> None:
    execute("UPDATE journal_entry SET seq = 1000 WHERE seq = 1")
    execute("UPDATE journal_entry SET seq = 1 WHERE seq = 4")
    execute("UPDATE journal_entry SET seq = 4 WHERE seq = 1000")

    problem = first_problem(verify())

    assert "entry 1:" in problem, f"problem should name entry 1: {problem}"


def test_inserted_entry_is_named(sealed_ledger: list[Block], tamper: None) -> None:
    # The forger shifts entries 4..7 up by one and writes a consistent body at 4.
    for seq in range(7, 3, -1):
        execute("UPDATE journal_entry SET seq = %s WHERE seq = %s", [seq + 1, seq])
    forged = body_of(3)
    forged["seq"] = 4
    forged["payload"] = {"user_id": 4242, "roles": ["admin"], "actor_id": None}
    execute(
        "INSERT INTO journal_entry (seq, event_type, body, recorded_at) "
        "SELECT 4, event_type, %s, recorded_at FROM journal_entry WHERE seq = 3",
        [rfc8785.dumps(forged)],
    )

    problem = first_problem(verify())

    assert problem.startswith("entry 4:"), f"problem should name entry 4: {problem}"


def test_appended_row_beyond_head(sealed_ledger: list[Block], tamper: None) -> None:
    # A row written straight into the table skips the head counter.
    forged = body_of(7)
    forged["seq"] = 8
    execute(
        "INSERT INTO journal_entry (seq, event_type, body, recorded_at) "
        "SELECT 8, event_type, %s, recorded_at FROM journal_entry WHERE seq = 7",
        [rfc8785.dumps(forged)],
    )

    problem = first_problem(verify())

    assert "head counts 8 entries" in problem, f"problem should give 8: {problem}"
    assert "9 were found" in problem, f"problem should give 9: {problem}"


def test_changed_block_root_named(sealed_ledger: list[Block], tamper: None) -> None:
    execute("UPDATE journal_block SET root_hash = %s WHERE height = 1", [bytes(32)])

    problem = first_problem(verify())

    assert problem.startswith("block 1:"), f"problem should name block 1: {problem}"
    assert "root hash" in problem, f"problem should mention the root: {problem}"


def test_forged_block_signature_named(sealed_ledger: list[Block], tamper: None) -> None:
    note = sealed_ledger[0].note
    text, _, signature_line = note.rstrip("\n").rpartition("\n")
    # Changing the first character of the base64 changes the key id bytes,
    # so the last characters (the signature's end) are changed instead.
    forged_line = signature_line[:-4] + (
        "AAAA" if signature_line[-4:] != "AAAA" else "BBBB"
    )
    execute(
        "UPDATE journal_block SET note = %s WHERE height = 0",
        [f"{text}\n{forged_line}\n"],
    )

    problem = first_problem(verify())

    assert problem.startswith("block 0:"), f"problem should name block 0: {problem}"
    assert "does not verify" in problem, f"problem should name the signature: {problem}"


def test_changed_block_link_named(sealed_ledger: list[Block], tamper: None) -> None:
    execute("UPDATE journal_block SET prev_hash = %s WHERE height = 1", [bytes(32)])

    problem = first_problem(verify())

    assert problem.startswith("block 1:"), f"problem should name block 1: {problem}"
    assert "previous block hash" in problem, f"problem should name the link: {problem}"


def test_changed_merkle_node_named(sealed_ledger: list[Block], tamper: None) -> None:
    key = (1 << 48) | 1  # level 1, index 1: the parent of entries 2 and 3
    execute("UPDATE journal_merklenode SET hash = %s WHERE key = %s", [bytes(32), key])

    problem = first_problem(verify())

    assert "level 1, index 1" in problem, f"problem should name the node: {problem}"


def test_deleted_merkle_node_named(sealed_ledger: list[Block], tamper: None) -> None:
    MerkleNode.objects.filter(key=5).delete()  # level 0, index 5: entry 5's leaf

    problem = first_problem(verify())

    assert "level 0, index 5 is missing" in problem, f"wrong problem: {problem}"
