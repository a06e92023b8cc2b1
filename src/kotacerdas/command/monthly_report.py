"""The mayor's monthly report: a month's figures from the rollups, with provenance.

The figures are the dashboard's own (`figures.FIGURES`) computed for a
`Period` that ends on the month's last day, or today while the month runs,
plus month totals read from the same tallies. Cumulative figures (buildings,
plates, wallets) are their state at the period's end. Levy collected and
arrears count every payment folded so far, also payments made after the
month, because a payment is tallied under its bill's month.

The report records the journal position the rollups had folded and the
latest sealed block, so anyone can fold entries up to that position and get
the same figures.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.models import Area
from kotacerdas.command import projector
from kotacerdas.command.figures import (
    FIGURES_BY_KEY,
    Period,
    StoredTallies,
    Tallies,
    by_key,
)
from kotacerdas.journal.models import Block, Entry
from kotacerdas.waste.models import SortingGroup

# Reads of the rollups are repeated when the worker folded entries meanwhile,
# so that every figure comes from the same journal position.
STABLE_READ_TRIES = 5


class ReportUnavailable(Exception):
    """No report exists for the requested month. `message` gives the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Line:
    """One figure of the report: what it is, its value and its unit."""

    key: str
    label: str
    value: int | None
    unit: str  # "count", "rupiah", "grams" or "percent" (tenths of a percent)


