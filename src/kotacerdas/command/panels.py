"""Rows of the dashboard's panels, built from the rollups and a few live tables.

Each function returns plain rows with the raw value and its formatted text,
so templates only lay them out and tests compare values without parsing text.
Figures come from `figures` (the rollups the worker folds from the journal).
Sensor silence and containers above their threshold are also read live from
the waste app's open alerts, because a silent sensor sends no event at all.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kotacerdas.accounts.models import User
from kotacerdas.city.models import Area
from kotacerdas.command import display, figures, projector
from kotacerdas.command.figures import Figure, Period, Tallies
from kotacerdas.journal import services as journal
from kotacerdas.waste.models import Alert, RoutePlan, SortingGroup
from kotacerdas.waste.reports.models import SLA_HOURS, Kind
from kotacerdas.waste.statistics import AGE_BUCKETS

SECTIONS: tuple[tuple[str, Promise], ...] = (
    ("registry", _("Registry")),
    ("money", _("Money")),
    ("waste", _("Waste")),
)

# Labels of the report age buckets that waste.statistics.AGE_BUCKETS names.
AGE_BUCKET_LABELS: dict[str, Promise] = {
    "0-24h": _("under 24 h"),
    "24-72h": _("24 to 72 h"),
    "72h-7d": _("3 to 7 days"),
    "7d+": _("over 7 days"),
}

Viewer = User | AnonymousUser


def drill_url(list_name: str, params: dict[str, str]) -> str:
    """Return the drill-down list URL of a figure, with its query parameters."""
    url = reverse("command:list", kwargs={"name": list_name})
    return f"{url}?{urlencode(params)}" if params else url


# ----------------------------------------------------------------- figures


@dataclass(frozen=True)
class FigureRow:
    """One figure as the dashboard shows it."""

    key: str
    label: str
    unit: str
    value: int | None
    text: str
    rule: str
    drill_url: str
    explain_url: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: list[FigureRow]


def figure_row(figure: Figure) -> FigureRow:
    definition = figure.definition
    list_name, params = definition.drill
    return FigureRow(
        key=definition.key,
        label=str(definition.label),
        unit=definition.unit,
        value=figure.value,
        text=display.figure_value(definition.unit, figure.value),
        rule=str(definition.rule),
        drill_url=drill_url(list_name, params),
        explain_url=reverse("command:explain", kwargs={"key": definition.key}),
    )


def figure_sections(computed: list[Figure]) -> list[Section]:
    """Group the computed figures into the Registry, Money and Waste sections."""
    rows = [figure_row(figure) for figure in computed]
    return [
        Section(key, str(title), [row for row in rows if _section_of(row) == key])
        for key, title in SECTIONS
    ]


def _section_of(row: FigureRow) -> str:
    return figures.FIGURES_BY_KEY[row.key].section


# ------------------------------------------------------------- live sensors


@dataclass(frozen=True)
class LiveCounts:
    """Open waste alerts read live, not from the journal."""

    containers_above: int
    sensors_silent: int
    containers_above_text: str
    sensors_silent_text: str


def live_counts() -> LiveCounts:
    open_alerts = Alert.objects.filter(cleared_at__isnull=True)
    above = open_alerts.filter(kind=Alert.Kind.FILL_THRESHOLD).count()
    silent = open_alerts.filter(kind=Alert.Kind.SENSOR_SILENT).count()
    return LiveCounts(above, silent, display.count(above), display.count(silent))


# ---------------------------------------------------------------- freshness


@dataclass(frozen=True)
class Freshness:
    """How much of the journal the figures include, and when they were read."""

    folded: int
    journal_size: int
    read_at: datetime

    @property
    def last_seq(self) -> int | None:
        """The sequence number of the last entry folded; None before the first."""
        return self.folded - 1 if self.folded else None

    @property
    def waiting(self) -> int:
        return max(self.journal_size - self.folded, 0)

    @property
    def catching_up(self) -> bool:
        """Whether so many entries wait that the figures read clearly too low.

        A few waiting entries are normal between two runs of the rollup job.
        After a start or a rebuild the job may be tens of thousands behind.
        """
        return self.waiting > CATCHING_UP_ENTRIES


# More entries than the rollup job folds in one run (projector.BATCH).
CATCHING_UP_ENTRIES = 2000


def freshness() -> Freshness:
    return Freshness(projector.position(), journal.journal_size(), timezone.now())


# --------------------------------------------------------------- waste tables


@dataclass(frozen=True)
class RouteRow:
    """One of today's route plans: its vehicle, stops planned and pickups done."""

    plan_id: int
    vehicle: str
    status: str
    planned: int
    done: int
    done_percent: str
    url: str | None


