"""Read paths of the levy: bill lists, the collection report, arrears, lookups.

Arrears are the unpaid parts of bills of months before the month looked at.
The collection rate of a month is what its bills have been paid so far,
divided by what they billed. It is a percentage rounded half up to one
decimal.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from kotacerdas.city.models import Area
from kotacerdas.levy.models import Bill, Tariff
from kotacerdas.levy.months import current_month
from kotacerdas.levy.services import BILL_PREFIX
from kotacerdas.registry.models import Building, Member, Plate
from kotacerdas.registry.plates import Verdict, read_plate_text

UNPAID = (Bill.Status.OPEN, Bill.Status.PARTLY_PAID)
# Status filters beyond the stored statuses.
STATUS_UNPAID = "unpaid"
STATUS_ARREARS = "arrears"
BILL_NUMBER = re.compile(rf"^{BILL_PREFIX}-?(\d{{6}})-?(\d{{1,9}})$")


def live(bills: QuerySet[Bill] | None = None) -> QuerySet[Bill]:
    """Bills that count: all but the cancelled ones."""
    bills = Bill.objects.all() if bills is None else bills
    return bills.exclude(status=Bill.Status.CANCELLED)


def in_arrears(before: date | None = None) -> QuerySet[Bill]:
    """Bills of months before `before` (default: this month) not fully paid."""
    return Bill.objects.filter(month__lt=before or current_month(), status__in=UNPAID)


def with_payer(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    # A kelurahan's boundary polygon is large and no bill page shows it.
    related = bills.select_related("building", "kelurahan", "household", "tariff")
    return related.defer("kelurahan__boundary")


def filter_bills(bills: QuerySet[Bill], filters: dict[str, Any]) -> QuerySet[Bill]:
    """Apply the cleaned values of a BillFilterForm; empty values are ignored."""
    if filters.get("month"):
        bills = bills.filter(month=filters["month"])
    if filters.get("kelurahan"):
        bills = bills.filter(kelurahan=filters["kelurahan"])
    status = filters.get("status")
    if status == STATUS_UNPAID:
        bills = bills.filter(status__in=UNPAID)
    elif status == STATUS_ARREARS:
        bills = bills.filter(status__in=UNPAID, month__lt=current_month())
    elif status:
        bills = bills.filter(status=status)
    if filters.get("household"):
        bills = bills.filter(household_id=filters["household"])
    if filters.get("building"):
        bills = bills.filter(building_id=filters["building"])
    text = (filters.get("q") or "").strip()
    if text:
        bills = bills.filter(_text_filter(text))
    return bills


def _text_filter(text: str) -> Q:
    number = normalize_bill_number(text)
    if number:
        return Q(number=number)
    read = read_plate_text(text)
    if read.code is not None:
        return Q(building__plate_code=read.code)
    return Q(number__icontains=text) | Q(building__plate_code__icontains=text)


def normalize_bill_number(text: str) -> str | None:
    """Return a typed bill number in its printed form, or None if it is not one."""
    compact = re.sub(r"\s", "", text.strip().upper())
    match = BILL_NUMBER.match(compact)
    if match is None:
        return None
    return f"{BILL_PREFIX}-{match.group(1)}-{int(match.group(2)):06d}"


def bills_of_user(user: Any) -> QuerySet[Bill]:
    """Bills of the household the user's active registry member belongs to."""
    member = (
        Member.objects.filter(user=user, status=Member.Status.ACTIVE)
        .only("household_id")
        .first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if member is None:
        return Bill.objects.none()
    return Bill.objects.filter(household_id=member.household_id)


@dataclass(frozen=True)
class CounterLookup:
    """The building a cashier's search found, and its bills to collect."""

    building: Building | None
    bills: list[Bill]
    # Set when the text named nothing billable; "malformed", "forged" or "unknown".
    problem: str = ""


def find_for_counter(text: str) -> CounterLookup:
    """Find the bills a cashier may collect from a bill number or a plate.

    A bill number gives that bill. A plate code, typed or read from the
    plate's QR code, gives every unpaid bill of the building, oldest first.
    """
    number = normalize_bill_number(text)
    if number is not None:
        bill = with_payer(Bill.objects.filter(number=number)).first()
        if bill is None:
            return CounterLookup(None, [], "unknown")
        return CounterLookup(bill.building, [bill])
    read = read_plate_text(text)
    if read.verdict == Verdict.FORGED:
        return CounterLookup(None, [], "forged")
    if read.code is None:
        return CounterLookup(None, [], "malformed")
    plate = Plate.objects.filter(code=read.code).select_related("building").first()
    if plate is None:
        return CounterLookup(None, [], "unknown")
    bills = with_payer(
        Bill.objects.filter(building=plate.building, status__in=UNPAID)
    ).order_by("month", "number")
    return CounterLookup(plate.building, list(bills))


def current_tariffs() -> list[Tariff]:
    """Return the tariff in force this month for each class, by class code."""
    from kotacerdas.levy.services import tariffs_for

    return sorted(tariffs_for(current_month()).values(), key=lambda t: t.levy_class)


# The collection report ------------------------------------------------------------


def rate_percent(collected: int, billed: int) -> Decimal | None:
    """Return collected / billed in percent, rounded half up to one decimal."""
    if billed <= 0:
        return None
    tenths = (collected * 2000 + billed) // (2 * billed)
    return Decimal(tenths).scaleb(-1)


@dataclass
class ReportRow:
    """One kelurahan's figures for a month, or the city's total."""

    area_id: int | None
    code: str
    name: str
    bill_count: int = 0
    billed: int = 0
    collected: int = 0
    arrears: int = 0
    households_in_arrears: int = 0
    buildings_in_arrears: int = 0

    @property
    def outstanding(self) -> int:
        return self.billed - self.collected

    @property
    def rate_percent(self) -> Decimal | None:
        return rate_percent(self.collected, self.billed)

    @property
    def payers_in_arrears(self) -> int:
        return self.households_in_arrears + self.buildings_in_arrears


@dataclass
class Report:
    month: date
    rows: list[ReportRow]
    total: ReportRow = field(default_factory=lambda: ReportRow(None, "", ""))


def collection_report(month: date) -> Report:
    """Return billed, collected and arrears per kelurahan for `month`.

    Every kelurahan of the city has a row, billed or not. Billed and collected
    count the live bills of `month`, paid up to now; arrears count the unpaid
    parts of bills of earlier months. Payers in arrears are households, plus
    buildings billed without a household (shops, offices).
    """
    areas = Area.objects.exclude(level=Area.Level.KECAMATAN).order_by("name")
    rows = {area.pk: ReportRow(area.pk, area.code, area.name) for area in areas}
    for values in _month_figures(live().filter(month=month)):
        _fill(rows, values)
    for values in _arrears_figures(in_arrears(month)):
        _fill(rows, values)
    total = ReportRow(None, "", "")
    for values in _month_figures(live().filter(month=month), grouped=False):
        total.__dict__.update(values)
    for values in _arrears_figures(in_arrears(month), grouped=False):
        total.__dict__.update(values)
    return Report(month, list(rows.values()), total)


def _fill(rows: dict[int, ReportRow], values: dict[str, Any]) -> None:
    area_id = values.pop("kelurahan_id")
    row = rows.get(area_id)
    if row is None:
        area = Area.objects.get(pk=area_id)
        row = rows[area_id] = ReportRow(area_id, area.code, area.name)
    row.__dict__.update(values)


def _month_figures(bills: QuerySet[Bill], grouped: bool = True) -> list[dict[str, Any]]:
    figures = {
        "bill_count": Count("id"),
        "billed": Coalesce(Sum("amount"), 0),
        "collected": Coalesce(Sum("paid_amount"), 0),
    }
    if not grouped:
        return [bills.aggregate(**figures)]
    rows = bills.values("kelurahan_id").order_by().annotate(**figures)
    return [dict(row) for row in rows]


def _arrears_figures(
    bills: QuerySet[Bill], grouped: bool = True
) -> list[dict[str, Any]]:
    figures = {
        "arrears": Coalesce(Sum(F("amount") - F("paid_amount")), 0),
        "households_in_arrears": Count("household_id", distinct=True),
        "buildings_in_arrears": Count(
            "building_id", distinct=True, filter=Q(household__isnull=True)
        ),
    }
    if not grouped:
        return [bills.aggregate(**figures)]
    rows = bills.values("kelurahan_id").order_by().annotate(**figures)
    return [dict(row) for row in rows]


def arrears_by_payer(
    kelurahan: Area | None = None, before: date | None = None
) -> QuerySet[Any, Any]:
    """Return one row per payer in arrears with the total it owes, largest first.

    A row has `household_id` (None for a building billed as a whole),
    `building_id`, `building__plate_code`, `owed`, `bill_count` and
    `oldest_month`.
    """
    # NOTE: a household that moved has one row per building it was billed in.
    bills = in_arrears(before)
    if kelurahan is not None:
        bills = bills.filter(kelurahan=kelurahan)
    return (
        bills.values("household_id", "building_id", "building__plate_code")
        .order_by()
        .annotate(
            owed=Sum(F("amount") - F("paid_amount")),
            bill_count=Count("id"),
            oldest_month=Min("month"),
        )
        .order_by("-owed", "building_id", "household_id")
    )
