"""The ten drill-down lists: their rows, columns, filters and defaults.

Defaults follow the figure each list is opened from with no parameters
(`FigureDef.drill`): buildings not demolished, active households, plates not
revoked, active citizen wallets, posted transfers, bills not cancelled,
today's route plans, pickups without repeat scans. The fold in
`command.fold` counts the same rows, so a figure and its list agree.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from kotacerdas.command.lists import (
    ALL,
    CHOICE,
    CODE,
    DATE,
    DATETIME,
    ID,
    MONTH,
    NUMBER,
    PERCENT,
    PERIOD_ALL,
    PERIOD_CUSTOM,
    PERIOD_MONTH,
    PERIOD_TODAY,
    RUPIAH,
    ChoiceFilter,
    Column,
    DateRange,
    ListDef,
    Option,
    choices_of,
    where,
)
from kotacerdas.levy.models import Bill
from kotacerdas.registry.models import Building, Household, Member, Plate
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountStatus,
    Channel,
    Phase,
    Tier,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.waste.models import (
    Alert,
    Container,
    Pickup,
    RoutePlan,
    RouteStop,
    SortingGroup,
)
from kotacerdas.waste.reports.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Kind,
    Report,
    Status,
)


def _grouped(count: int) -> dict[str, str]:
    """Return the %(count)s of a count text, with the language's digit grouping."""
    return {"count": number_format(count, force_grouping=True)}


def _count(rows: QuerySet[Any], outer: str) -> Coalesce:
    """Count the `rows` whose `outer` foreign key points at the listed row."""
    counted = (
        rows.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _labels(choices: Sequence[tuple[str, object]]) -> dict[str, object]:
    return dict(choices)


STATUS = _("Status")
KIND = _("Kind")
KELURAHAN = _("Kelurahan")
ANY_STATUS = _("Any status")
ANY_KIND = _("Any kind")


# ------------------------------------------------------------------ registry

BUILDINGS = ListDef(
    name="buildings",
    title=_("Buildings"),
    description=_("Registered buildings, by plate code. Addresses are not listed."),
    rows=lambda: Building.objects.all(),
    columns=(
        Column("plate_code", _("Plate code"), CODE),
        Column("kelurahan", KELURAHAN, source="kelurahan__name"),
        Column("use", _("Use"), CHOICE, labels=_labels(Building.Use.choices)),
        Column("levy_class", _("Levy class"), CODE),
        Column("floors", _("Floors"), NUMBER),
        Column("status", STATUS, CHOICE, labels=_labels(Building.Status.choices)),
        Column("registered_at", _("Registered at"), DATETIME, source="created_at"),
    ),
    default_sort="plate_code",
    count_text=lambda n: (
        ngettext("%(count)s building", "%(count)s buildings", n) % _grouped(n)
    ),
    dates=DateRange("created_at", DATETIME, _("Registered")),
    kelurahan=("kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                Option(
                    "live",
                    _("Not demolished"),
                    where(~Q(status=Building.Status.DEMOLISHED)),
                ),
                *choices_of(Building.Status.choices, "status", ANY_STATUS)[1:],
                Option(ALL, ANY_STATUS),
            ),
            default="live",
        ),
        ChoiceFilter(
            "kind", _("Use"), choices_of(Building.Use.choices, "use", _("Any use"))
        ),
    ),
    filename=_("buildings"),
)

_ACTIVE_MEMBERS = Member.objects.filter(status=Member.Status.ACTIVE)

HOUSEHOLDS = ListDef(
    name="households",
    title=_("Households"),
    description=_(
        "Households (KK) by their number in this system, not their KK number."
    ),
    rows=lambda: Household.objects.all(),
    columns=(
        Column("household", _("Household id"), ID, source="id"),
        Column("building", _("Building plate code"), CODE, "building__plate_code"),
        Column("kelurahan", KELURAHAN, source="building__kelurahan__name"),
        Column("members", _("Members"), NUMBER, _count(_ACTIVE_MEMBERS, "household")),
        Column("status", STATUS, CHOICE, labels=_labels(Household.Status.choices)),
        Column("registered_at", _("Registered at"), DATETIME, source="created_at"),
    ),
    default_sort="household",
    count_text=lambda n: (
        ngettext("%(count)s household", "%(count)s households", n) % _grouped(n)
    ),
    dates=DateRange("created_at", DATETIME, _("Registered")),
    kelurahan=("building__kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                *choices_of(Household.Status.choices, "status", ANY_STATUS)[1:],
                Option(ALL, ANY_STATUS),
            ),
            default=Household.Status.ACTIVE,
        ),
    ),
    filename=_("households"),
)

