"""A pilot's trial figures: baseline, trial and non-pilot areas, side by side.

Every figure is a function over the command center's tallies (`Tallies`). The
report computes it from the stored rollups, and a check computes it again from
a fold of the journal (`recompute_trial`). The two agree unless the rollups no
longer match the journal.

Tallies go no finer than the kelurahan, so a pilot area that is an RW or RT
is evaluated over its whole kelurahan, and the method text says so.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from kotacerdas.city.models import Area
from kotacerdas.command.figures import Tallies
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.trial_metrics import UNITS, TrialMetric

SERVED_OUTCOMES = ("collected", "not_out")
MISSED_PICKUP = "missed_pickup"
FEE_KIND = "fee"
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Window:
    """Days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class PaperFigure:
    """A baseline figure entered from paper, as the report uses it."""

    kelurahan_code: str
    metric: str
    value: int
    starts_on: date
    ends_on: date


PaperFigures = Mapping[tuple[str, str], PaperFigure]


@dataclass(frozen=True)
class Row:
    """One metric's baseline, trial and non-pilot values, in the metric's unit."""

    metric: str
    baseline: int | None
    baseline_source: str  # "journal", "paper" or "none"
    trial: int | None
    others: int | None

    @property
    def unit(self) -> str:
        return UNITS[self.metric].unit

    @property
    def change(self) -> int | None:
        if self.trial is None or self.baseline is None:
            return None
        return self.trial - self.baseline

    @property
    def difference(self) -> int | None:
        if self.trial is None or self.others is None:
            return None
        return self.trial - self.others


@dataclass(frozen=True)
class AreaTable:
    """The rows of one pilot kelurahan ("" code: all the pilot's kelurahan)."""

    kelurahan_code: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class TrialFigures:
    trial: Window
    baseline: Window
    kelurahan_codes: tuple[str, ...]
    other_codes: tuple[str, ...]
    tables: tuple[AreaTable, ...]


class TrialNotStarted(Exception):
    """The pilot starts after the day the report is for."""


def windows(pilot: Pilot, today: date) -> tuple[Window, Window]:
    """Return the trial so far and the baseline period of the same length before it."""
    if today < pilot.starts_on:
        raise TrialNotStarted(pilot.slug)
    trial = Window(pilot.starts_on, min(pilot.ends_on, today))
    baseline_end = pilot.starts_on - timedelta(days=1)
    baseline = Window(baseline_end - timedelta(days=trial.days - 1), baseline_end)
    return trial, baseline


def pilot_codes(pilot: Pilot) -> tuple[str, ...]:
    return tuple(sorted(set(pilot.areas.values_list("kelurahan_code", flat=True))))


def city_codes() -> tuple[str, ...]:
    kelurahan = Area.objects.exclude(level=Area.Level.KECAMATAN)
    return tuple(sorted(kelurahan.values_list("code", flat=True)))


# --------------------------------------------------------------------- metrics


def _sum(
    t: Tallies,
    metric: str,
    codes: Iterable[str],
    start: date | None = None,
    end: date | None = None,
    key: str | None = None,
) -> int:
    groups = t.grouped(metric, "kelurahan", start, end, key)
    return sum(groups.get(code, 0) for code in set(codes))


def _ratio_tenths(part: int, whole: int, scale: int = 1000) -> int | None:
    """`part / whole * scale`, rounded half up, or None when `whole` is zero."""
    if whole <= 0:
        return None
    return (part * scale * 2 + whole) // (whole * 2)


def metric_value(
    metric: str, t: Tallies, codes: Iterable[str], window: Window
) -> int | None:
    """Compute one metric over some kelurahan and days from tallies."""
    codes = tuple(codes)
    s, e = window.start, window.end
    if metric == TrialMetric.LEVY_RATE:
        # Levy tallies sit on the first day of the bill's month, so this takes
        # the bills of every month the window touches.
        first = s.replace(day=1)
        collected = _sum(t, "levy_collected", codes, first, e)
        return _ratio_tenths(collected, _sum(t, "levy_billed", codes, first, e))
    if metric == TrialMetric.ON_SCHEDULE:
        served = sum(
            _sum(t, "building_stops_served", codes, s, e, key)
            for key in SERVED_OUTCOMES
        )
        return _ratio_tenths(served, _sum(t, "building_stops", codes, s, e))
    if metric == TrialMetric.MISSED_REPORTS:
        return _sum(t, "reports_filed", codes, s, e, MISSED_PICKUP)
    if metric == TrialMetric.MISSED_CLOSE_HOURS:
        seconds = _sum(t, "report_close_s", codes, s, e, MISSED_PICKUP)
        closed = _sum(t, "reports_closed", codes, s, e, MISSED_PICKUP)
        return _ratio_tenths(seconds, closed * SECONDS_PER_HOUR, 10)
    if metric in (TrialMetric.TRANSFERS, TrialMetric.TRANSFER_VALUE):
        # A wallet fee is stored as a transfer of its own beside the payment
        # it belongs to, so fee transfers would count one payment twice.
        tally = _SIMPLE[metric][0]
        fees = _sum(t, tally, codes, s, e, FEE_KIND)
        return _sum(t, tally, codes, s, e) - fees
    tally, key = _SIMPLE[metric]
    return _sum(t, tally, codes, s if metric in _FLOWS else None, e, key)