def routes_today(tallies: Tallies, period: Period, user: Viewer) -> list[RouteRow]:
    planned = figures.by_key(tallies, "route_stops", period.today, period.today)
    done = figures.by_key(tallies, "route_done", period.today, period.today)
    ids = sorted({int(key) for key in (*planned, *done) if key.isdecimal()})
    plans = RoutePlan.objects.filter(pk__in=ids).select_related("vehicle")
    names = {plan.pk: plan for plan in plans}
    linked = user.has_perm("waste.view_waste")
    rows = []
    for plan_id in ids:
        plan = names.get(plan_id)
        stops = planned.get(str(plan_id), 0)
        pickups = done.get(str(plan_id), 0)
        rows.append(
            RouteRow(
                plan_id=plan_id,
                vehicle=plan.vehicle.plate_number if plan else f"#{plan_id}",
                status=plan.get_status_display() if plan else "",
                planned=stops,
                done=pickups,
                done_percent=display.percent_tenths(pickups * 1000 // stops)
                if stops > 0
                else display.MISSING,
                url=reverse("waste:route_detail", kwargs={"plan_id": plan_id})
                if linked and plan
                else None,
            )
        )
    return sorted(rows, key=lambda row: row.vehicle)


@dataclass(frozen=True)
class TonnageRow:
    """Waste collected of one sorting group, today and this month."""

    group: str
    label: str
    today_g: int
    month_g: int
    today_text: str
    month_text: str


def tonnage_by_group(tallies: Tallies, period: Period) -> list[TonnageRow]:
    today = figures.by_key(tallies, "tonnage_g", period.today, period.today)
    month = figures.by_key(tallies, "tonnage_g", period.month_start, period.today)
    labels = dict(SortingGroup.choices)
    return [
        TonnageRow(
            group=group,
            label=str(labels.get(group, group)),
            today_g=today.get(group, 0),
            month_g=grams,
            today_text=display.grams(today.get(group, 0)),
            month_text=display.grams(grams),
        )
        for group, grams in sorted(month.items(), key=lambda item: -item[1])
    ]


@dataclass(frozen=True)
class ReportAgeRow:
    """Open citizen reports of one kind, counted by age and against the SLA."""

    kind: str
    label: str
    sla_hours: int
    buckets: list[int]
    open: int
    overdue: int


def report_ages(tallies: Tallies, period: Period) -> list[ReportAgeRow]:
    """Count the open reports of each kind per age bucket and past their SLA."""
    reports = tallies.open_reports()
    rows = []
    for kind, sla_hours in SLA_HOURS.items():
        mine = [report for report in reports if report.kind == kind]
        buckets = dict.fromkeys((name for name, _limit in AGE_BUCKETS), 0)
        for report in mine:
            age_h = (period.now - report.filed_at).total_seconds() / 3600
            name = next(name for name, limit in AGE_BUCKETS if age_h < limit)
            buckets[name] += 1
        rows.append(
            ReportAgeRow(
                kind=str(kind),
                label=str(Kind(kind).label),
                sla_hours=sla_hours,
                buckets=list(buckets.values()),
                open=len(mine),
                overdue=sum(1 for report in mine if report.sla_due_at < period.now),
            )
        )
    return rows


def age_bucket_labels() -> list[str]:
    return [str(AGE_BUCKET_LABELS[name]) for name, _limit in AGE_BUCKETS]


# ------------------------------------------------------------- per kelurahan


@dataclass(frozen=True)
class KelurahanLine:
    """One kelurahan's row of the per-kelurahan table, values and their texts."""

    code: str
    name: str
    row: figures.KelurahanRow
    collection_rate_text: str
    levy_billed_text: str
    levy_collected_text: str
    arrears_text: str
    tonnage_month_text: str
    url: str


def kelurahan_names() -> dict[str, str]:
    levels = (Area.Level.KELURAHAN, Area.Level.DESA)
    areas = Area.objects.filter(level__in=levels).order_by("name")
    return dict(areas.values_list("code", "name"))


def kelurahan_lines(tallies: Tallies, period: Period) -> list[KelurahanLine]:
    """Return every kelurahan of the city by name, also those with nothing yet."""
    rows = figures.by_kelurahan(tallies, period)
    names = kelurahan_names()
    codes = sorted(set(names) | set(rows), key=lambda code: names.get(code, code))
    return [
        _kelurahan_line(code, names.get(code, code), rows.get(code)) for code in codes
    ]


def _kelurahan_line(
    code: str, name: str, row: figures.KelurahanRow | None
) -> KelurahanLine:
    row = row or figures.KelurahanRow(code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return KelurahanLine(
        code=code,
        name=name,
        row=row,
        collection_rate_text=display.figure_value("percent", row.collection_rate),
        levy_billed_text=display.figure_value("rupiah", row.levy_billed),
        levy_collected_text=display.figure_value("rupiah", row.levy_collected),
        arrears_text=display.figure_value("rupiah", row.arrears),
        tonnage_month_text=display.grams(row.tonnage_month_g),
        url=drill_url("buildings", {"kelurahan": code}),
    )
