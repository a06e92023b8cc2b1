"""The demo city's waste activity: waste bank deposits, today's routes, pickups.

Runs after the demo waste system (`demo.waste`) and the demo wallets. The
build opens the bank sampah with their deposits, plans today's routes and
records the pickups of every stop whose planned arrival has passed. It also
plans and records, in full, the routes of the last day before today with
collections, so a city built before the first stop of the day still shows a
day of pickups. While
`kotacerdas run` runs, the worker job "demo-crews" goes on recording the
stops that fall due, so pickups accumulate during the day.

Every pickup goes through `waste.pickups.record_pickup` as a member of the
stop's crew, with a client id made of the plan's date and the stop's id, so
running the build or the job again records nothing twice. What a stop gets
is drawn from a random generator seeded with the demo seed and the stop's
id, so the same database always gets the same pickups.
"""

import logging
import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from kotacerdas.demo.generator import DEFAULT_SEED
from kotacerdas.demo.waste import DEMO_COLLECTOR
from kotacerdas.registry.models import Building, Plate
from kotacerdas.registry.plates import plate_url
from kotacerdas.waste.bank import demo as bank_demo
from kotacerdas.waste.container_plates import container_plate_url
from kotacerdas.waste.models import Pickup, RoutePlan, RouteStop, SortingGroup
from kotacerdas.waste.pickups import (
    ACTIVE_PLAN_STATUSES,
    PickupConflict,
    PickupInput,
    PickupInvalid,
    record_pickup,
)
from kotacerdas.waste.planning import plan_day
from kotacerdas.waste.planning_problem import schedules_on

logger = logging.getLogger(__name__)

# How far back the build looks for the previous day with collections.
PREVIOUS_DAY_SEARCH_DAYS = 7
# A short search keeps the demo build fast: the `city` demo plans about 60
# routes of up to 120 buildings each. The route-planning job uses
# KOTACERDAS_ROUTING_TIME_LIMIT_S for the days after.
PLAN_TIME_LIMIT_S = 1.0
CREWS_JOB_INTERVAL_S = 30.0
# At most this many stops per job run, so a worker started late in the day
# catches up over several runs instead of holding up the other jobs.
MAX_STOPS_PER_RUN = 200
ACTOR = "demo"

# Shares of building stops: nothing put out, and scans far from the plate's
# point (a GPS fix taken down the street). Estimates for a plausible day.
NOT_OUT_SHARE = 0.05
FAR_SHARE = 0.03
SORTED_ORGANIC_SHARE = 0.15
# A crew scans 0 to 5 minutes after the planned arrival.
SCAN_DELAY_MAX_S = 300
GPS_NOISE_M = 12
FAR_OFFSET_M = (250, 600)
# The one repeated scan of the day: the demo collector scans the first
# container of the route twice, this many seconds apart.
REPEAT_DELAY_S = 40
METRES_PER_DEGREE = 111_320
# Waste per stop relative to the planner's estimate, which counts only the
# registered people: shops and stalls put out more than a house of the same
# size, offices and mosques less. Guesses, not survey figures.
USE_FACTORS: dict[str, float] = {
    Building.Use.HOUSE: 1.0,
    Building.Use.SHOP_HOUSE: 1.4,
    Building.Use.SHOP: 1.6,
    Building.Use.MARKET_STALL: 2.5,
    Building.Use.OFFICE: 0.8,
    Building.Use.SCHOOL: 1.5,
    Building.Use.WORSHIP: 0.6,
    Building.Use.PUBLIC: 1.0,
    Building.Use.OTHER: 1.0,
}
# Reasons as a collector in Padang Panjang would type them, in Indonesian.
NOT_OUT_REASONS = (
    "Tidak ada sampah di depan rumah",
    "Pagar terkunci, penghuni tidak ada",
    "Sampah belum dikeluarkan saat petugas lewat",
)
ROUTE_KINDS = (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)