PLATES = ListDef(
    name="plates",
    title=_("QR plates"),
    description=_("Printed QR plates of buildings and their state."),
    rows=lambda: Plate.objects.all(),
    columns=(
        Column("code", _("Plate code"), CODE),
        Column("kelurahan", KELURAHAN, source="building__kelurahan__name"),
        Column("status", STATUS, CHOICE, labels=_labels(Plate.Status.choices)),
        Column("issued_at", _("Issued at"), DATETIME),
        Column("installed_at", _("Installed at"), DATETIME),
        Column("revoked_at", _("Revoked at"), DATETIME),
    ),
    default_sort="-issued_at",
    count_text=lambda n: (
        ngettext("%(count)s plate", "%(count)s plates", n) % _grouped(n)
    ),
    dates=DateRange("issued_at", DATETIME, _("Issued")),
    kelurahan=("building__kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                Option(
                    "live",
                    _("Not revoked"),
                    where(~Q(status=Plate.Status.REVOKED)),
                ),
                *choices_of(Plate.Status.choices, "status", ANY_STATUS)[1:],
                Option(ALL, ANY_STATUS),
            ),
            default="live",
        ),
    ),
    filename=_("plates"),
)


# --------------------------------------------------------------------- money

WALLETS = ListDef(
    name="wallets",
    title=_("Wallets"),
    description=_("Wallet accounts by number. Holders and balances are not listed."),
    rows=lambda: Account.objects.all(),
    columns=(
        Column("number", _("Wallet number"), CODE),
        Column("kind", KIND, CHOICE, labels=_labels(AccountKind.choices)),
        Column("tier", _("Tier"), CHOICE, labels=_labels(Tier.choices)),
        Column("status", STATUS, CHOICE, labels=_labels(AccountStatus.choices)),
        Column("opened_at", _("Opened at"), DATETIME, source="created_at"),
    ),
    default_sort="number",
    count_text=lambda n: (
        ngettext("%(count)s wallet", "%(count)s wallets", n) % _grouped(n)
    ),
    dates=DateRange("created_at", DATETIME, _("Opened")),
    choices=(
        ChoiceFilter(
            "kind",
            KIND,
            choices_of(AccountKind.choices, "kind", ANY_KIND),
            default=AccountKind.CITIZEN,
        ),
        ChoiceFilter(
            "status",
            STATUS,
            choices_of(AccountStatus.choices, "status", ANY_STATUS),
            default=AccountStatus.ACTIVE,
        ),
        ChoiceFilter(
            "tier", _("Tier"), choices_of(Tier.choices, "tier", _("Any tier"))
        ),
    ),
    filename=_("wallets"),
)

# A movement of money: a single-phase transfer or the post of a reservation.
# These are the rows journaled as wallet.transfer.posted.
_MOVED = Q(phase__in=[Phase.SINGLE, Phase.POST])

TRANSFERS = ListDef(
    name="transfers",
    title=_("Wallet transfers"),
    description=_("Transfers by receipt reference, without notes or account holders."),
    rows=lambda: Transfer.objects.all(),
    columns=(
        Column("reference", _("Reference"), CODE),
        Column("created_at", _("Time"), DATETIME),
        Column("kind", KIND, CHOICE, labels=_labels(TransferKind.choices)),
        Column("channel", _("Channel"), CHOICE, labels=_labels(Channel.choices)),
        Column("amount", _("Amount"), RUPIAH, total=True),
        Column("status", STATUS, CHOICE, labels=_labels(TransferStatus.choices)),
        Column("phase", _("Phase"), CHOICE, labels=_labels(Phase.choices)),
        Column(
            "debit_kind",
            _("From"),
            CHOICE,
            "debit_account__kind",
            labels=_labels(AccountKind.choices),
        ),
        Column(
            "credit_kind",
            _("To"),
            CHOICE,
            "credit_account__kind",
            labels=_labels(AccountKind.choices),
        ),
        Column("entry", _("Journal entry"), ID, source="entry_seq"),
    ),
    default_sort="-created_at",
    count_text=lambda n: (
        ngettext("%(count)s transfer", "%(count)s transfers", n) % _grouped(n)
    ),
    dates=DateRange("created_at", DATETIME, _("Recorded")),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                Option("posted", _("Posted (money moved)"), where(_MOVED)),
                Option(
                    "reserved",
                    _("Reserved, waiting to be posted"),
                    where(Q(phase=Phase.PENDING, status=TransferStatus.PENDING)),
                ),
                Option(
                    "voided",
                    _("Reservation voided or expired"),
                    where(
                        Q(
                            phase=Phase.PENDING,
                            status__in=[TransferStatus.VOIDED, TransferStatus.EXPIRED],
                        )
                    ),
                ),
                Option(ALL, _("Every row, reservations too")),
            ),
            default="posted",
        ),
        ChoiceFilter("kind", KIND, choices_of(TransferKind.choices, "kind", ANY_KIND)),
        ChoiceFilter(
            "channel",
            _("Channel"),
            choices_of(Channel.choices, "channel", _("Any channel")),
        ),
    ),
    filename=_("transfers"),
)

