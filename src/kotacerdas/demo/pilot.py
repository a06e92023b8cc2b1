"""The demo city's pilot: three kelurahan, started 30 days before the build.

Runs after the demo's waste activity. The pilot switches every service on in
three kelurahan (see `choose_kelurahan`), but the city-wide scopes stay
"everywhere", so every other demo page keeps working in the whole city.

The journal never backdates: every event is dated when the demo is built,
which lies inside the trial period. What the build does on that day (wallets,
levy payments, pickups, waste-bank deposits) is the trial's data. On top of
it, this module installs the plates on most pilot buildings and files and
resolves a few missed-pickup reports in the pilot areas, and records the
partner's demo costs against the pilot (`demo.sharing_costs`). Citizens of the
pilot kelurahan then make fee-bearing payments (`demo.pilot_fees`), so the
month's sharing statement shows revenue from every fee. The period before
the pilot has no journal entries, so the baseline comes from invented paper
figures entered through `pilot.baseline`, as a city would enter its own.
"""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from kotacerdas.accounts.models import User
from kotacerdas.demo.pilot_fees import post_fee_activity
from kotacerdas.demo.services import CITIZEN_USERNAME
from kotacerdas.demo.sharing_costs import seed_demo_costs
from kotacerdas.pilot import baseline, services_api
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Service
from kotacerdas.pilot.trial_metrics import UNITS, TrialMetric
from kotacerdas.registry.models import Building
from kotacerdas.registry.services import current_plate, install_plate
from kotacerdas.waste.models import RouteStop
from kotacerdas.waste.reports import services as reports
from kotacerdas.waste.reports.models import Kind, Status

logger = logging.getLogger(__name__)

PILOT_SLUG = "pilot-2026"
PILOT_NAME = "Pilot Kota Cerdas 2026"
# The pilot takes the kelurahan where the crews served most buildings in the
# last week (the demo records the previous day with collections and today so
# far), so that the trial has pickups to show at any hour. These fill the
# places left when fewer than three were served: Ganting (the demo citizen's),
# Pasar Usang (the registry officer's) and Balai-Balai.
PILOT_KELURAHAN = ("13.74.01.1001", "13.74.02.1002", "13.74.02.1006")
PILOT_SIZE = 3
SERVED_SINCE_DAYS = 7
TRIAL_DAYS_SO_FAR = 30
TRIAL_LENGTH_DAYS = 90
# Share of pilot buildings whose plate the crews have installed: an invented
# figure for a pilot's first month.
PLATE_INSTALL_SHARE = 0.6
MISSED_REPORTS_PER_KELURAHAN = 3
RESOLVED_PER_KELURAHAN = 2
# Invented paper figures (low, high) for the month before the pilot, in the
# units a city officer types: percent, a count, hours or kilograms.
PAPER_RANGES: dict[str, tuple[str, str]] = {
    TrialMetric.LEVY_RATE: ("32.0", "48.0"),
    TrialMetric.ON_SCHEDULE: ("68.0", "82.0"),
    TrialMetric.MISSED_REPORTS: ("6", "14"),
    TrialMetric.MISSED_CLOSE_HOURS: ("50.0", "96.0"),
    TrialMetric.BANK_DEPOSITS: ("120.0", "380.0"),
}
PAPER_SOURCE = "Demo: invented figures standing in for the DLH and Bapenda logbooks"


@dataclass
class PilotSummary:
    plates: int = 0
    reports: int = 0
    figures: int = 0
    costs: int = 0
    fee_transfers: int = 0

    def result_line(self) -> str:
        return (
            f"Started the demo pilot {PILOT_SLUG} in {PILOT_SIZE} kelurahan"
            f" {TRIAL_DAYS_SO_FAR} days ago: {self.plates} plates installed,"
            f" {self.reports} missed-pickup reports, {self.figures} paper baseline"
            f" figures, {self.costs} partner costs, {self.fee_transfers}"
            " fee-bearing wallet transfers."
        )


def build(seed: int) -> PilotSummary:
    """Create the demo pilot and its data; a second run changes nothing."""
    summary = PilotSummary()
    if Pilot.objects.filter(slug=PILOT_SLUG).exists():
        return summary
    rng = random.Random(f"{seed}:pilot")  # noqa: S311  (demo data, not secrets)
    codes = choose_kelurahan()
    pilot = _create_pilot(codes)
    summary.figures = _enter_baseline(pilot, codes, rng)
    summary.plates = _install_plates(codes, rng)
    summary.reports = _missed_pickup_reports(codes, rng)
    summary.costs = len(seed_demo_costs(pilot))
    summary.fee_transfers = post_fee_activity(codes, rng).posted
    logger.info("built the demo pilot", extra={"pilot_id": pilot.pk})
    return summary