@dataclass
class PickupCounts:
    """Pickups a run recorded, by what happened; `failed` counts rejected stops."""

    collected: int = 0
    not_out: int = 0
    far: int = 0
    repeats: int = 0
    failed: int = 0

    @property
    def recorded(self) -> int:
        return self.collected + self.not_out + self.repeats

    def add(self, pickup: Pickup) -> None:
        if pickup.duplicate_of_id is not None:
            self.repeats += 1
        elif pickup.outcome == Pickup.Outcome.COLLECTED:
            self.collected += 1
        else:
            self.not_out += 1
        if "far" in pickup.flags.split(","):
            self.far += 1


@dataclass
class ActivitySummary:
    """Counts of what the demo waste activity build wrote, with the planning time."""

    banks: bank_demo.BankSummary
    plans: int = 0
    planning_s: float = 0.0
    pickups: PickupCounts = field(default_factory=PickupCounts)
    previous_day: date | None = None
    previous_plans: int = 0
    previous_pickups: PickupCounts = field(default_factory=PickupCounts)

    def result_lines(self) -> list[str]:
        planned = f"Planned {self.plans} routes for today"
        if self.previous_day is not None:
            planned += f" and {self.previous_plans} for {self.previous_day}"
        lines = [
            self.banks.result_line(),
            f"{planned} in {self.planning_s:.0f} s.",
            _counts_line("pickups of today's stops already due", self.pickups),
        ]
        if self.previous_day is not None:
            lines.append(
                _counts_line(
                    f"pickups of every stop on {self.previous_day}",
                    self.previous_pickups,
                )
            )
        return lines


def _counts_line(subject: str, counts: PickupCounts) -> str:
    return (
        f"Recorded {counts.recorded} {subject}: "
        f"{counts.collected} collected, {counts.not_out} with nothing put out, "
        f"{counts.far} scanned far from the plate, {counts.repeats} repeated."
    )


def build(
    seed: int = DEFAULT_SEED,
    *,
    time_limit_s: float = PLAN_TIME_LIMIT_S,
    now: datetime | None = None,
) -> ActivitySummary:
    """Open the demo waste banks, plan and record the previous day and today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(f"{seed}:waste-banks")  # noqa: S311  (demo data)
    summary = ActivitySummary(banks=bank_demo.seed(rng))

    started = time.monotonic()
    previous = previous_service_day(today)
    if previous is not None:
        summary.previous_day = previous
        summary.previous_plans = len(
            plan_day(previous, time_limit_s=time_limit_s, actor=ACTOR)
        )
    summary.plans = len(plan_day(today, time_limit_s=time_limit_s, actor=ACTOR))
    summary.planning_s = time.monotonic() - started

    if previous is not None:
        summary.previous_pickups = record_due_pickups(seed, now=now, day=previous)
    summary.pickups = record_due_pickups(seed, now=now)
    logger.info(
        "demo waste activity: %s plans in %.1f s, %s pickups today,"
        " %s plans and %s pickups on %s",
        summary.plans,
        summary.planning_s,
        summary.pickups.recorded,
        summary.previous_plans,
        summary.previous_pickups.recorded,
        previous,
    )
    return summary


def previous_service_day(today: date) -> date | None:
    """Return the last day before `today`, up to a week back, with collections."""
    for days_back in range(1, PREVIOUS_DAY_SEARCH_DAYS + 1):
        day = today - timedelta(days=days_back)
        if schedules_on(day):
            return day
    return None


# ------------------------------------------------------------------ pickups


def record_due_pickups(
    seed: int = DEFAULT_SEED,
    *,
    now: datetime | None = None,
    max_stops: int | None = None,
    day: date | None = None,
) -> PickupCounts:
    """Record a pickup for each demo crew stop of `day` that has fallen due.

    `day` is today by default. A stop falls due when its scan time (planned
    arrival plus a few minutes) has passed, so every stop of an earlier day
    is due. Stops already done or marked not collected are skipped, so a
    stop scanned on the collector's phone keeps that scan. A stop whose
    pickup is rejected is logged with its id and counted in `failed`.
    `max_stops` limits how many stops are scanned.
    """
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    repeat_stop_id = _repeat_stop_id(day)
    counts = PickupCounts()
    collectors: dict[int, Any] = {}
    scanned_stops = 0
    for stop in _open_stops(day, now):
        if max_stops is not None and scanned_stops >= max_stops:
            break
        rng = random.Random(f"{seed}:pickup:{stop.pk}")  # noqa: S311  (demo data)
        scans = _scans(stop, rng, repeat=stop.pk == repeat_stop_id)
        if not scans or _scan_time(scans[-1]) > now:
            continue
        collector = collectors.get(stop.plan_id)
        if collector is None:
            collector = collectors[stop.plan_id] = _crew_collector(stop.plan)
        for request in scans:
            _record(request, collector, stop, counts, now)
        scanned_stops += 1
    return counts


def demo_crew_plans(day: date) -> QuerySet[RoutePlan]:
    """Return the plans of `day` driven by crews the demo built.

    Demo crews are those with a member the demo created: `collector` or
    `collector-NN` (see `demo.waste`). The job leaves every other crew alone.
    """
    demo_member = Q(crew__members__username=DEMO_COLLECTOR) | Q(
        crew__members__username__regex=r"^collector-[0-9]+$"
    )
    return RoutePlan.objects.filter(
        demo_member, date=day, status__in=ACTIVE_PLAN_STATUSES
    ).distinct()


def _open_stops(day: date, now: datetime) -> QuerySet[RouteStop]:
    stops = RouteStop.objects.filter(
        plan__in=demo_crew_plans(day),
        kind__in=ROUTE_KINDS,
        status=RouteStop.Status.PLANNED,
        arrival__isnull=False,
    )
    local_now = timezone.localtime(now)
    if day >= local_now.date():
        stops = stops.filter(arrival__lte=local_now.time())
    return stops.select_related("plan", "building", "container").order_by(
        "arrival", "plan_id", "sequence"
    )


def _repeat_stop_id(day: date) -> int | None:
    """Return the stop scanned twice today: the demo collector's first container."""
    stop = (
        RouteStop.objects.filter(
            plan__in=demo_crew_plans(day).filter(
                crew__members__username=DEMO_COLLECTOR
            ),
            kind=RouteStop.Kind.CONTAINER,
            arrival__isnull=False,
        )
        .exclude(status=RouteStop.Status.CANCELLED)
        .order_by("plan__shift_start", "plan_id", "sequence")
        .first()
    )
    return stop.pk if stop else None