_UNPAID = [Bill.Status.OPEN, Bill.Status.PARTLY_PAID]

BILLS = ListDef(
    name="bills",
    title=_("Levy bills"),
    description=_("Monthly levy bills by number, with what is paid and owed."),
    rows=lambda: Bill.objects.all(),
    columns=(
        Column("number", _("Bill number"), CODE),
        Column("month", _("Month"), MONTH),
        Column("kelurahan", KELURAHAN, source="kelurahan__name"),
        Column("building", _("Building plate code"), CODE, "building__plate_code"),
        Column("household", _("Household id"), ID, source="household_id"),
        Column("levy_class", _("Levy class"), CODE),
        Column("amount", _("Amount"), RUPIAH, total=True),
        Column("paid", _("Paid"), RUPIAH, source="paid_amount", total=True),
        Column(
            "outstanding",
            _("Outstanding"),
            RUPIAH,
            Case(
                When(status=Bill.Status.CANCELLED, then=Value(0)),
                default=F("amount") - F("paid_amount"),
            ),
            total=True,
        ),
        Column("status", STATUS, CHOICE, labels=_labels(Bill.Status.choices)),
        Column("due_date", _("Due date"), DATE),
    ),
    default_sort="number",
    count_text=lambda n: ngettext("%(count)s bill", "%(count)s bills", n) % _grouped(n),
    dates=DateRange(
        "month",
        MONTH,
        _("Bill month"),
        periods=(PERIOD_ALL, PERIOD_MONTH, PERIOD_CUSTOM),
    ),
    kelurahan=("kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                Option(
                    "live",
                    _("Not cancelled"),
                    where(~Q(status=Bill.Status.CANCELLED)),
                ),
                Option("unpaid", _("Not fully paid"), where(Q(status__in=_UNPAID))),
                Option(
                    "arrears",
                    _("In arrears (earlier months, not fully paid)"),
                    lambda period: Q(status__in=_UNPAID, month__lt=period.month_start),
                ),
                *choices_of(Bill.Status.choices, "status", ANY_STATUS)[1:],
                Option(ALL, ANY_STATUS),
            ),
            default="live",
        ),
    ),
    filename=_("levy-bills"),
)


# --------------------------------------------------------------------- waste

# The stops a plan's journal event lists: buildings and containers that fit
# a route, not removed by a re-plan.
_ROUTE_STOPS = RouteStop.objects.filter(
    kind__in=[RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER],
    arrival__isnull=False,
).exclude(status=RouteStop.Status.CANCELLED)
_COUNTED_PICKUPS = Pickup.objects.filter(duplicate_of__isnull=True)

ROUTES = ListDef(
    name="routes",
    title=_("Route plans"),
    description=_("Each vehicle's plan for a day, with its stops and pickups."),
    rows=lambda: RoutePlan.objects.all(),
    columns=(
        Column("plan", _("Plan"), ID, source="id"),
        Column("date", _("Date"), DATE),
        Column("vehicle", _("Vehicle"), CODE, source="vehicle__plate_number"),
        Column("status", STATUS, CHOICE, labels=_labels(RoutePlan.Status.choices)),
        Column("revision", _("Revision"), NUMBER),
        Column(
            "stops",
            _("Stops planned"),
            NUMBER,
            _count(_ROUTE_STOPS, "plan"),
            total=True,
        ),
        Column(
            "pickups",
            _("Pickups on the route"),
            NUMBER,
            _count(_COUNTED_PICKUPS, "plan"),
            total=True,
        ),
        Column("trips", _("Trips to unload"), NUMBER),
        Column("distance_m", _("Distance (m)"), NUMBER),
    ),
    default_sort="vehicle",
    count_text=lambda n: (
        ngettext("%(count)s route plan", "%(count)s route plans", n) % _grouped(n)
    ),
    dates=DateRange("date", DATE, _("Plan date"), default=PERIOD_TODAY),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            choices_of(RoutePlan.Status.choices, "status", ANY_STATUS),
        ),
    ),
    filename=_("route-plans"),
)