# Metrics that are one tally summed: (tally metric, key). Flows count the
# window's days; the others are stocks at the window's end.
_SIMPLE: dict[str, tuple[str, str | None]] = {
    TrialMetric.BANK_DEPOSITS: ("bank_deposit_g", None),
    TrialMetric.WALLETS: ("wallets", "citizen"),
    TrialMetric.TRANSFERS: ("transfers_citizen", None),
    TrialMetric.TRANSFER_VALUE: ("transfer_value_citizen", None),
    TrialMetric.PLATES_INSTALLED: ("plates_installed", None),
    TrialMetric.BUILDINGS: ("buildings", None),
}
_FLOWS = frozenset(
    {
        TrialMetric.BANK_DEPOSITS,
        TrialMetric.TRANSFERS,
        TrialMetric.TRANSFER_VALUE,
        TrialMetric.PLATES_INSTALLED,
    }
)


# ---------------------------------------------------------------------- tables


def compute(
    pilot: Pilot,
    tallies: Tallies,
    paper: PaperFigures,
    today: date,
    all_codes: tuple[str, ...] | None = None,
) -> TrialFigures:
    """Compute the pilot's tables: one for all its kelurahan, then one each."""
    trial, baseline = windows(pilot, today)
    codes = pilot_codes(pilot)
    all_codes = city_codes() if all_codes is None else all_codes
    others = tuple(code for code in all_codes if code not in codes)
    buildings_others = metric_value(TrialMetric.BUILDINGS, tallies, others, trial)
    tables = [
        _table(code, group, tallies, paper, trial, baseline, others, buildings_others)
        for code, group in [("", codes)] + [(code, (code,)) for code in codes]
    ]
    return TrialFigures(trial, baseline, codes, others, tuple(tables))


def _table(
    code: str,
    group: tuple[str, ...],
    t: Tallies,
    paper: PaperFigures,
    trial: Window,
    baseline: Window,
    others: tuple[str, ...],
    buildings_others: int | None,
) -> AreaTable:
    buildings = metric_value(TrialMetric.BUILDINGS, t, group, trial) or 0
    rows = []
    for metric in TrialMetric.values:
        value, source = _baseline(metric, code, group, t, paper, baseline)
        rows.append(
            Row(
                metric=metric,
                baseline=value,
                baseline_source=source,
                trial=metric_value(metric, t, group, trial),
                others=_others(metric, t, others, trial, buildings, buildings_others),
            )
        )
    return AreaTable(code, tuple(rows))


def _baseline(
    metric: str,
    code: str,
    group: tuple[str, ...],
    t: Tallies,
    paper: PaperFigures,
    window: Window,
) -> tuple[int | None, str]:
    """Return a paper figure where one was entered, else the journal's figure.

    For all the pilot's kelurahan together, a figure entered for the whole
    pilot wins. Otherwise additive figures add up each kelurahan's own
    baseline, and a rate with any paper part has no baseline, because rates
    of different sources cannot be combined.
    """
    entered = paper.get((code, metric))
    if entered is not None:
        return entered.value, "paper"
    if code == "" and any((member, metric) in paper for member in group):
        if not UNITS[metric].additive:
            return None, "none"
        parts = [
            _baseline(metric, member, (member,), t, paper, window)[0]
            for member in group
        ]
        return sum(part or 0 for part in parts), "paper"
    return metric_value(metric, t, group, window), "journal"


def _others(
    metric: str,
    t: Tallies,
    others: tuple[str, ...],
    window: Window,
    buildings: int,
    buildings_others: int | None,
) -> int | None:
    """Return the non-pilot kelurahan's value, counts scaled to the area's buildings.

    Rates and averages are compared as they are. Counts and amounts are
    scaled by buildings(area) / buildings(non-pilot kelurahan), rounded half
    up, so that a small pilot area is not compared with the whole rest of
    the city. The building count is scaled too, so it equals the area's own
    count whenever the non-pilot kelurahan have any buildings.
    """
    value = metric_value(metric, t, others, window)
    if value is None or not UNITS[metric].additive:
        return value
    if not buildings_others:
        return None
    return (value * buildings * 2 + buildings_others) // (buildings_others * 2)
