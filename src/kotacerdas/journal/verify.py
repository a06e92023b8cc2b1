"""Full and incremental verification of the journal.

Streams every entry in sequence order, recomputes each leaf and every perfect
subtree and compares them with the stored Merkle nodes, checks each block's root,
signature and link to the previous block, and feeds the entries to the replay
checkers. Stops at the first broken entry, node or block and names it; later
problems usually follow from the first.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from kotacerdas.journal import merkle
from kotacerdas.journal.checks import ReplayChecker, build_checkers
from kotacerdas.journal.models import Block, Entry, JournalHead, MerkleNode
from kotacerdas.journal.notes import Checkpoint, NoteError, Verifier
from kotacerdas.verify.history import LogKeys

Progress = Callable[[int, int], None]


class Broken(Exception):
    """The first problem found; verification stops there."""


@dataclass
class VerifyResult:
    entries_checked: int = 0
    blocks_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _State:
    tree: merkle.CompactRange
    prev_hash: bytes
    blocks: Iterator[Block]
    next_block: Block | None
    checkers: list[ReplayChecker]
    keys: LogKeys
    result: VerifyResult
    sealed_size: int


def verify_ledger(
    keys: Verifier | LogKeys,
    from_block: int = 0,
    chunk_size: int = 20_000,
    progress: Progress | None = None,
) -> VerifyResult:
    """Verify blocks from `from_block` on and every entry after the block before it.

    `keys` is the node's key history (journal.keys.node_key_history), under
    which each block must be signed by the key whose range covers its tree
    size, or one verifier key for a ledger that was never rotated.
    """
    history = keys if isinstance(keys, LogKeys) else LogKeys.single(keys)
    result = VerifyResult()
    with _snapshot():
        _verify(history, from_block, chunk_size, progress, result)
    return result


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read the journal, its blocks and the app tables as of one moment.

    Without a snapshot, entries appended while verify runs make the head,
    the entries read and the replayed tables disagree, which verify would
    report as tampering. PostgreSQL gets a read-only REPEATABLE READ
    transaction. On SQLite a deferred transaction in WAL mode reads one
    snapshot and lets writers go on.
    """
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            yield
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
    else:
        yield


def _verify(
    keys: LogKeys,
    from_block: int,
    chunk_size: int,
    progress: Progress | None,
    result: VerifyResult,
) -> None:
    try:
        state = _start(keys, from_block, result)
        total = Entry.objects.count()
        start = state.tree.size
        for low in range(start, max(total, start) + 1, chunk_size):
            if not _verify_chunk(state, low, low + chunk_size):
                break
            if progress:
                progress(state.tree.size, total)
        _finish(state, total)
    except Broken as problem:
        result.problems.append(str(problem))


def _start(history: LogKeys, from_block: int, result: VerifyResult) -> _State:
    tree = merkle.CompactRange()
    prev_hash = bytes(32)
    if from_block > 0:
        before = Block.objects.filter(height=from_block - 1).first()
        if before is None:
            block_count = Block.objects.count()
            raise Broken(
                f"block {from_block - 1} not found, so verification cannot start at "
                f"block {from_block}; the journal has {block_count} blocks, use "
                f"--from-block {block_count} or lower"
            )
        _check_block_note(before, history, bytes(before.prev_hash))
        keys = merkle.compact_range_keys(before.tree_size)
        stored = _stored_nodes(keys)
        if any(key not in stored for key in keys):
            raise Broken(
                f"block {before.height}: Merkle nodes for its tree are missing"
            )
        tree = merkle.CompactRange(before.tree_size, [stored[key] for key in keys])
        if tree.root() != bytes(before.root_hash):
            raise Broken(
                f"block {before.height}: stored tree does not give the signed root"
            )
        prev_hash = bytes(before.block_hash)
    blocks = (
        Block.objects.filter(height__gte=from_block).order_by("height").iterator(2000)
    )
    checkers = build_checkers(full_history=from_block == 0)
    sealed = (
        Block.objects.order_by("-height").values_list("tree_size", flat=True).first()
    )
    return _State(
        tree,
        prev_hash,
        blocks,
        next(blocks, None),
        checkers,
        history,
        result,
        sealed or 0,
    )


def _rows(low: int, high: int) -> list[tuple[int, str, bytes]]:
    table = Entry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, event_type, body FROM {table} "  # noqa: S608
            "WHERE seq >= %s AND seq < %s ORDER BY seq",
            [low, high],
        )
        return cursor.fetchall()


