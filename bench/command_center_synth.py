"""Shared parts of the benchmark's synthetic event generators (see command_center_events).

Django must be set up before this module is imported.
"""

import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from command_center_city import DemoCity
from kotacerdas.command.fold import Event

# Ids of synthetic containers, route plans, pickups, reports, accounts and
# bills start above this, far above the ids of the few dozen such rows the
# benchmark writes through the services.
SYNTHETIC_ID_BASE = 1_000_000_000
DAY_S = 86_400


@dataclass
class Totals:
    """Sums of the generated events, to check the folded figures against.

    Each field has the name of the dashboard figure (command.figures.FIGURES)
    it should equal after the fold.
    """

    buildings: int = 0
    households: int = 0
    plates_issued: int = 0
    plates_installed: int = 0
    wallets_active: int = 0
    transfers_today: int = 0
    transfer_value_today: int = 0
    levy_billed_month: int = 0
    levy_collected_month: int = 0
    pickups_today: int = 0
    containers_waiting: int = 0
    reports_open: int = 0


@dataclass(frozen=True)
class Day:
    """One day of the window and how much of it has passed."""

    index: int
    date: date
    midnight: datetime
    # Seconds of the day that have passed: a whole day, except today.
    limit_s: float

    def at(self, seconds: float) -> datetime:
        return self.midnight + timedelta(seconds=seconds)

    def draw(self, rng: random.Random, start_h: float, end_h: float) -> float | None:
        """Return a random second between the hours, or None if none has passed."""
        start, end = start_h * 3600, min(end_h * 3600, self.limit_s)
        return rng.uniform(start, end) if start < end else None


class Choice:
    """A weighted choice among a few items, with one random number per pick."""

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _weight in weighted]
        self.cumulative = list(accumulate(weight for _item, weight in weighted))

    def pick(self, rng: random.Random) -> Any:
        index = bisect(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(index, len(self.items) - 1)]


def draw_count(rng: random.Random, expected: float) -> int:
    """Return an integer with mean `expected`: its floor, plus one by its fraction."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def draw_rupiah(rng: random.Random, low: int, high: int, step: int = 500) -> int:
    """Return a rupiah amount between low and high, small amounts more often."""
    return max(low, round((low + (high - low) * rng.random() ** 2) / step) * step)


@dataclass
class Context:
    """The state every area's generator shares: the window, output, pending work."""

    city: DemoCity
    days: int
    rng: random.Random
    today: date
    totals: Totals = field(default_factory=Totals)
    out: list[Event] = field(default_factory=list)
    seq: int = 0
    last_ids: defaultdict[str, int] = field(
        default_factory=lambda: defaultdict(lambda: SYNTHETIC_ID_BASE)
    )
    # Work for a later day, by (kind, day index): installs, payments, reviews.
    later: defaultdict[tuple[str, int], list[Any]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def emit(self, event_type: str, at: datetime, payload: dict[str, Any]) -> None:
        self.seq += 1
        self.out.append(Event(self.seq, event_type, at, payload))

    def new_id(self, kind: str) -> int:
        self.last_ids[kind] += 1
        return self.last_ids[kind]

    def schedule(self, kind: str, day_index: int, item: Any) -> None:
        """Keep `item` for day `day_index`, unless that day is after the window."""
        if day_index < self.days:
            self.later[(kind, day_index)].append(item)

    def due(self, kind: str, day: Day) -> list[Any]:
        return self.later.pop((kind, day.index), [])

    def is_current_month(self, day: date) -> bool:
        return (day.year, day.month) == (self.today.year, self.today.month)
