"""The dashboard's figures, each computed from tallies by one small function.

A figure reads tallies through the `Tallies` interface, which has two sources:
`StoredTallies` (the rollups the worker keeps, what the dashboard shows) and
`FoldedTallies` (a fold of the journal into memory, what "how is this
computed" shows beside it). The same function runs on both, so the two
numbers agree unless the rollups no longer match the journal.

Panels that are not business facts on the journal (sensor silence, the
ledger's own checkpoints) are not figures here. The dashboard reads them live
from their small tables (panels.py, ledger_panel.py) and labels them so.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kotacerdas.command.fold import OpenReportRow, State
from kotacerdas.command.models import OpenReport, Tally

SERIES_DAYS = 30


class Tallies(Protocol):
    """Sums of tallies over a day range, optionally per kelurahan, key or day."""

    def total(
        self,
        metric: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
        kelurahan: str | None = None,
    ) -> int: ...

    def grouped(
        self,
        metric: str,
        by: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
    ) -> dict[str, int]: ...

    def open_reports(self) -> list[OpenReportRow]: ...


class StoredTallies:
    """Tallies read from the rollup tables."""

    def _rows(
        self,
        metric: str,
        start: date | None,
        end: date | None,
        key: str | None,
        kelurahan: str | None = None,
    ) -> QuerySet[Tally]:
        rows = Tally.objects.filter(metric=metric)
        if start is not None:
            rows = rows.filter(day__gte=start)
        if end is not None:
            rows = rows.filter(day__lte=end)
        if key is not None:
            rows = rows.filter(key=key)
        if kelurahan is not None:
            rows = rows.filter(kelurahan_code=kelurahan)
        return rows

    def total(
        self,
        metric: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
        kelurahan: str | None = None,
    ) -> int:
        rows = self._rows(metric, start, end, key, kelurahan)
        return int(rows.aggregate(total=Sum("value"))["total"] or 0)

    def grouped(
        self,
        metric: str,
        by: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
    ) -> dict[str, int]:
        column = _COLUMNS[by]
        rows = (
            self._rows(metric, start, end, key)
            .values(column)
            .order_by()
            .annotate(total=Sum("value"))
        )
        return {str(row[column]): int(row["total"]) for row in rows if row["total"]}

    def open_reports(self) -> list[OpenReportRow]:
        return [
            OpenReportRow(
                report_id=row.report_id,
                kind=row.kind,
                kelurahan_code=row.kelurahan_code,
                filed_at=row.filed_at,
                sla_due_at=row.sla_due_at,
            )
            for row in OpenReport.objects.all()
        ]


_COLUMNS = {"kelurahan": "kelurahan_code", "key": "key", "day": "day"}


class FoldedTallies:
    """Tallies of a fold held in memory (see `recompute`)."""

    def __init__(self, state: State) -> None:
        self.rows = [(key, n) for key, n in state.deltas.items() if n]
        self.reports = list(state.opened_reports.values())

    def _matching(
        self,
        metric: str,
        start: date | None,
        end: date | None,
        key: str | None,
        kelurahan: str | None = None,
    ) -> Iterable[tuple[tuple[str, date, str, str], int]]:
        for row in self.rows:
            (m, day, code, k), _n = row
            if m != metric or (key is not None and k != key):
                continue
            if kelurahan is not None and code != kelurahan:
                continue
            if (start is not None and day < start) or (end is not None and day > end):
                continue
            yield row

    def total(
        self,
        metric: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
        kelurahan: str | None = None,
    ) -> int:
        return sum(n for _key, n in self._matching(metric, start, end, key, kelurahan))

    def grouped(
        self,
        metric: str,
        by: str,
        start: date | None = None,
        end: date | None = None,
        key: str | None = None,
    ) -> dict[str, int]:
        index = {"day": 1, "kelurahan": 2, "key": 3}[by]
        sums: defaultdict[str, int] = defaultdict(int)
        for row_key, n in self._matching(metric, start, end, key):
            sums[str(row_key[index])] += n
        return {group: n for group, n in sums.items() if n}

    def open_reports(self) -> list[OpenReportRow]:
        return list(self.reports)


# --------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Period:
    """The dates a figure is computed for: today and its month."""

    today: date
    now: datetime

    @property
    def month_start(self) -> date:
        return self.today.replace(day=1)

    @classmethod
    def current(cls) -> "Period":
        now = timezone.now()
        return cls(today=timezone.localdate(now), now=now)


Compute = Callable[[Tallies, Period], int | None]


@dataclass(frozen=True)
class FigureDef:
    """One dashboard figure: how it is computed and where its rows are listed."""

    key: str
    section: str
    label: Promise
    unit: str  # "count", "rupiah", "grams" or "percent" (tenths of a percent)
    compute: Compute
    metrics: tuple[str, ...]
    # The drill-down list behind the figure: (list name, query parameters).
    drill: tuple[str, dict[str, str]]
    rule: Promise


def _rate(collected: int, billed: int) -> int | None:
    """Tenths of a percent, rounded half up, or None when nothing was billed."""
    if billed <= 0:
        return None
    return (collected * 1000 + billed // 2) // billed


def _arrears(t: Tallies, p: Period) -> int:
    before = p.month_start - timedelta(days=1)
    return t.total("levy_billed", end=before) - t.total("levy_collected", end=before)


def _overdue(t: Tallies, p: Period) -> int:
    return sum(1 for row in t.open_reports() if row.sla_due_at < p.now)


FIGURES: tuple[FigureDef, ...] = (
    FigureDef(
        "buildings",
        "registry",
        _("Buildings registered"),
        "count",
        lambda t, p: t.total("buildings", end=p.today),
        ("buildings",),
        ("buildings", {}),
        _("Registered buildings minus demolished ones, from building events."),
    ),
    FigureDef(
        "households",
        "registry",
        _("Households registered"),
        "count",
        lambda t, p: t.total("households", end=p.today),
        ("households",),
        ("households", {}),
        _("Active households, placed in their building's kelurahan."),
    ),
    FigureDef(
        "plates_issued",
        "registry",
        _("Plates printed"),
        "count",
        lambda t, p: t.total("plates_issued", end=p.today),
        ("plates_issued",),
        ("plates", {}),
        _("Plates issued minus plates revoked."),
    ),
    FigureDef(
        "plates_installed",
        "registry",
        _("Plates installed"),
        "count",
        lambda t, p: t.total("plates_installed", end=p.today),
        ("plates_installed",),
        ("plates", {"status": "installed"}),
        _("Plates reported installed on their building, minus revoked ones."),
    ),
    FigureDef(
        "wallets_active",
        "money",
        _("Active citizen wallets"),
        "count",
        lambda t, p: t.total("wallets", end=p.today, key="citizen"),
        ("wallets",),
        ("wallets", {}),
        _("Citizen wallets opened, minus those frozen or closed."),
    ),
    FigureDef(
        "transfers_today",
        "money",
        _("Transactions today"),
        "count",
        lambda t, p: t.total("transfers", p.today, p.today),
        ("transfers",),
        ("transfers", {"period": "today"}),
        _("Posted wallet transfers of every kind recorded today."),
    ),
    FigureDef(
        "transfer_value_today",
        "money",
        _("Value moved today"),
        "rupiah",
        lambda t, p: t.total("transfer_value", p.today, p.today),
        ("transfer_value",),
        ("transfers", {"period": "today"}),
        _("The rupiah of every posted wallet transfer recorded today."),
    ),
    FigureDef(
        "transfers_month",
        "money",
        _("Transactions this month"),
        "count",
        lambda t, p: t.total("transfers", p.month_start, p.today),
        ("transfers",),
        ("transfers", {"period": "month"}),
        _("Posted wallet transfers of every kind recorded this month."),
    ),
    FigureDef(
        "transfer_value_month",
        "money",
        _("Value moved this month"),
        "rupiah",
        lambda t, p: t.total("transfer_value", p.month_start, p.today),
        ("transfer_value",),
        ("transfers", {"period": "month"}),
        _("The rupiah of every posted wallet transfer recorded this month."),
    ),
    FigureDef(
        "levy_billed_month",
        "money",
        _("Levy billed this month"),
        "rupiah",
        lambda t, p: t.total("levy_billed", p.month_start, p.month_start),
        ("levy_billed",),
        ("bills", {"period": "month"}),
        _("The amounts of this month's levy bills, minus cancelled bills."),
    ),
    FigureDef(
        "levy_collected_month",
        "money",
        _("Levy collected this month"),
        "rupiah",
        lambda t, p: t.total("levy_collected", p.month_start, p.month_start),
        ("levy_collected",),
        ("bills", {"period": "month"}),
        _("What has been paid so far on this month's bills."),
    ),
    FigureDef(
        "collection_rate",
        "money",
        _("Levy collection rate this month"),
        "percent",
        lambda t, p: _rate(
            t.total("levy_collected", p.month_start, p.month_start),
            t.total("levy_billed", p.month_start, p.month_start),
        ),
        ("levy_collected", "levy_billed"),
        ("bills", {"period": "month"}),
        _(
            "Levy collected on this month's bills divided by levy billed for"
            " this month."
        ),
    ),
    FigureDef(
        "arrears",
        "money",
        _("Levy arrears"),
        "rupiah",
        _arrears,
        ("levy_billed", "levy_collected"),
        ("bills", {"status": "arrears"}),
        _("Billed minus collected on the bills of all earlier months."),
    ),
    FigureDef(
        "waste_bank_payouts_month",
        "money",
        _("Waste-bank payouts this month"),
        "rupiah",
        lambda t, p: t.total(
            "transfer_value", p.month_start, p.today, key="waste_bank_credit"
        ),
        ("transfer_value",),
        ("transfers", {"period": "month", "kind": "waste_bank_credit"}),
        _("Waste-bank credits posted to members' wallets this month."),
    ),
    FigureDef(
        "stops_planned_today",
        "waste",
        _("Stops planned today"),
        "count",
        lambda t, p: t.total("route_stops", p.today, p.today),
        ("route_stops",),
        ("routes", {}),
        _("The stops of the latest revision of each of today's route plans."),
    ),
    FigureDef(
        "stops_done_today",
        "waste",
        _("Pickups on today's routes"),
        "count",
        lambda t, p: t.total("route_done", p.today, p.today),
        ("route_done",),
        ("pickups", {"period": "today", "route": "planned"}),
        _("Pickups recorded against today's route plans, repeat scans not counted."),
    ),
    FigureDef(
        "pickups_today",
        "waste",
        _("Pickups today"),
        "count",
        lambda t, p: t.total("pickups", p.today, p.today),
        ("pickups",),
        ("pickups", {"period": "today"}),
        _("Every pickup scanned today with any outcome, repeat scans not counted."),
    ),
    FigureDef(
        "tonnage_today",
        "waste",
        _("Waste collected today"),
        "grams",
        lambda t, p: t.total("tonnage_g", p.today, p.today),
        ("tonnage_g",),
        ("pickups", {"period": "today", "outcome": "collected"}),
        _(
            "Grams of collected pickups today; a pickup recorded in litres counts"
            " its volume times the density of its sorting group."
        ),
    ),
    FigureDef(
        "tonnage_month",
        "waste",
        _("Waste collected this month"),
        "grams",
        lambda t, p: t.total("tonnage_g", p.month_start, p.today),
        ("tonnage_g",),
        ("pickups", {"period": "month", "outcome": "collected"}),
        _("Grams of collected pickups this month, as for today's figure."),
    ),
    FigureDef(
        "containers_waiting",
        "waste",
        _("Containers above their threshold"),
        "count",
        lambda t, p: t.total("containers_waiting", end=p.today),
        ("containers_waiting",),
        ("containers", {"status": "above"}),
        _(
            "Containers whose sensor crossed the fill threshold and that have not"
            " been emptied by a pickup since."
        ),
    ),
    FigureDef(
        "pickups_flagged",
        "waste",
        _("Flagged pickups to review"),
        "count",
        lambda t, p: t.total("pickups_flagged", end=p.today),
        ("pickups_flagged",),
        ("pickups", {"review": "pending"}),
        _(
            "Pickups waiting for a staff review (a plate scanned far from its"
            " building, or a stop reported not collected) and not yet reviewed."
        ),
    ),
    FigureDef(
        "reports_open",
        "waste",
        _("Open citizen reports"),
        "count",
        lambda t, p: len(t.open_reports()),
        ("reports_filed", "reports_closed"),
        ("reports", {"status": "open"}),
        _("Citizen reports filed and not yet resolved, rejected or merged."),
    ),
    FigureDef(
        "reports_overdue",
        "waste",
        _("Reports past their SLA"),
        "count",
        _overdue,
        ("reports_filed", "reports_closed"),
        ("reports", {"status": "overdue"}),
        _("Open citizen reports whose SLA due time has passed."),
    ),
)
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass(frozen=True)
class Figure:
    """A figure's value for display."""

    definition: FigureDef
    value: int | None

    @property
    def key(self) -> str:
        return self.definition.key