def _stored_nodes(keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    wanted = {merkle.node_key(level, index): (level, index) for level, index in keys}
    found: dict[tuple[int, int], bytes] = {}
    batch = list(wanted)
    for offset in range(0, len(batch), 900):
        rows = MerkleNode.objects.filter(key__in=batch[offset : offset + 900])
        for key, value in rows.values_list("key", "hash"):
            found[wanted[key]] = bytes(value)
    return found


def _stored_range(
    computed: dict[tuple[int, int], bytes],
) -> dict[tuple[int, int], bytes]:
    """Fetch the stored nodes at the positions computed, one range query per level."""
    by_level: dict[int, list[int]] = {}
    for level, index in computed:
        by_level.setdefault(level, []).append(index)
    stored: dict[tuple[int, int], bytes] = {}
    for level, indexes in by_level.items():
        rows = MerkleNode.objects.filter(
            key__gte=merkle.node_key(level, min(indexes)),
            key__lte=merkle.node_key(level, max(indexes)),
        ).values_list("key", "hash")
        for key, value in rows:
            stored[(level, key & ((1 << 48) - 1))] = bytes(value)
    return stored


def _verify_chunk(state: _State, low: int, high: int) -> bool:
    """Check entries [low, high); return False when no entries were left."""
    rows = _rows(low, high)
    if not rows:
        return False
    computed: dict[tuple[int, int], bytes] = {}

    def keep(level: int, index: int, value: bytes) -> None:
        computed[(level, index)] = value

    for seq, event_type, body in rows:
        expected = state.tree.size
        if seq != expected:
            raise Broken(
                f"entry {expected} is missing (the next stored entry is {seq})"
            )
        # A row edited by hand in SQLite can come back as text instead of a blob.
        body_bytes = body.encode() if isinstance(body, str) else bytes(body)
        state.tree.append(hashlib.sha256(b"\x00" + body_bytes).digest(), keep)
        _replay(state, seq, event_type, body_bytes)
        state.result.entries_checked += 1
        while (
            state.next_block is not None
            and state.tree.size == state.next_block.tree_size
        ):
            _compare_nodes(computed, state.sealed_size)
            computed.clear()
            _check_block(state)
    _compare_nodes(computed, state.sealed_size)
    return True


def _compare_nodes(computed: dict[tuple[int, int], bytes], sealed_size: int) -> None:
    # Leaves are compared first, so a changed entry is named before the
    # ancestors that differ because of it.
    if not computed:
        return
    stored = _stored_range(computed)
    for (level, index), value in sorted(computed.items()):
        if (index + 1) << level > sealed_size:
            continue  # Not sealed yet: the sealer has not written this node.
        if (level, index) not in stored:
            raise Broken(f"Merkle node at level {level}, index {index} is missing")
        if stored[(level, index)] != value:
            if level == 0:
                raise Broken(
                    f"entry {index}: its body does not match the leaf hash in the tree"
                )
            raise Broken(
                f"Merkle node at level {level}, index {index} differs from the entries"
            )


def _replay(state: _State, seq: int, event_type: str, body: bytes) -> None:
    try:
        envelope: dict[str, Any] = json.loads(body)
    except ValueError as error:
        raise Broken(f"entry {seq}: body is not valid JSON ({error})") from None
    for checker in state.checkers:
        problem = checker.feed(seq, event_type, envelope)
        if problem:
            raise Broken(f"{checker.name}: {problem}")


def _check_block(state: _State) -> None:
    block = state.next_block
    assert block is not None
    if state.tree.root() != bytes(block.root_hash):
        raise Broken(
            f"block {block.height}: root hash differs from the tree of its {block.tree_size} entries"
        )
    _check_block_note(block, state.keys, state.prev_hash)
    state.prev_hash = bytes(block.block_hash)
    state.result.blocks_checked += 1
    state.next_block = next(state.blocks, None)


def _check_block_note(block: Block, keys: LogKeys, expected_prev: bytes) -> None:
    try:
        text, signers = keys.signers(block.note)
        checkpoint = Checkpoint.parse(text)
        keys.check_size(signers, checkpoint.tree_size)
    except NoteError as error:
        raise Broken(f"block {block.height}: {error}") from None
    if (checkpoint.tree_size, checkpoint.root_hash) != (
        block.tree_size,
        bytes(block.root_hash),
    ):
        raise Broken(
            f"block {block.height}: signed checkpoint differs from the stored columns"
        )
    if checkpoint.prev_hash != expected_prev or bytes(block.prev_hash) != expected_prev:
        raise Broken(
            f"block {block.height}: previous block hash does not match block {block.height - 1}"
        )
    if checkpoint.block_hash() != bytes(block.block_hash):
        raise Broken(
            f"block {block.height}: stored block hash differs from its checkpoint"
        )


def _finish(state: _State, total: int) -> None:
    if state.next_block is not None:
        raise Broken(
            f"block {state.next_block.height} covers {state.next_block.tree_size} entries "
            f"but only {state.tree.size} exist (entries were deleted)"
        )
    head = JournalHead.objects.values_list("size", flat=True).get(pk=1)
    if head != state.tree.size or total != state.tree.size:
        raise Broken(
            f"journal head counts {head} entries but {state.tree.size} were found in order"
        )
    for checker in state.checkers:
        for problem in checker.finish():
            raise Broken(f"{checker.name}: {problem}")