def choose_kelurahan() -> tuple[str, ...]:
    """Return the pilot's kelurahan codes, sorted."""
    stops = (
        RouteStop.objects.filter(
            plan__date__gte=timezone.localdate() - timedelta(days=SERVED_SINCE_DAYS),
            kind=RouteStop.Kind.BUILDING,
            status=RouteStop.Status.DONE,
        )
        .values("building__kelurahan__code")
        .annotate(n=Count("id"))
        .order_by("-n", "building__kelurahan__code")
    )
    codes = [row["building__kelurahan__code"] for row in stops[:PILOT_SIZE]]
    for code in PILOT_KELURAHAN:
        if len(codes) < PILOT_SIZE and code not in codes:
            codes.append(code)
    return tuple(sorted(codes))


def _create_pilot(codes: tuple[str, ...]) -> Pilot:
    starts_on = timezone.localdate() - timedelta(days=TRIAL_DAYS_SO_FAR)
    data = services_api.PilotInput(
        slug=PILOT_SLUG,
        name=PILOT_NAME,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=TRIAL_LENGTH_DAYS - 1),
        services=list(Service.values),
        areas=list(codes),
        notes="Demo pilot: every service in three kelurahan for three months.",
    )
    return services_api.create_pilot(data)


def _enter_baseline(pilot: Pilot, codes: tuple[str, ...], rng: random.Random) -> int:
    """Import paper figures for the 30 days before the pilot, as a CSV file."""
    end = pilot.starts_on - timedelta(days=1)
    start = end - timedelta(days=TRIAL_DAYS_SO_FAR - 1)
    lines = [",".join(baseline.COLUMNS)]
    rates: dict[str, list[Decimal]] = {}
    for code in codes:
        buildings = Building.objects.filter(kelurahan__code=code).count()
        values = {
            metric: _paper_value(rng, low, high)
            for metric, (low, high) in PAPER_RANGES.items()
        }
        values[TrialMetric.BUILDINGS] = str(buildings)
        for metric, value in values.items():
            lines.append(f"{code},{metric},{start},{end},{value},{PAPER_SOURCE}")
            if not UNITS[metric].additive:
                rates.setdefault(metric, []).append(Decimal(value))
    # Rates of several kelurahan do not add up, so the logbooks' city-level
    # rate for the pilot areas is entered on its own (here the plain mean).
    for metric, parts in rates.items():
        mean = (sum(parts, Decimal(0)) / len(parts)).quantize(Decimal("0.1"))
        lines.append(f",{metric},{start},{end},{mean},{PAPER_SOURCE}")
    return len(baseline.import_csv(pilot, "\n".join(lines) + "\n"))


def _paper_value(rng: random.Random, low: str, high: str) -> str:
    """Draw a value between `low` and `high` with as many decimals as `low`."""
    step = Decimal("0.1") if "." in low else Decimal(1)
    drawn = Decimal(low) + (Decimal(high) - Decimal(low)) * Decimal(rng.random())
    return str(drawn.quantize(step))


def _install_plates(codes: tuple[str, ...], rng: random.Random) -> int:
    installed = 0
    buildings = Building.objects.filter(kelurahan__code__in=codes)
    for building in buildings.order_by("id").iterator():
        if rng.random() >= PLATE_INSTALL_SHARE:
            continue
        plate = current_plate(building)
        if plate is not None:
            install_plate(plate, actor=None)
            installed += 1
    return installed


def _missed_pickup_reports(codes: tuple[str, ...], rng: random.Random) -> int:
    citizen = User.objects.filter(username=CITIZEN_USERNAME).first()
    operator = User.objects.filter(username="operator").first()
    if citizen is None or operator is None:
        return 0
    filed = 0
    for code in codes:
        homes = list(
            Building.objects.filter(kelurahan__code=code, lat__isnull=False)
            .order_by("id")
            .values_list("lat", "lng")[:200]
        )
        for index in range(min(MISSED_REPORTS_PER_KELURAHAN, len(homes))):
            lat, lng = rng.choice(homes)
            data = reports.ReportInput(
                kind=Kind.MISSED_PICKUP,
                description="Sampah rumah kami belum diangkut minggu ini.",
                lat=lat,
                lng=lng,
            )
            try:
                report = reports.file_report(data, citizen)
            except reports.ReportInvalid as error:
                logger.info("demo pilot report rejected: %s", error)
                continue
            filed += 1
            if index < RESOLVED_PER_KELURAHAN:
                _resolve(report.pk, operator)
    return filed


def _resolve(report_id: int, operator: User) -> None:
    reports.assign_report(report_id, operator, operator)
    reports.change_status(report_id, Status.IN_PROGRESS, operator)
    reports.change_status(report_id, Status.RESOLVED, operator, note="Diangkut.")