def compute(tallies: Tallies, period: Period | None = None) -> list[Figure]:
    """Compute every dashboard figure for `period` (default: now)."""
    period = period or Period.current()
    return [Figure(f, f.compute(tallies, period)) for f in FIGURES]


def value(key: str, tallies: Tallies, period: Period | None = None) -> int | None:
    return FIGURES_BY_KEY[key].compute(tallies, period or Period.current())


# ------------------------------------------------------- per kelurahan and series


@dataclass(frozen=True)
class KelurahanRow:
    code: str
    buildings: int
    households: int
    plates_installed: int
    levy_billed: int
    levy_collected: int
    arrears: int
    pickups_today: int
    tonnage_month_g: int
    containers_waiting: int
    reports_open: int

    @property
    def collection_rate(self) -> int | None:
        return _rate(self.levy_collected, self.levy_billed)


def by_kelurahan(
    tallies: Tallies, period: Period | None = None
) -> dict[str, KelurahanRow]:
    """Return each kelurahan's figures, keyed by its code."""
    p = period or Period.current()
    before = p.month_start - timedelta(days=1)
    columns = {
        "buildings": tallies.grouped("buildings", "kelurahan", end=p.today),
        "households": tallies.grouped("households", "kelurahan", end=p.today),
        "plates_installed": tallies.grouped(
            "plates_installed", "kelurahan", end=p.today
        ),
        "levy_billed": tallies.grouped(
            "levy_billed", "kelurahan", p.month_start, p.month_start
        ),
        "levy_collected": tallies.grouped(
            "levy_collected", "kelurahan", p.month_start, p.month_start
        ),
        "billed_before": tallies.grouped("levy_billed", "kelurahan", end=before),
        "collected_before": tallies.grouped("levy_collected", "kelurahan", end=before),
        "pickups_today": tallies.grouped("pickups", "kelurahan", p.today, p.today),
        "tonnage_month_g": tallies.grouped(
            "tonnage_g", "kelurahan", p.month_start, p.today
        ),
        "containers_waiting": tallies.grouped(
            "containers_waiting", "kelurahan", end=p.today
        ),
    }
    reports: defaultdict[str, int] = defaultdict(int)
    for row in tallies.open_reports():
        reports[row.kelurahan_code] += 1
    codes = {code for column in columns.values() for code in column} | set(reports)
    codes.discard("")
    return {
        code: KelurahanRow(
            code=code,
            buildings=columns["buildings"].get(code, 0),
            households=columns["households"].get(code, 0),
            plates_installed=columns["plates_installed"].get(code, 0),
            levy_billed=columns["levy_billed"].get(code, 0),
            levy_collected=columns["levy_collected"].get(code, 0),
            arrears=columns["billed_before"].get(code, 0)
            - columns["collected_before"].get(code, 0),
            pickups_today=columns["pickups_today"].get(code, 0),
            tonnage_month_g=columns["tonnage_month_g"].get(code, 0),
            containers_waiting=columns["containers_waiting"].get(code, 0),
            reports_open=reports[code],
        )
        for code in sorted(codes)
    }


def daily_series(
    tallies: Tallies, metric: str, days: int = SERIES_DAYS, end: date | None = None
) -> list[tuple[date, int]]:
    """(day, total) for each of the last `days` days, zero where nothing happened."""
    end = end or timezone.localdate()
    start = end - timedelta(days=days - 1)
    sums = tallies.grouped(metric, "day", start, end)
    return [
        (day, sums.get(day.isoformat(), 0))
        for day in (start + timedelta(days=i) for i in range(days))
    ]


def by_key(
    tallies: Tallies, metric: str, start: date | None, end: date | None
) -> dict[str, int]:
    """Totals of a metric per key (kind, outcome, sorting group, plan id)."""
    return tallies.grouped(metric, "key", start, end)
