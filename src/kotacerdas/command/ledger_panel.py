"""The dashboard's ledger panel: latest checkpoint, witnesses, anchor, verify run.

It reads the journal app's own helpers, the same ones the ledger status page
uses, but never the chain itself. The status page requests live attestation
counts from the chain node, which is too slow for a panel polled every few
seconds. So this panel shows the anchor as the worker last recorded it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from kotacerdas.command import display
from kotacerdas.journal import anchoring, services, witnessing
from kotacerdas.journal.models import Anchor, Block, VerifyRun


@dataclass(frozen=True)
class WitnessMark:
    """An active witness and whether it co-signed the latest checkpoint."""

    name: str
    signed: bool


@dataclass(frozen=True)
class LedgerSummary:
    block: Block | None
    block_age: str
    journal_size: int
    cosigners: int
    quorum: int
    witnesses: list[WitnessMark]
    anchor: Anchor | None
    anchor_age: str
    chain_kind: str
    verify: VerifyRun | None
    verify_age: str

    @property
    def quorum_met(self) -> bool:
        return self.block is not None and self.cosigners >= self.quorum


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    return display.age(int((now - moment).total_seconds()))


def witness_marks(block: Block | None) -> list[WitnessMark]:
    """Mark each active witness by whether its last co-signature is on `block`."""
    marks = []
    for row in witnessing.witness_rows(block):
        last = row["last_block"]
        signed = block is not None and last is not None and last.pk == block.pk
        marks.append(WitnessMark(row["witness"].name, signed))
    return sorted(marks, key=lambda mark: (not mark.signed, mark.name))


def ledger_summary() -> LedgerSummary:
    now = timezone.now()
    block = services.latest_block()
    anchor = (
        Anchor.objects.select_related("block", "deployment")
        .order_by("-sent_at")
        .first()
    )
    verify = VerifyRun.objects.order_by("-started_at").first()
    return LedgerSummary(
        block=block,
        block_age=_age(block.sealed_at if block else None, now),
        journal_size=services.journal_size(),
        cosigners=witnessing.cosignature_count(block) if block else 0,
        quorum=witnessing.quorum(),
        witnesses=witness_marks(block),
        anchor=anchor,
        anchor_age=_age(anchor.sent_at if anchor else None, now),
        chain_kind=anchoring.chain_kind(anchor.deployment) if anchor else "",
        verify=verify,
        verify_age=_age(verify.finished_at if verify else None, now),
    )