@dataclass(frozen=True)
class KelurahanLine:
    """One kelurahan's row of the report's table ("" code: no kelurahan known)."""

    code: str
    name: str
    buildings: int
    households: int
    levy_billed: int
    levy_collected: int
    arrears: int
    pickups: int
    tonnage_g: int
    reports_filed: int

    @property
    def collection_rate(self) -> int | None:
        if self.levy_billed <= 0:
            return None
        return (self.levy_collected * 1000 + self.levy_billed // 2) // self.levy_billed


@dataclass(frozen=True)
class Provenance:
    """The figures' source: the rollups' journal position and the latest block."""

    position: int
    block_height: int | None
    block_tree_size: int | None
    block_root_hash: bytes | None
    block_sealed_at: datetime | None


@dataclass(frozen=True)
class MonthlyFigures:
    """Every figure of one month's report, before any formatting."""

    month: date
    period: Period
    complete: bool
    registry: tuple[Line, ...]
    money: tuple[Line, ...]
    waste: tuple[Line, ...]
    tonnage_by_group: tuple[tuple[str, str, int], ...]
    kelurahan: tuple[KelurahanLine, ...]


@dataclass(frozen=True)
class MonthlyReport:
    figures: MonthlyFigures
    provenance: Provenance
    generated_at: datetime


def month_period(year: int, month: int, now: datetime | None = None) -> Period:
    """Return the period a month's report covers, or raise ReportUnavailable."""
    now = now or timezone.now()
    today = timezone.localdate(now)

    if not 1 <= month <= 12 or not 2000 <= year <= 2099:
        raise ReportUnavailable(
            _("Enter a month from 01 to 12 and a year from 2000 to 2099.")
        )
    first = date(year, month, 1)
    if first > today:
        raise ReportUnavailable(
            _("%(month)s has not begun yet. Choose %(current)s or an earlier month.")
            % {"month": f"{first:%Y-%m}", "current": f"{today:%Y-%m}"}
        )

    start = journal_start()
    if start is None:
        raise ReportUnavailable(
            _("The journal has no entries yet, so there is nothing to report.")
        )
    if first < start.replace(day=1):
        raise ReportUnavailable(
            _(
                "The journal began in %(start)s, so it has nothing for %(month)s."
                " Choose %(start)s or a later month."
            )
            % {"start": f"{start:%Y-%m}", "month": f"{first:%Y-%m}"}
        )

    end = _month_end(first)
    if now < end:
        return Period(today=today, now=now)
    return Period(today=end.date() - timedelta(days=1), now=end)


def _month_end(month: date) -> datetime:
    """Local midnight after the month's last day."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))


def journal_start() -> date | None:
    """Return the local day of the journal's first entry (None: no entries)."""
    first = Entry.objects.order_by("seq").values_list("recorded_at", flat=True)[:1]
    moment = first[0] if first else None
    return timezone.localdate(moment) if moment else None


def available_months(today: date | None = None) -> list[date]:
    """First days of the months a report exists for, newest first."""
    today = today or timezone.localdate()
    start = journal_start()
    if start is None:
        return []
    months = []
    month = today.replace(day=1)
    while month >= start.replace(day=1):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def build_report(year: int, month: int) -> MonthlyReport:
    """Compute a month's report from the rollups at one journal position."""
    period = month_period(year, month)
    for _try in range(STABLE_READ_TRIES):
        position = projector.position()
        figures = compute(StoredTallies(), date(year, month, 1), period)
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
    return MonthlyReport(figures, provenance, timezone.now())


def compute(tallies: Tallies, month: date, period: Period) -> MonthlyFigures:
    """Compute a month's figures from `tallies` (the rollups or a journal fold)."""
    return MonthlyFigures(
        month=month,
        period=period,
        complete=period.now >= _month_end(month),
        registry=_registry(tallies, period),
        money=_money(tallies, period),
        waste=_waste(tallies, period),
        tonnage_by_group=_tonnage_by_group(tallies, period),
        kelurahan=_kelurahan(tallies, period),
    )


def _figure(key: str, label: str, tallies: Tallies, period: Period) -> Line:
    definition = FIGURES_BY_KEY[key]
    value = definition.compute(tallies, period)
    return Line(key, label, value, definition.unit)


def _registry(t: Tallies, p: Period) -> tuple[Line, ...]:
    return (
        _figure("buildings", _("Buildings registered"), t, p),
        _figure("households", _("Households registered"), t, p),
        _figure("plates_issued", _("Plates printed"), t, p),
        _figure("plates_installed", _("Plates installed"), t, p),
        _figure("wallets_active", _("Active citizen wallets"), t, p),
    )


def _money(t: Tallies, p: Period) -> tuple[Line, ...]:
    payments = t.total("levy_payments", p.month_start, p.today)
    return (
        _figure("levy_billed_month", _("Levy billed for the month"), t, p),
        _figure(
            "levy_collected_month",
            _("Levy collected on the month's bills, to date"),
            t,
            p,
        ),
        _figure("collection_rate", _("Collection rate"), t, p),
        Line(
            "levy_payments_month",
            _("Levy payments received in the month, any bill month"),
            payments,
            "rupiah",
        ),
        _figure("arrears", _("Arrears on bills of earlier months, to date"), t, p),
        _figure("waste_bank_payouts_month", _("Waste-bank payouts"), t, p),
        _figure("transfers_month", _("Wallet transactions"), t, p),
        _figure("transfer_value_month", _("Value of wallet transactions"), t, p),
    )


def _waste(t: Tallies, p: Period) -> tuple[Line, ...]:
    start, end = p.month_start, p.today
    return (
        Line(
            "pickups",
            _("Pickups (every outcome)"),
            t.total("pickups", start, end),
            "count",
        ),
        Line(
            "pickups_collected",
            _("Pickups with waste collected"),
            t.total("pickups", start, end, key="collected"),
            "count",
        ),
        Line(
            "route_stops",
            _("Route stops planned"),
            t.total("route_stops", start, end),
            "count",
        ),
        Line(
            "route_done",
            _("Pickups on planned routes"),
            t.total("route_done", start, end),
            "count",
        ),
        _figure("tonnage_month", _("Waste collected"), t, p),
        Line(
            "reports_filed",
            _("Citizen reports filed"),
            t.total("reports_filed", start, end),
            "count",
        ),
        Line(
            "reports_closed",
            _("Citizen reports closed"),
            t.total("reports_closed", start, end),
            "count",
        ),
    )


def _tonnage_by_group(t: Tallies, p: Period) -> tuple[tuple[str, str, int], ...]:
    """(sorting group, its label, grams) for every group with waste, largest first."""
    grams = by_key(t, "tonnage_g", p.month_start, p.today)
    labels = dict(SortingGroup.choices)
    rows = [(group, str(labels.get(group, group)), n) for group, n in grams.items()]
    return tuple(sorted(rows, key=lambda row: (-row[2], row[0])))


def _kelurahan(t: Tallies, p: Period) -> tuple[KelurahanLine, ...]:
    start, end = p.month_start, p.today
    before = start - timedelta(days=1)
    columns = {
        "buildings": t.grouped("buildings", "kelurahan", end=end),
        "households": t.grouped("households", "kelurahan", end=end),
        "billed": t.grouped("levy_billed", "kelurahan", start, start),
        "collected": t.grouped("levy_collected", "kelurahan", start, start),
        "billed_before": t.grouped("levy_billed", "kelurahan", end=before),
        "collected_before": t.grouped("levy_collected", "kelurahan", end=before),
        "pickups": t.grouped("pickups", "kelurahan", start, end),
        "tonnage": t.grouped("tonnage_g", "kelurahan", start, end),
        "reports": t.grouped("reports_filed", "kelurahan", start, end),
    }
    names = dict(
        Area.objects.exclude(level=Area.Level.KECAMATAN).values_list("code", "name")
    )
    codes = set(names) | {code for column in columns.values() for code in column}
    lines = [
        KelurahanLine(
            code=code,
            name=names.get(code) or (code or _("No kelurahan recorded")),
            buildings=columns["buildings"].get(code, 0),
            households=columns["households"].get(code, 0),
            levy_billed=columns["billed"].get(code, 0),
            levy_collected=columns["collected"].get(code, 0),
            arrears=columns["billed_before"].get(code, 0)
            - columns["collected_before"].get(code, 0),
            pickups=columns["pickups"].get(code, 0),
            tonnage_g=columns["tonnage"].get(code, 0),
            reports_filed=columns["reports"].get(code, 0),
        )
        for code in codes
    ]
    # Kelurahan by name, then rows with no kelurahan, if they contain data.
    known = sorted((line for line in lines if line.code in names), key=_by_name)
    unknown = [line for line in lines if line.code not in names and _has_data(line)]
    return (*known, *sorted(unknown, key=lambda line: line.code))


def _by_name(line: KelurahanLine) -> tuple[str, str]:
    return (line.name, line.code)


def _has_data(line: KelurahanLine) -> bool:
    return any(
        (
            line.buildings,
            line.households,
            line.levy_billed,
            line.levy_collected,
            line.arrears,
            line.pickups,
            line.tonnage_g,
            line.reports_filed,
        )
    )