def _repeats_default(params: Mapping[str, str]) -> str:
    # Every flagged scan needs a decision, repeat scans too, so the review
    # queue lists them. Elsewhere a repeat scan is not counted again.
    review = params.get("review", "")
    return "include" if review and review != ALL else "exclude"


PICKUPS = ListDef(
    name="pickups",
    title=_("Pickups"),
    description=_(
        "Scans of building and container plates by collectors, with their"
        " outcome. Locations and collectors are not listed."
    ),
    rows=lambda: Pickup.objects.all(),
    columns=(
        Column("pickup", _("Pickup"), ID, source="id"),
        Column("scanned_at", _("Scanned at"), DATETIME),
        Column(
            "kelurahan",
            KELURAHAN,
            source=Coalesce("building__kelurahan__name", "container__kelurahan__name"),
        ),
        Column(
            "point",
            _("Plate code"),
            CODE,
            Coalesce("building__plate_code", "container__plate_code"),
        ),
        Column(
            "point_kind",
            _("Collected from"),
            CHOICE,
            Case(
                When(building__isnull=False, then=Value("building")),
                default=Value("container"),
            ),
            labels={"building": _("Building"), "container": _("Container")},
        ),
        Column("outcome", _("Outcome"), CHOICE, labels=_labels(Pickup.Outcome.choices)),
        Column(
            "category",
            _("Sorting group"),
            CHOICE,
            labels=_labels(SortingGroup.choices),
        ),
        Column("weight_g", _("Weight (g)"), NUMBER),
        Column("volume_l", _("Volume (litres)"), NUMBER),
        Column("distance_m", _("Distance from plate (m)"), NUMBER),
        Column("review", _("Review"), CHOICE, labels=_labels(Pickup.Review.choices)),
        Column("flags", _("Flags"), CODE),
        Column("plan", _("Plan"), ID, source="plan_id"),
        Column("vehicle", _("Vehicle"), CODE, source="vehicle__plate_number"),
        Column("repeat_of", _("Repeat of"), ID, source="duplicate_of_id"),
        Column("entry", _("Journal entry"), ID, source="journal_seq"),
    ),
    default_sort="-scanned_at",
    count_text=lambda n: (
        ngettext("%(count)s pickup", "%(count)s pickups", n) % _grouped(n)
    ),
    dates=DateRange("scanned_at", DATETIME, _("Scanned")),
    kelurahan=("building__kelurahan__code", "container__kelurahan__code"),
    choices=(
        ChoiceFilter(
            "outcome",
            _("Outcome"),
            choices_of(Pickup.Outcome.choices, "outcome", _("Any outcome")),
        ),
        ChoiceFilter(
            "category",
            _("Sorting group"),
            choices_of(SortingGroup.choices, "category", _("Any sorting group")),
        ),
        ChoiceFilter(
            "kind",
            _("Collected from"),
            (
                Option(ALL, _("Buildings and containers")),
                Option("building", _("Buildings"), where(Q(building__isnull=False))),
                Option("container", _("Containers"), where(Q(container__isnull=False))),
            ),
        ),
        ChoiceFilter(
            "review",
            _("Review"),
            choices_of(Pickup.Review.choices, "review", _("Any review state")),
        ),
        ChoiceFilter(
            "route",
            _("Route"),
            (
                Option(ALL, _("On a route plan or not")),
                Option("planned", _("On a route plan"), where(Q(plan__isnull=False))),
                Option("unplanned", _("Not on a route plan"), where(Q(plan=None))),
            ),
        ),
        ChoiceFilter(
            "repeats",
            _("Repeat scans"),
            (
                Option(
                    "exclude",
                    _("Left out (not counted again)"),
                    where(Q(duplicate_of__isnull=True)),
                ),
                Option("include", _("Included")),
                Option(
                    "only",
                    _("Only repeat scans"),
                    where(Q(duplicate_of__isnull=False)),
                ),
            ),
            default=_repeats_default,
        ),
    ),
    filename=_("pickups"),
)

_FILL_ALERTS = Alert.objects.filter(
    kind=Alert.Kind.FILL_THRESHOLD, container=OuterRef("pk")
)
# Waiting for collection: the sensor crossed the threshold (which opens an
# alert and journals the crossing) and no counted collection came after it.
# NOTE: the rollup follows journal order but this follows the times, so a
# pickup scanned offline before a crossing and synced after it counts differently.
_WAITING = Q(last_emptied_at__isnull=True, crossed=True) | Q(crossed_since=True)