def _crew_collector(plan: RoutePlan) -> Any:
    """Return the crew member who scans: the demo collector, else the first by id."""
    # Demo crew plans are found through their crew's members, so crew is set.
    assert plan.crew is not None
    members = plan.crew.members.order_by("id")
    return members.filter(username=DEMO_COLLECTOR).first() or members.first()


def _record(
    request: PickupInput,
    collector: Any,
    stop: RouteStop,
    counts: PickupCounts,
    now: datetime,
) -> None:
    try:
        recorded = record_pickup(request, collector, now=now)
    except (PickupInvalid, PickupConflict) as error:
        counts.failed += 1
        logger.warning(
            "demo pickup of stop %s (plan %s) rejected: %s",
            stop.pk,
            stop.plan_id,
            error,
            extra={"stop_id": stop.pk, "plan_id": stop.plan_id},
        )
        return
    if recorded.created:
        counts.add(recorded.pickup)


# ----------------------------------------------------------- what is scanned


def _scans(stop: RouteStop, rng: random.Random, *, repeat: bool) -> list[PickupInput]:
    """Return the stop's scan requests in time order; none when it has no plate."""
    plate = _plate_text(stop)
    if plate is None:
        logger.warning(
            "demo pickup of stop %s skipped: its point has no plate",
            stop.pk,
            extra={"stop_id": stop.pk},
        )
        return []
    assert stop.arrival is not None
    arrival = timezone.make_aware(datetime.combine(stop.plan.date, stop.arrival))
    scanned_at = arrival + timedelta(seconds=rng.randint(0, SCAN_DELAY_MAX_S))
    client_id = f"demo-{stop.plan.date:%Y%m%d}-{stop.pk}"

    draw = rng.random()
    not_out = stop.kind == RouteStop.Kind.BUILDING and draw < NOT_OUT_SHARE
    far = not not_out and draw >= 1 - FAR_SHARE
    offset_m = rng.uniform(*FAR_OFFSET_M) if far else rng.uniform(0, GPS_NOISE_M)
    lat, lng = _moved(float(stop.lat), float(stop.lng), offset_m, rng)
    first = PickupInput(
        client_id=client_id,
        plate=plate,
        outcome=Pickup.Outcome.NOT_OUT if not_out else Pickup.Outcome.COLLECTED,
        scanned_at=scanned_at,
        category=_category(stop, rng),
        lat=lat,
        lng=lng,
        accuracy_m=rng.randint(4, 15),
        weight_kg=None if not_out else _weight_kg(stop, rng),
        reason=rng.choice(NOT_OUT_REASONS) if not_out else "",
    )
    if not repeat or not_out:
        return [first]
    again = PickupInput(
        client_id=f"{client_id}-again",
        plate=plate,
        outcome=Pickup.Outcome.COLLECTED,
        scanned_at=scanned_at + timedelta(seconds=REPEAT_DELAY_S),
        lat=lat,
        lng=lng,
        accuracy_m=first.accuracy_m,
    )
    return [first, again]


