"""The worker job that keeps the command center's rollups up to date.

Each run folds the journal entries after the cursor, a batch at a time, and
writes the facts, tally deltas, open reports and the new cursor in one
transaction, so a crash leaves the rollups at the last whole batch. Entries are
numbered in commit order (the journal head is locked until commit), so no entry
can appear behind the cursor later.
"""

import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from kotacerdas.command.fold import (
    EVENT_TYPES,
    FOLD_VERSION,
    Event,
    FactKey,
    State,
    apply,
    needs,
    parse_time,
)
from kotacerdas.command.models import Cursor, Fact, OpenReport, Tally
from kotacerdas.journal.models import Entry
from kotacerdas.journal.worker import register_job

logger = logging.getLogger(__name__)

CURSOR = "rollups"
BATCH = 2000
# A run stops starting new batches after this long, so other jobs get their turn.
RUN_BUDGET_S = 3.0
INTERVAL_S = 5.0


def register() -> None:
    register_job("command-rollups", run, INTERVAL_S)


def decode(seq: int, body: bytes | memoryview) -> Event:
    envelope = json.loads(bytes(body))
    return Event(
        seq=seq,
        type=envelope["type"],
        at=parse_time(envelope["at"]),
        payload=envelope["payload"],
    )


def entries(
    start: int, end: int | None = None, types: Iterable[str] = EVENT_TYPES
) -> Iterator[Event]:
    """Yield the decoded entries of `types` with start <= seq < end, in order."""
    last = start - 1
    while True:
        rows = Entry.objects.filter(seq__gt=last, event_type__in=list(types))
        if end is not None:
            rows = rows.filter(seq__lt=end)
        batch = list(rows.order_by("seq").values_list("seq", "body")[:BATCH])
        if not batch:
            return
        for seq, body in batch:
            yield decode(seq, body)
        last = batch[-1][0]


def position() -> int:
    """Return how many journal entries the rollups contain (entries 0 .. position-1)."""
    row = Cursor.objects.filter(name=CURSOR).first()
    return row.size if row else 0


def run(max_seconds: float = RUN_BUDGET_S) -> int:
    """Fold new entries for up to `max_seconds`; return how many entries were read."""
    started = time.monotonic()
    folded = 0
    while True:
        count = fold_batch()
        folded += count
        if count < BATCH or time.monotonic() - started > max_seconds:
            break
    if folded:
        logger.info("command rollups folded %s entries, now at %s", folded, position())
    return folded


def catch_up() -> int:
    """Fold every entry not yet folded (tests and the command line)."""
    folded = 0
    while count := fold_batch():
        folded += count
    return folded


def fold_batch(size: int = BATCH) -> int:
    """Fold the next `size` entries after the cursor; return how many were read.

    Rollups built by other fold rules (another FOLD_VERSION) are dropped first.
    """
    with transaction.atomic():
        cursor, _created = Cursor.objects.select_for_update().get_or_create(name=CURSOR)
        if cursor.version != FOLD_VERSION:
            _reset(cursor)
        rows = list(
            Entry.objects.filter(seq__gte=cursor.size)
            .order_by("seq")
            .values_list("seq", "event_type", "body")[:size]
        )
        if not rows:
            return 0
        wanted = set(EVENT_TYPES)
        events = [decode(seq, body) for seq, kind, body in rows if kind in wanted]
        state = State(loader=_load_facts)
        state.preload(key for event in events for key in needs(event))
        for event in events:
            apply(event, state)
        store(state)
        cursor.size = rows[-1][0] + 1
        cursor.updated_at = timezone.now()
        cursor.save(update_fields=["size", "updated_at"])
        return len(rows)


def _reset(cursor: Cursor) -> None:
    """Drop the rollups so the fold starts again from the first entry, by today's rules."""
    logger.info(
        "command rollups rebuilt from the first entry: fold version %s, stored %s",
        FOLD_VERSION,
        cursor.version,
    )
    Tally.objects.all().delete()
    Fact.objects.all().delete()
    OpenReport.objects.all().delete()
    cursor.size = 0
    cursor.version = FOLD_VERSION
    cursor.save(update_fields=["size", "version"])


def rebuild() -> int:
    """Drop the rollups and fold the whole journal again; return entries read."""
    with transaction.atomic():
        cursor, _created = Cursor.objects.select_for_update().get_or_create(name=CURSOR)
        _reset(cursor)
    return catch_up()


def _load_facts(kind: str, refs: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    ordered = sorted(refs)
    # Chunks keep the IN list under SQLite's variable limit.
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for ref, data in Fact.objects.filter(kind=kind, ref__in=chunk).values_list(
            "ref", "data"
        ):
            found[ref] = data
    return found


def store(state: State) -> None:
    """Write a fold's changed facts, tally deltas and open reports (in a transaction)."""
    _store_facts(state, state.dirty)
    _store_tallies(state)
    _store_reports(state)


def _store_facts(state: State, keys: set[FactKey]) -> None:
    rows = [
        Fact(kind=kind, ref=ref, data=state.facts[(kind, ref)])
        for kind, ref in sorted(keys)
    ]
    Fact.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["kind", "ref"],
        update_fields=["data"],
    )


def _store_tallies(state: State) -> None:
    deltas = {key: n for key, n in state.deltas.items() if n}
    if not deltas:
        return
    metrics = {metric for metric, _day, _k, _key in deltas}
    days = {day for _metric, day, _k, _key in deltas}
    existing = {
        (row.metric, row.day, row.kelurahan_code, row.key): row
        for row in Tally.objects.filter(metric__in=metrics, day__in=days)
    }
    changed, created = [], []
    for (metric, day, kelurahan, key), n in deltas.items():
        row = existing.get((metric, day, kelurahan, key))
        if row is None:
            created.append(
                Tally(
                    metric=metric, day=day, kelurahan_code=kelurahan, key=key, value=n
                )
            )
        else:
            row.value += n
            changed.append(row)
    Tally.objects.bulk_create(created, batch_size=500)
    Tally.objects.bulk_update(changed, ["value"], batch_size=500)


def _store_reports(state: State) -> None:
    if state.closed_reports:
        OpenReport.objects.filter(report_id__in=state.closed_reports).delete()
    rows = [
        OpenReport(
            report_id=row.report_id,
            kind=row.kind,
            kelurahan_code=row.kelurahan_code,
            filed_at=row.filed_at,
            sla_due_at=row.sla_due_at,
        )
        for row in state.opened_reports.values()
    ]
    OpenReport.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["report_id"],
        update_fields=["kind", "kelurahan_code", "filed_at", "sla_due_at"],
    )
