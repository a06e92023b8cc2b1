"""The only write path to the journal, and the proofs read from it.

Lock order: a service locks its own domain rows first and appends to the
journal last, so the journal head lock is always the last one taken and is held
only until the caller's transaction commits. That keeps appends free of
deadlocks on PostgreSQL; on SQLite, IMMEDIATE transactions serialize writers
before any lock is taken.
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import rfc8785
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kotacerdas.journal import merkle
from kotacerdas.journal.events import EventSchema, validate_payload
from kotacerdas.journal.keys import sealing_key
from kotacerdas.journal.models import Block, Entry, JournalHead, MerkleNode
from kotacerdas.journal.notes import Checkpoint, sign_note
from kotacerdas.journal.personal_data import reject_personal_data

logger = logging.getLogger(__name__)

ENVELOPE_VERSION = 1
# Printable ASCII, in which JSON escapes only '"' and '\\', as RFC 8785 does.
_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")
# RFC 8785 writes numbers as IEEE 754 doubles, which hold integers exactly up to here.
_MAX_EXACT_INTEGER = 2**53 - 1


class JournalError(RuntimeError):
    """A journal operation was called wrongly (outside a transaction, bad size)."""


class InvalidProofRequest(JournalError):
    """The sizes or index requested for a proof cannot form a proof."""


def encode_body(
    seq: int, event_type: str, payload: dict[str, Any], actor: str | None, at: datetime
) -> bytes:
    """Return the canonical bytes an entry's leaf hash covers."""
    envelope = {
        "actor": actor,
        "at": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "payload": payload,
        "seq": seq,
        "type": event_type,
        "v": ENVELOPE_VERSION,
    }
    return canonical_json(envelope)


def canonical_json(value: Any) -> bytes:
    """Encode a JSON value in the canonical form of RFC 8785 (JCS).

    The rfc8785 package is pure Python and costs about 0.1 ms per event. For
    values made only of printable-ASCII strings and keys, integers within
    2**53 - 1, booleans, None, dicts and lists, `json.dumps` with sorted keys
    and no spaces gives the same bytes, so those take that path instead.
    """
    if _is_plain(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return rfc8785.dumps(value)


def _is_plain(value: Any) -> bool:
    texts: list[str] = []
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            texts.append(item)
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -_MAX_EXACT_INTEGER <= item <= _MAX_EXACT_INTEGER:
                return False
        elif isinstance(item, dict):
            keys = list(item)
            if not all(isinstance(key, str) for key in keys):
                return False
            texts += keys
            waiting += item.values()
        elif isinstance(item, list):
            waiting += item
        else:
            return False
    # One match over all strings at once: printable ASCII joined stays so.
    return _PLAIN_TEXT.fullmatch("".join(texts)) is not None


def append(
    event_type: str,
    payload: dict[str, Any] | EventSchema,
    *,
    actor: str | None = None,
) -> Entry:
    """Append one event inside the caller's transaction and return its entry.

    Validates the payload against the event type's schema and rejects personal
    data (raising InvalidPayload or PersonalDataError before any write). Locks
    the journal head row until the caller commits.
    """
    if not connection.in_atomic_block:
        raise JournalError("journal.append must run inside the caller's transaction")
    clean = validate_payload(event_type, payload)
    reject_personal_data(clean)
    if actor is not None:
        reject_personal_data(actor, "actor")

    seq = _next_seq()
    at = timezone.now()
    body = encode_body(seq, event_type, clean, actor, at)
    return Entry.objects.create(
        seq=seq, event_type=event_type, body=body, recorded_at=at
    )


def append_many(
    events: Sequence[tuple[str, dict[str, Any] | EventSchema]],
    *,
    actor: str | None = None,
) -> list[Entry]:
    """Append several events in order, taking the head lock once.

    The same checks as `append`, for bulk work (imports, the demo city): every
    payload is validated before anything is written, then one statement
    reserves the sequence numbers and the entries are inserted in batches.
    """
    if not connection.in_atomic_block:
        raise JournalError(
            "journal.append_many must run inside the caller's transaction"
        )
    if not events:
        return []
    cleaned = []
    for event_type, payload in events:
        clean = validate_payload(event_type, payload)
        reject_personal_data(clean)
        cleaned.append((event_type, clean))
    if actor is not None:
        reject_personal_data(actor, "actor")
    first = _next_seq(len(cleaned))
    at = timezone.now()
    entries = [
        Entry(
            seq=first + offset,
            event_type=event_type,
            body=encode_body(first + offset, event_type, clean, actor, at),
            recorded_at=at,
        )
        for offset, (event_type, clean) in enumerate(cleaned)
    ]
    _insert_entries(entries, at)
    return entries


def _insert_entries(entries: list[Entry], at: datetime) -> None:
    """Insert entries with COPY (PostgreSQL, from 20 entries) or multi-row INSERTs.

    The same rows as `Entry.objects.bulk_create`, without the ORM's per-field
    preparation, which cost about a third of a bulk append.
    """
    table = Entry._meta.db_table
    recorded_at = connection.ops.adapt_datetimefield_value(at)
    if connection.vendor == "postgresql" and len(entries) >= 20:
        command = f"COPY {table} (seq, event_type, body, recorded_at) FROM STDIN"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(command) as copy,
        ):
            for entry in entries:
                copy.write_row([entry.seq, entry.event_type, entry.body, recorded_at])
        return
    with connection.cursor() as cursor:
        for low in range(0, len(entries), 1000):
            chunk = entries[low : low + 1000]
            params: list[Any] = []
            for entry in chunk:
                params += [entry.seq, entry.event_type, entry.body, recorded_at]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (seq, event_type, body, recorded_at) "  # noqa: S608
                f"VALUES {values}",
                params,
            )


