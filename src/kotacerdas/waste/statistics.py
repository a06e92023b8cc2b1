"""Waste reports: tonnage, service coverage, waste-bank recovery, SIPSN export.

Every figure is a pure function of the tables, so the pages, the exports and
the command center compute the same numbers:

- `tonnage(start, end)`: grams per day, kelurahan and sorting group.
- `coverage(day)`: buildings served ÷ buildings scheduled, per kelurahan.
- `recovery(start, end)`: grams posted at waste banks per material ÷ grams
  collected.
- `open_reports_by_age()` and `flagged_pickups()`: what waits for staff.

A pickup counts when it collected waste and is not a repeat (`duplicate_of`
is empty). Days are local dates in the city's time zone.
"""

import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from kotacerdas.city.models import Area
from kotacerdas.journal.worker import register_job
from kotacerdas.registry.models import Building
from kotacerdas.waste.bank.models import Deposit, DepositItem
from kotacerdas.waste.models import (
    Alert,
    Material,
    Pickup,
    Schedule,
    SipsnCategory,
    SortingGroup,
)
from kotacerdas.waste.reports.models import OPEN_STATUSES, SLA_HOURS, Kind, Report

logger = logging.getLogger(__name__)

# Loose bulk density of waste by sorting group, in grams per litre, for
# pickups recorded by volume only. These are planning estimates, not
# measurements, so every figure built from them is marked as estimated.
DENSITY_G_PER_L: dict[str, int] = {
    SortingGroup.MIXED: 200,
    SortingGroup.ORGANIC: 350,
    SortingGroup.RECYCLABLE: 50,
    SortingGroup.REUSABLE: 150,
    SortingGroup.RESIDUE: 150,
    SortingGroup.HAZARDOUS: 300,
}

OVERDUE_JOB_INTERVAL_S = 300.0
REPORT_SUBJECT = "wastereports.report:{}"


@dataclass(frozen=True)
class TonnageRow:
    """Collected waste of one day, kelurahan and sorting group."""

    day: date
    kelurahan_code: str
    kelurahan_name: str
    category: str
    weight_g: int
    # The part of weight_g converted from volume with DENSITY_G_PER_L.
    estimated_g: int
    pickups: int


@dataclass(frozen=True)
class CoverageRow:
    """Buildings scheduled in a kelurahan on one day and how many were served."""

    kelurahan_code: str
    kelurahan_name: str
    scheduled: int
    served: int

    @property
    def share(self) -> float | None:
        return self.served / self.scheduled if self.scheduled else None


@dataclass(frozen=True)
class Recovery:
    """Waste-bank intake against collected waste over a date range."""

    bank_g_by_material: dict[str, int]
    bank_g: int
    collected_g: int

    @property
    def share(self) -> float | None:
        """Grams posted at waste banks ÷ grams collected, or None without pickups."""
        return self.bank_g / self.collected_g if self.collected_g else None


@dataclass(frozen=True)
class ReportAge:
    """Open citizen reports of one kind, counted by age and against their SLA."""

    kind: str
    sla_hours: int
    open: int
    overdue: int
    oldest_hours: int | None
    # Counts per age bucket: "0-24h", "24-72h", "72h-7d", "7d+".
    by_age: dict[str, int] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        """The report kind's name in the reader's language."""
        return str(Kind(self.kind).label)


AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("0-24h", 24),
    ("24-72h", 72),
    ("72h-7d", 168),
    ("7d+", 10**9),
)