def _scan_time(request: PickupInput) -> datetime:
    assert isinstance(request.scanned_at, datetime)
    return request.scanned_at


def _plate_text(stop: RouteStop) -> str | None:
    """Return the signed QR text of the stop's plate, as the phone reads it."""
    if stop.container is not None:
        return (
            container_plate_url(stop.container) if stop.container.plate_code else None
        )
    if stop.building is None:
        return None
    plate = (
        Plate.objects.filter(building=stop.building)
        .exclude(status=Plate.Status.REVOKED)
        .order_by("-id")
        .first()
    )
    return plate_url(plate.code, plate.key_id, plate.signature) if plate else None


def _moved(
    lat: float, lng: float, distance_m: float, rng: random.Random
) -> tuple[str, str]:
    """Return the point `distance_m` away in a random direction, to 6 decimals."""
    bearing = rng.uniform(0, 2 * math.pi)
    north_m = distance_m * math.cos(bearing)
    east_m = distance_m * math.sin(bearing)
    new_lat = lat + north_m / METRES_PER_DEGREE
    new_lng = lng + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return f"{new_lat:.6f}", f"{new_lng:.6f}"


def _category(stop: RouteStop, rng: random.Random) -> str:
    if stop.kind == RouteStop.Kind.BUILDING and rng.random() < SORTED_ORGANIC_SHARE:
        return SortingGroup.ORGANIC
    return SortingGroup.MIXED


def _weight_kg(stop: RouteStop, rng: random.Random) -> str:
    """Return a plausible weight around the planner's estimate, in kg to 3 decimals.

    The estimate of a building is for its registered people, so it is scaled
    by the building's use; a container's is its last fill level.
    """
    if stop.building is not None:
        factor = USE_FACTORS.get(stop.building.use, 1.0) * rng.uniform(0.6, 1.3)
        grams = round(max(stop.demand_kg, 2) * factor * 1000)
    else:
        grams = round(max(stop.demand_kg, 50) * rng.uniform(0.7, 1.05) * 1000)
    return f"{grams // 1000}.{grams % 1000:03d}"


# ------------------------------------------------------------------- worker


def run_demo_crews(now: datetime | None = None) -> int:
    """Record the demo crews' pickups that fell due; return how many were recorded.

    Does nothing unless KOTACERDAS_DEMO_CREWS is on, which `kotacerdas run`
    sets when it runs the demo city. Plans for a new day come from the
    route-planning job; until they exist this job finds no stops.
    """
    if not settings.KOTACERDAS_DEMO_CREWS:
        return 0
    counts = record_due_pickups(DEFAULT_SEED, now=now, max_stops=MAX_STOPS_PER_RUN)
    if counts.recorded or counts.failed:
        logger.info(
            "demo crews recorded %s pickups (%s rejected)",
            counts.recorded,
            counts.failed,
        )
    return counts.recorded


def register() -> None:
    """Register the demo-crews worker job (called from the demo app's ready())."""
    from kotacerdas.journal.worker import register_job

    register_job("demo-crews", run_demo_crews, CREWS_JOB_INTERVAL_S)
