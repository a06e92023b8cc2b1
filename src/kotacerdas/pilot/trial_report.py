"""The trial report: a pilot's figures at one journal checkpoint, and their check.

`build_trial_report` reads the stored rollups and the paper baselines known
at the rollups' journal position, and records that position and the latest
sealed block. `recompute_trial` folds the journal's entries up to the same
position into memory, reads the paper baselines from their journal events,
and computes the same tables, so anyone with the journal can check them.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from kotacerdas.command import projector
from kotacerdas.command.figures import StoredTallies
from kotacerdas.command.monthly_report import Provenance
from kotacerdas.command.recompute import recompute
from kotacerdas.journal.models import Block, Entry
from kotacerdas.journal.services import journal_size
from kotacerdas.pilot.models import BaselineFigure, Pilot
from kotacerdas.pilot.trial import PaperFigure, PaperFigures, TrialFigures, compute

# Reads are repeated while the worker folds entries meanwhile, so that every
# figure comes from one journal position (as the monthly report does).
STABLE_READ_TRIES = 5
BASELINE_EVENT = "pilot.baseline.entered"


@dataclass(frozen=True)
class TrialReport:
    pilot: Pilot
    figures: TrialFigures
    provenance: Provenance
    generated_at: datetime
    today: date
    # Entries in the journal when the report was made, folded or not.
    journal_size: int


def stored_paper(pilot: Pilot, size: int) -> dict[tuple[str, str], PaperFigure]:
    """Return the paper baselines whose journal entry lies before `size`."""
    rows = BaselineFigure.objects.filter(pilot=pilot, entry_seq__lt=size)
    return {
        (row.kelurahan_code, row.metric): PaperFigure(
            row.kelurahan_code, row.metric, row.value, row.starts_on, row.ends_on
        )
        for row in rows
    }


def journal_paper(pilot: Pilot, size: int) -> dict[tuple[str, str], PaperFigure]:
    """Return the paper baselines read from the journal entries before `size`."""
    found: dict[tuple[str, str], PaperFigure] = {}
    entries = Entry.objects.filter(seq__lt=size, event_type=BASELINE_EVENT)
    for body in entries.order_by("seq").values_list("body", flat=True):
        p = json.loads(bytes(body))["payload"]
        if p["pilot_id"] != pilot.pk:
            continue
        found[(p["kelurahan_code"], p["metric"])] = PaperFigure(
            p["kelurahan_code"],
            p["metric"],
            p["value"],
            date.fromisoformat(p["starts_on"]),
            date.fromisoformat(p["ends_on"]),
        )
    return found


def build_trial_report(pilot: Pilot, today: date | None = None) -> TrialReport:
    """Compute the pilot's figures from the rollups at one journal position.

    Raises `trial.TrialNotStarted` before the pilot's first day.
    """
    today = today or timezone.localdate()
    for _try in range(STABLE_READ_TRIES):
        position = projector.position()
        paper = stored_paper(pilot, position)
        figures = compute(pilot, StoredTallies(), paper, today)
        block = Block.objects.order_by("-height").first()
        if projector.position() == position:
            break
    # NOTE: after STABLE_READ_TRIES moving reads the last one is used, and
    # its figures may straddle two positions the worker folded meanwhile.
    provenance = Provenance(
        position=position,
        block_height=block.height if block else None,
        block_tree_size=block.tree_size if block else None,
        block_root_hash=bytes(block.root_hash) if block else None,
        block_sealed_at=block.sealed_at if block else None,
    )
    return TrialReport(
        pilot, figures, provenance, timezone.now(), today, journal_size()
    )


def recompute_trial(pilot: Pilot, size: int, today: date) -> TrialFigures:
    """Fold the journal's first `size` entries and compute the pilot's figures."""
    folded, _size = recompute(size)
    paper: PaperFigures = journal_paper(pilot, size)
    return compute(pilot, folded, paper, today)


def check(report: TrialReport) -> list[str]:
    """Recompute a report from the journal; return one line per differing value."""
    again = recompute_trial(report.pilot, report.provenance.position, report.today)
    problems = []
    for stored, fresh in zip(report.figures.tables, again.tables, strict=True):
        for a, b in zip(stored.rows, fresh.rows, strict=True):
            if a != b:
                area = stored.kelurahan_code or "*"
                problems.append(f"{area} {a.metric}: report {a}, journal {b}")
    return problems