# ---------------------------------------------------------------- tonnage


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return aware datetimes from the start of `start` to the end of `end`."""
    zone = timezone.get_current_timezone()
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return first, after


def counted_pickups(start: date, end: date) -> QuerySet[Pickup]:
    """Pickups that collected waste between the two local dates, repeats left out."""
    first, after = day_bounds(start, end)
    return Pickup.objects.filter(
        outcome=Pickup.Outcome.COLLECTED,
        duplicate_of__isnull=True,
        scanned_at__gte=first,
        scanned_at__lt=after,
    )


def pickup_grams(
    weight_g: int | None, volume_l: int | None, category: str
) -> tuple[int, int]:
    """Return (grams, estimated grams): weighed grams, else volume times density."""
    if weight_g is not None:
        return weight_g, 0
    if volume_l is not None:
        grams = volume_l * DENSITY_G_PER_L.get(category, DENSITY_G_PER_L["mixed"])
        return grams, grams
    return 0, 0


def tonnage(start: date, end: date) -> list[TonnageRow]:
    """Return collected grams per local day, kelurahan and sorting group."""
    rows = counted_pickups(start, end).values_list(
        "scanned_at",
        "category",
        "weight_g",
        "volume_l",
        "building__kelurahan__code",
        "building__kelurahan__name",
        "container__kelurahan__code",
        "container__kelurahan__name",
    )
    totals: dict[tuple[date, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (
        scanned_at,
        category,
        weight_g,
        volume_l,
        b_code,
        b_name,
        c_code,
        c_name,
    ) in rows:
        day = timezone.localtime(scanned_at).date()
        grams, estimated = pickup_grams(weight_g, volume_l, category)
        key = (day, b_code or c_code, b_name or c_name, category)
        totals[key][0] += grams
        totals[key][1] += estimated
        totals[key][2] += 1
    return [
        TonnageRow(day, code, name, category, grams, estimated, count)
        for (day, code, name, category), (grams, estimated, count) in sorted(
            totals.items()
        )
    ]


# ---------------------------------------------------------------- coverage


def scheduled_buildings(day: date) -> dict[int, set[int]]:
    """Return the ids of active buildings due a door-to-door pickup on `day`.

    Keyed by kelurahan id. A schedule for an RT covers that RT, and one for an
    RW row (empty RT) covers every RT of the RW. A schedule without a unit
    covers the whole kelurahan.
    """
    schedules = Schedule.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        active=True,
        service=Schedule.Service.DOOR_TO_DOOR,
        valid_from__lte=day,
    ).select_related("unit")
    due: dict[int, set[int]] = defaultdict(set)
    for schedule in schedules:
        if day.isoweekday() not in schedule.days():
            continue
        buildings = Building.objects.filter(
            kelurahan_id=schedule.kelurahan_id, status=Building.Status.ACTIVE
        )
        unit = schedule.unit
        if unit is not None and unit.rt:
            buildings = buildings.filter(unit=unit)
        elif unit is not None:
            buildings = buildings.filter(unit__rw=unit.rw)
        due[schedule.kelurahan_id].update(buildings.values_list("pk", flat=True))
    return due


def coverage(day: date) -> list[CoverageRow]:
    """Return per kelurahan the buildings scheduled on `day` and those served.

    A building is served when the crew recorded a pickup there that day, either
    collected or an exception such as "no waste put out". Repeats are left out.
    """
    due = scheduled_buildings(day)
    every_id = set().union(*due.values()) if due else set()
    first, after = day_bounds(day, day)
    served_ids = set(
        Pickup.objects.filter(
            building_id__in=every_id,
            duplicate_of__isnull=True,
            scanned_at__gte=first,
            scanned_at__lt=after,
        ).values_list("building_id", flat=True)
    )
    areas = {area.pk: area for area in Area.objects.filter(pk__in=due.keys())}
    rows = [
        CoverageRow(
            areas[area_id].code,
            areas[area_id].name,
            len(ids),
            len(ids & served_ids),
        )
        for area_id, ids in due.items()
    ]
    return sorted(rows, key=lambda row: row.kelurahan_code)


# ---------------------------------------------------------------- recovery


def bank_grams_by_material(start: date, end: date) -> dict[str, int]:
    """Return grams per material code of the accepted items of posted deposits."""
    first, after = day_bounds(start, end)
    rows = (
        DepositItem.objects.filter(
            deposit__status=Deposit.Status.POSTED,
            accepted=True,
            deposit__created_at__gte=first,
            deposit__created_at__lt=after,
        )
        .values_list("material__code")
        .annotate(grams=Sum("weight_g"))
        .order_by("material__code")
    )
    return {code: int(grams) for code, grams in rows}


def material_rows(grams: dict[str, int]) -> list[tuple[str, str, int]]:
    """Return (code, name in the reader's language, grams) per material, by code."""
    labels = {m.code: m.label for m in Material.objects.filter(code__in=list(grams))}
    return [(code, labels.get(code, code), grams[code]) for code in sorted(grams)]


def group_label(category: str) -> str:
    """Return a sorting group's name in the reader's language, or the code."""
    if category in SortingGroup.values:
        return str(SortingGroup(category).label)
    return category


def recovery(start: date, end: date) -> Recovery:
    """Return waste-bank intake per material against collected waste."""
    by_material = bank_grams_by_material(start, end)
    collected = sum(row.weight_g for row in tonnage(start, end))
    return Recovery(by_material, sum(by_material.values()), collected)


# ---------------------------------------------------------------- waiting work


def open_reports_by_age(now: datetime | None = None) -> list[ReportAge]:
    """Return open citizen reports per kind: counts by age and past their SLA."""
    now = now or timezone.now()
    rows = Report.objects.filter(status__in=OPEN_STATUSES).values_list(
        "kind", "created_at", "sla_due_at"
    )
    grouped: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for kind, created_at, sla_due_at in rows:
        grouped[kind].append((created_at, sla_due_at))
    result = []
    for kind, hours in SLA_HOURS.items():
        reports = grouped.get(kind, [])
        ages = [(now - created).total_seconds() / 3600 for created, _due in reports]
        buckets = dict.fromkeys((name for name, _limit in AGE_BUCKETS), 0)
        for age in ages:
            name = next(name for name, limit in AGE_BUCKETS if age < limit)
            buckets[name] += 1
        result.append(
            ReportAge(
                kind=str(kind),
                sla_hours=hours,
                open=len(reports),
                overdue=sum(1 for _created, due in reports if due < now),
                oldest_hours=int(max(ages)) if ages else None,
                by_age=buckets,
            )
        )
    return result


def flagged_pickups() -> dict[str, object]:
    """Return the count of pickups waiting for review and the oldest scan time."""
    pending = Pickup.objects.filter(review=Pickup.Review.PENDING).aggregate(
        count=Count("id"), oldest=Min("scanned_at")
    )
    return {"count": pending["count"], "oldest_scanned_at": pending["oldest"]}


# ---------------------------------------------------------------- alerts


def raise_overdue_alerts(now: datetime | None = None) -> tuple[int, int]:
    """Open a REPORT_OVERDUE alert per open report past its SLA, clear stale ones.

    Returns (opened, cleared). Safe to run from several workers: the partial
    unique constraint on (kind, subject) lets only one open alert exist, and a
    worker that loses the race skips that report.
    """
    now = now or timezone.now()
    overdue = Report.objects.filter(status__in=OPEN_STATUSES, sla_due_at__lt=now)
    open_alerts = Alert.objects.filter(
        kind=Alert.Kind.REPORT_OVERDUE, cleared_at__isnull=True
    )
    alerted = set(open_alerts.values_list("subject", flat=True))
    opened = 0
    for report_id, kind, due in overdue.values_list("pk", "kind", "sla_due_at"):
        subject = REPORT_SUBJECT.format(report_id)
        if subject in alerted:
            continue
        try:
            with transaction.atomic():
                Alert.objects.create(
                    kind=Alert.Kind.REPORT_OVERDUE,
                    subject=subject,
                    details={"report_kind": kind, "due": due.isoformat()},
                )
        except IntegrityError:
            logger.info("overdue alert already open", extra={"report_id": report_id})
            continue
        opened += 1
    still_overdue = {
        REPORT_SUBJECT.format(pk) for pk in overdue.values_list("pk", flat=True)
    }
    stale = [subject for subject in alerted if subject not in still_overdue]
    cleared = open_alerts.filter(subject__in=stale).update(cleared_at=now)
    if opened or cleared:
        logger.info(
            "report overdue alerts changed",
            extra={"opened": opened, "cleared": cleared},
        )
    return opened, cleared


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
    register_job(
        "waste.report_overdue_alerts", raise_overdue_alerts, OVERDUE_JOB_INTERVAL_S
    )


# ---------------------------------------------------------------- SIPSN export

# Padang Panjang's composition in percent, as the city reported it to SIPSN
# for 2018-2023. Kain, karet-kulit and kaca were not reported. Shares are
# normalised to sum to 1 before use.
CITY_COMPOSITION_PERCENT: dict[str, float] = {
    SipsnCategory.FOOD: 43.15,
    SipsnCategory.WOOD: 23.56,
    SipsnCategory.PAPER: 14.35,
    SipsnCategory.PLASTIC: 12.67,
    SipsnCategory.METAL: 1.50,
    SipsnCategory.OTHER: 1.83,
}
# National composition of 2025 (SIPSN, 304 reporting kab/kota), used for the
# categories the city reports as zero, e.g. for reusable glass and textile.
NATIONAL_COMPOSITION_PERCENT: dict[str, float] = {
    SipsnCategory.FOOD: 40.21,
    SipsnCategory.PLASTIC: 20.16,
    SipsnCategory.WOOD: 13.04,
    SipsnCategory.PAPER: 10.71,
    SipsnCategory.OTHER: 7.07,
    SipsnCategory.METAL: 2.88,
    SipsnCategory.TEXTILE: 2.58,
    SipsnCategory.GLASS: 2.29,
    SipsnCategory.RUBBER: 2.02,
}
# The SIPSN categories each sorting group can contain. Mixed waste may be
# anything, and sorted groups are split over their own categories only.
GROUP_CATEGORIES: dict[str, tuple[str, ...]] = {
    SortingGroup.MIXED: tuple(SipsnCategory.values),
    SortingGroup.ORGANIC: (SipsnCategory.FOOD, SipsnCategory.WOOD),
    SortingGroup.RECYCLABLE: (
        SipsnCategory.PAPER,
        SipsnCategory.PLASTIC,
        SipsnCategory.METAL,
        SipsnCategory.GLASS,
    ),
    SortingGroup.REUSABLE: (
        SipsnCategory.TEXTILE,
        SipsnCategory.GLASS,
        SipsnCategory.RUBBER,
    ),
    SortingGroup.RESIDUE: (SipsnCategory.OTHER,),
    SortingGroup.HAZARDOUS: (SipsnCategory.OTHER,),
}

SIPSN_SOURCES: tuple[str, ...] = (
    "Rumah Tangga",
    "Perkantoran",
    "Pasar",
    "Perniagaan",
    "Fasilitas Publik",
    "Kawasan",
    "Lainnya",
)
# Building use → SIPSN source. Pickups at TPS containers have no known
# source and are counted under "Lainnya".
SOURCE_BY_USE: dict[str, str] = {
    Building.Use.HOUSE: "Rumah Tangga",
    Building.Use.SHOP_HOUSE: "Perniagaan",
    Building.Use.SHOP: "Perniagaan",
    Building.Use.OFFICE: "Perkantoran",
    Building.Use.SCHOOL: "Fasilitas Publik",
    Building.Use.WORSHIP: "Fasilitas Publik",
    Building.Use.MARKET_STALL: "Pasar",
    Building.Use.PUBLIC: "Fasilitas Publik",
    Building.Use.OTHER: "Lainnya",
}


def split_grams(grams: int, categories: tuple[str, ...]) -> dict[str, int]:
    """Split `grams` over `categories` by composition share, exactly.

    Uses the city's shares, or the national ones when the city reports zero
    for all of `categories`. Largest remainders keep the sum equal to `grams`.
    """
    shares = {c: CITY_COMPOSITION_PERCENT.get(c, 0.0) for c in categories}
    if not sum(shares.values()):
        shares = {c: NATIONAL_COMPOSITION_PERCENT.get(c, 0.0) for c in categories}
    total = sum(shares.values())
    exact = {c: grams * share / total for c, share in shares.items()}
    parts = {c: int(value) for c, value in exact.items()}
    short = grams - sum(parts.values())
    by_remainder = sorted(categories, key=lambda c: exact[c] - parts[c], reverse=True)
    for category in by_remainder[:short]:
        parts[category] += 1
    return parts


@dataclass
class Composition:
    """Grams per SIPSN category: weighed in one group, split by shares, at banks."""

    measured_g: dict[str, int]
    estimated_g: dict[str, int]
    bank_g: dict[str, int]

    def total_g(self, category: str) -> int:
        return (
            self.measured_g[category]
            + self.estimated_g[category]
            + self.bank_g[category]
        )


def composition(start: date, end: date) -> Composition:
    """Return collected and banked grams per SIPSN category.

    Weighed grams of a sorting group that maps to one category (residue,
    hazardous) count as measured. Mixed waste and the other groups are split
    by composition shares, and grams converted from volume, so both count as
    estimated. Waste-bank grams come from each material's category as weighed.
    """
    empty = dict.fromkeys(SipsnCategory.values, 0)
    result = Composition(dict(empty), dict(empty), dict(empty))
    weighed: dict[str, int] = defaultdict(int)
    from_volume: dict[str, int] = defaultdict(int)
    for row in tonnage(start, end):
        weighed[row.category] += row.weight_g - row.estimated_g
        from_volume[row.category] += row.estimated_g
    for group in weighed.keys() | from_volume.keys():
        categories = GROUP_CATEGORIES.get(group, (SipsnCategory.OTHER,))
        target = result.measured_g if len(categories) == 1 else result.estimated_g
        for category, part in split_grams(weighed[group], categories).items():
            target[category] += part
        for category, part in split_grams(from_volume[group], categories).items():
            result.estimated_g[category] += part
    result.bank_g.update(_bank_grams_by_category(start, end))
    return result


def _bank_grams_by_category(start: date, end: date) -> dict[str, int]:
    by_material = bank_grams_by_material(start, end)
    categories = dict(
        Material.objects.filter(code__in=by_material).values_list(
            "code", "sipsn_category"
        )
    )
    grams: dict[str, int] = defaultdict(int)
    for code, weight in by_material.items():
        grams[categories[code]] += weight
    return grams


def grams_by_source(start: date, end: date) -> dict[str, int]:
    """Return collected grams per SIPSN source, from each building's use."""
    grams = dict.fromkeys(SIPSN_SOURCES, 0)
    rows = counted_pickups(start, end).values_list(
        "building__use", "category", "weight_g", "volume_l"
    )
    for use, category, weight_g, volume_l in rows:
        source = SOURCE_BY_USE.get(use, "Lainnya") if use else "Lainnya"
        grams[source] += pickup_grams(weight_g, volume_l, category)[0]
    return grams


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """Return the first and last day of a calendar month."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


def sipsn_workbook(year: int, month: int) -> bytes:
    """Build the monthly SIPSN export as XLSX bytes.

    Sheets: composition by SIPSN category (measured, estimated and waste-bank
    kilograms kept apart), collected waste by SIPSN source, daily tonnage per
    kelurahan, and the method. Kilograms have three decimals, so they are
    exact grams.
    """
    start, end = month_bounds(year, month)
    book = Workbook()
    _composition_sheet(book.active, composition(start, end))
    _source_sheet(book.create_sheet("Sumber"), grams_by_source(start, end))
    _daily_sheet(book.create_sheet("Harian"), tonnage(start, end))
    _method_sheet(book.create_sheet("Metode"), start, end)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _header(sheet: Worksheet, *titles: str) -> None:
    sheet.append(list(titles))
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _composition_sheet(sheet: Worksheet, figures: Composition) -> None:
    sheet.title = "Komposisi"
    _header(
        sheet,
        _("SIPSN category"),
        _("Measured (kg)"),
        _("Estimated (kg)"),
        _("Waste banks (kg)"),
        _("Total (kg)"),
        _("Share (%)"),
    )
    grand = sum(figures.total_g(c) for c in SipsnCategory.values)
    for category in SipsnCategory:
        total = figures.total_g(category)
        sheet.append(
            [
                str(category.label),
                _kg(figures.measured_g[category]),
                _kg(figures.estimated_g[category]),
                _kg(figures.bank_g[category]),
                _kg(total),
                round(100 * total / grand, 2) if grand else 0,
            ]
        )
    sheet.append(
        [
            _("Total"),
            _kg(sum(figures.measured_g.values())),
            _kg(sum(figures.estimated_g.values())),
            _kg(sum(figures.bank_g.values())),
            _kg(grand),
            100 if grand else 0,
        ]
    )


def _source_sheet(sheet: Worksheet, grams: dict[str, int]) -> None:
    _header(sheet, _("SIPSN source"), _("Collected (kg)"), _("Share (%)"))
    total = sum(grams.values())
    for source in SIPSN_SOURCES:
        share = round(100 * grams[source] / total, 2) if total else 0
        sheet.append([source, _kg(grams[source]), share])
    sheet.append([_("Total"), _kg(total), 100 if total else 0])


def _daily_sheet(sheet: Worksheet, rows: list[TonnageRow]) -> None:
    _header(
        sheet,
        _("Date"),
        _("Kelurahan code"),
        _("Kelurahan"),
        _("Sorting group code"),
        _("Sorting group"),
        _("Collected (kg)"),
        _("Of which estimated from volume (kg)"),
        _("Pickups"),
    )
    for row in rows:
        sheet.append(
            [
                row.day,
                row.kelurahan_code,
                row.kelurahan_name,
                row.category,
                group_label(row.category),
                _kg(row.weight_g),
                _kg(row.estimated_g),
                row.pickups,
            ]
        )


def _method_sheet(sheet: Worksheet, start: date, end: date) -> None:
    densities = ", ".join(
        f"{group_label(g)} {d} g/L" for g, d in DENSITY_G_PER_L.items()
    )
    lines = [
        _("Period: %(start)s to %(end)s (local dates).")
        % {"start": start.isoformat(), "end": end.isoformat()},
        _(
            "Collected: pickups that collected waste, repeats of the same point "
            "left out."
        ),
        _(
            "Estimated: pickups recorded by volume are converted with these "
            "densities: %(densities)s."
        )
        % {"densities": densities},
        _(
            "Estimated: mixed waste and the organic, recyclable and reusable "
            "groups are split over SIPSN categories by the city's reported "
            "composition, or the national one where the city reports zero."
        ),
        _(
            "Measured: weighed residue and hazardous waste, and waste-bank "
            "deposits per material."
        ),
        _("Sources: TPS container pickups have no known source (Lainnya)."),
    ]
    sheet.append([_("Method")])
    sheet["A1"].font = Font(bold=True)
    for line in lines:
        sheet.append([line])
    sheet.column_dimensions["A"].width = 120


def tonnage_csv_rows(start: date, end: date) -> list[list[str]]:
    """Return the tonnage table as CSV rows, a header first, grams as integers."""
    rows = [
        [
            "date",
            "kelurahan_code",
            "kelurahan",
            "sorting_group",
            "sorting_group_name",
            "weight_g",
            "estimated_g",
            "pickups",
        ]
    ]
    for row in tonnage(start, end):
        rows.append(
            [
                row.day.isoformat(),
                row.kelurahan_code,
                row.kelurahan_name,
                row.category,
                group_label(row.category),
                str(row.weight_g),
                str(row.estimated_g),
                str(row.pickups),
            ]
        )
    return rows