def _containers() -> QuerySet[Container]:
    return Container.objects.annotate(
        crossed=Exists(_FILL_ALERTS),
        crossed_since=Exists(
            _FILL_ALERTS.filter(opened_at__gt=OuterRef("last_emptied_at"))
        ),
    )


CONTAINERS = ListDef(
    name="containers",
    title=_("Containers"),
    description=_("TPS containers with their latest fill level."),
    rows=_containers,
    columns=(
        Column("plate_code", _("Plate code"), CODE),
        Column("name", _("Name")),
        Column("site", _("Site"), CODE, source="site__code"),
        Column("kelurahan", KELURAHAN, source="kelurahan__name"),
        Column(
            "waste",
            _("Stored waste"),
            CHOICE,
            "stored_waste_kind",
            labels=_labels(SortingGroup.choices),
        ),
        Column("fill_level", _("Fill level"), PERCENT),
        Column("threshold", _("Threshold"), PERCENT, source="fill_threshold"),
        Column("observed_at", _("Fill observed at"), DATETIME, "fill_observed_at"),
        Column("last_emptied_at", _("Last emptied at"), DATETIME),
        Column(
            "status",
            _("Sensor status"),
            CHOICE,
            labels=_labels(Container.Status.choices),
        ),
    ),
    default_sort="plate_code",
    count_text=lambda n: (
        ngettext("%(count)s container", "%(count)s containers", n) % _grouped(n)
    ),
    kelurahan=("kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            pgettext_lazy("container waiting for collection", "Collection"),
            (
                Option(ALL, _("Any fill level")),
                Option(
                    "above",
                    _("Above the threshold, waiting for collection"),
                    where(_WAITING),
                ),
                Option("below", _("Not waiting for collection"), where(~_WAITING)),
            ),
        ),
        ChoiceFilter(
            "kind",
            _("Stored waste"),
            choices_of(SortingGroup.choices, "stored_waste_kind", ANY_KIND),
        ),
    ),
    filename=_("containers"),
)

REPORTS = ListDef(
    name="reports",
    title=_("Citizen reports"),
    description=_(
        "Citizen waste reports by number. Descriptions, photos, places and"
        " reporters are not listed."
    ),
    rows=lambda: Report.objects.all(),
    columns=(
        Column("report", _("Report"), ID, source="id"),
        Column("kind", KIND, CHOICE, labels=_labels(Kind.choices)),
        Column("status", STATUS, CHOICE, labels=_labels(Status.choices)),
        Column("kelurahan", KELURAHAN, source="kelurahan__name"),
        Column("filed_at", _("Filed at"), DATETIME, source="created_at"),
        Column("due_at", _("Due by"), DATETIME, source="sla_due_at"),
        Column("closed_at", _("Closed at"), DATETIME, source="resolved_at"),
    ),
    default_sort="-filed_at",
    count_text=lambda n: (
        ngettext("%(count)s report", "%(count)s reports", n) % _grouped(n)
    ),
    dates=DateRange("created_at", DATETIME, _("Filed")),
    kelurahan=("kelurahan__code",),
    choices=(
        ChoiceFilter(
            "status",
            STATUS,
            (
                Option(ALL, ANY_STATUS),
                Option(
                    "open",
                    pgettext_lazy("reports still open", "Open"),
                    where(Q(status__in=OPEN_STATUSES)),
                ),
                Option(
                    "overdue",
                    _("Open and past the SLA"),
                    lambda period: Q(
                        status__in=OPEN_STATUSES, sla_due_at__lt=period.now
                    ),
                ),
                Option("closed", _("Closed"), where(Q(status__in=CLOSED_STATUSES))),
                *choices_of(Status.choices, "status", ANY_STATUS)[1:],
            ),
        ),
        ChoiceFilter("kind", KIND, choices_of(Kind.choices, "kind", ANY_KIND)),
    ),
    filename=_("citizen-reports"),
)


LISTS: dict[str, ListDef] = {
    definition.name: definition
    for definition in (
        BUILDINGS,
        HOUSEHOLDS,
        PLATES,
        WALLETS,
        TRANSFERS,
        BILLS,
        ROUTES,
        PICKUPS,
        CONTAINERS,
        REPORTS,
    )
}

# Every parameter some list reads. A list rejects those of them it does not read.
KNOWN_PARAMS: frozenset[str] = frozenset(
    param for definition in LISTS.values() for param in definition.params
)