def _next_seq(count: int = 1) -> int:
    # One statement both locks the head row and increments it, so the numbers
    # taken here are released only by this transaction's commit or rollback.
    table = JournalHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET size = size + %s WHERE id = 1 RETURNING size",  # noqa: S608
            [count],
        )
        row = cursor.fetchone()
    if row is None:
        raise JournalError("journal head row is missing; run `kotacerdas migrate`")
    return int(row[0]) - count


def salted_hash(value: str) -> str:
    """Return an HMAC-SHA256 of a personal value, for events that must link to it."""
    return hmac.new(_salt(), value.encode(), hashlib.sha256).hexdigest()


@cache
def _salt() -> bytes:
    configured = getattr(settings, "KOTACERDAS_PERSONAL_DATA_SALT", "")
    if configured:
        return str(configured).encode()
    path = Path(settings.KEYS_DIR) / "personal-data-salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
    return path.read_bytes()


def journal_size() -> int:
    return JournalHead.objects.values_list("size", flat=True).get(pk=1)


def latest_block() -> Block | None:
    return Block.objects.order_by("-height").first()


def load_perfect_nodes(keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Fetch perfect subtree hashes in one query, keyed by (level, index)."""
    wanted = {merkle.node_key(level, index): (level, index) for level, index in keys}
    found = MerkleNode.objects.filter(key__in=list(wanted)).values_list("key", "hash")
    nodes = {wanted[key]: bytes(value) for key, value in found}
    missing = [wanted[key] for key in wanted if wanted[key] not in nodes]
    if missing:
        raise JournalError(
            f"Merkle nodes {missing[:3]} are missing; run `kotacerdas ledger verify`"
        )
    return nodes


@transaction.atomic(durable=True)
def seal_pending(max_entries: int | None = None) -> Block | None:
    """Seal the waiting entries into a new signed block, or return None if none wait.

    Writes the new Merkle nodes and the block in one transaction. Two sealers
    racing for the same height collide on the block's primary key; the loser's
    transaction rolls back and it returns None.
    """
    limit = max_entries or settings.KOTACERDAS_SEAL_MAX_ENTRIES
    previous = latest_block()
    sealed_size = previous.tree_size if previous else 0
    new_size = min(journal_size(), sealed_size + limit)
    if new_size <= sealed_size:
        return None

    frontier_keys = merkle.compact_range_keys(sealed_size)
    frontier = load_perfect_nodes(frontier_keys)
    tree = merkle.CompactRange(sealed_size, [frontier[key] for key in frontier_keys])
    new_nodes: list[MerkleNode] = []

    def keep(level: int, index: int, value: bytes) -> None:
        new_nodes.append(MerkleNode(key=merkle.node_key(level, index), hash=value))

    bodies = (
        Entry.objects.filter(seq__gte=sealed_size, seq__lt=new_size)
        .order_by("seq")
        .values_list("seq", "body")
    )
    for expected, (seq, body) in enumerate(
        bodies.iterator(chunk_size=5000), sealed_size
    ):
        if seq != expected:
            raise JournalError(f"journal entry {expected} is missing; sealing stopped")
        tree.append(merkle.leaf_hash(bytes(body)), keep)
    if tree.size != new_size:
        raise JournalError(f"journal entry {tree.size} is missing; sealing stopped")

    return _write_block(previous, tree, new_nodes)


def _write_block(
    previous: Block | None, tree: merkle.CompactRange, new_nodes: list[MerkleNode]
) -> Block | None:
    checkpoint = Checkpoint(
        origin=settings.KOTACERDAS_LEDGER_ORIGIN,
        tree_size=tree.size,
        root_hash=tree.root(),
        prev_hash=bytes(previous.block_hash) if previous else bytes(32),
        sealed_at=timezone.now(),
    )
    note = sign_note(checkpoint.text(), checkpoint.origin, sealing_key())
    height = previous.height + 1 if previous else 0
    try:
        with transaction.atomic():
            MerkleNode.objects.bulk_create(new_nodes, batch_size=2000)
            block = Block.objects.create(
                height=height,
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash,
                prev_hash=checkpoint.prev_hash,
                block_hash=checkpoint.block_hash(),
                sealed_at=checkpoint.sealed_at,
                note=note,
            )
    except IntegrityError:
        logger.warning("block %s was sealed by another worker; skipping", height)
        return None
    logger.info("sealed block %s at tree size %s", height, tree.size)
    return block


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    block: Block


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    path: list[bytes]


def _subtree_hasher(ranges: list[tuple[int, int]]) -> merkle.SubtreeHash:
    keys = sorted(
        {key for start, end in ranges for key in merkle.perfect_ranges(start, end)}
    )
    nodes = load_perfect_nodes(keys)
    return merkle.make_subtree_hash(lambda level, index: nodes[(level, index)])


def block_for_size(tree_size: int | None) -> Block:
    """Return the block with this tree size, or the latest block for None."""
    block = (
        latest_block()
        if tree_size is None
        else Block.objects.filter(tree_size=tree_size).first()
    )
    if block is None:
        if tree_size is None:
            raise JournalError("no block has been sealed yet; wait for the worker")
        raise JournalError(
            f"no block has tree size {tree_size}; use a checkpoint's size"
        )
    return block


def inclusion_proof(seq: int, tree_size: int | None = None) -> InclusionProof:
    """Prove that entry `seq` is in the tree of a sealed block (the latest by default)."""
    block = block_for_size(tree_size)
    if not 0 <= seq < block.tree_size:
        raise JournalError(
            f"entry {seq} is not in the tree of size {block.tree_size}; "
            "wait for the next block or use a larger size"
        )
    ranges = [(seq, seq + 1), *merkle.inclusion_ranges(seq, block.tree_size)]
    subtree_hash = _subtree_hasher(ranges)
    path = [subtree_hash(start, end) for start, end in ranges[1:]]
    return InclusionProof(seq, block.tree_size, subtree_hash(seq, seq + 1), path, block)


def consistency_proof(old_size: int, new_size: int) -> ConsistencyProof:
    """Prove that the tree of `old_size` is a prefix of the tree of `new_size`."""
    sealed = latest_block()
    sealed_size = sealed.tree_size if sealed else 0
    if not 0 < old_size <= new_size <= sealed_size:
        raise InvalidProofRequest(
            f"sizes {old_size} and {new_size} are invalid; "
            f"use 0 < old size <= new size <= {sealed_size}"
        )
    ranges = merkle.consistency_ranges(old_size, new_size)
    subtree_hash = _subtree_hasher(ranges)
    return ConsistencyProof(old_size, new_size, [subtree_hash(s, e) for s, e in ranges])
