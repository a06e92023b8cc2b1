"""Daily route plans per vehicle from the schedules and full containers; re-plans.

`plan_day` plans every scheduled vehicle of a day and `replan` re-solves one
plan during the day. Both solve outside any transaction (solving takes
seconds), then write the plan, its stops and one `waste.route.planned` event
per plan in one transaction. A stop the solver could not fit stays on the plan
with no arrival time, so no stop is lost: the route page lists it as not fitted.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kotacerdas.journal import services as journal
from kotacerdas.waste.events import RoutePlanned
from kotacerdas.waste.models import Crew, RoutePlan, RouteStop, Schedule, Vehicle
from kotacerdas.waste.planning_problem import (
    Target,
    area_targets,
    clock_of,
    nearest_index,
    over_threshold_containers,
    schedules_on,
    seconds_of,
)
from kotacerdas.waste.planning_solve import SolvedRoute, solve_vehicle_route

logger = logging.getLogger(__name__)

PLAN_JOB_INTERVAL_S = 20.0
# One run of the route-planning job stops starting new solves after this many
# seconds, so the single worker thread also gets to seal journal blocks. Each
# run plans at least one vehicle, and one solve takes at most about
# KOTACERDAS_ROUTING_TIME_LIMIT_S.
PLAN_JOB_BUDGET_S = 5.0
# A vehicle-day with more stops than this is solved over the first this many
# (containers first, then buildings by id); the rest stay on the plan as not
# fitted. PyVRP 0.14 checks its time limit only between local searches, and one
# search over about 1,000 stops ran for minutes, so the cap bounds a solve.
MAX_STOPS_PER_ROUTE = 300
UNAVAILABLE = (Vehicle.Status.BROKEN, Vehicle.Status.OUT_OF_SERVICE)
ROUTE_KINDS = (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)
FINISHED = (RouteStop.Status.DONE, RouteStop.Status.EXCEPTION)


class PlanningInvalid(ValueError):
    """A planning request failed; `field` names the input and the message the fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# Why a scheduled crew got no plan: codes in logs, words on pages.
SKIP_REASONS = {
    "crew_inactive": gettext_lazy("the crew is inactive"),
    "no_vehicle": gettext_lazy("the crew has no vehicle"),
    "vehicle_unavailable": gettext_lazy("its vehicle is broken or out of service"),
    "no_stops": gettext_lazy("no buildings or containers in the crew's area"),
}


@dataclass(frozen=True)
class SkippedCrew:
    """A scheduled crew or vehicle that got no plan, and why (a SKIP_REASONS code)."""

    crew_id: int
    vehicle_id: int | None
    reason: str

    @property
    def message(self) -> str:
        return str(SKIP_REASONS.get(self.reason, self.reason))


class DayPlans(list[RoutePlan]):
    """The plans of a day.

    `skipped` lists the crews that got none, and `pending` the ids of vehicles
    left unplanned because the time budget ran out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[SkippedCrew] = []
        self.pending: list[int] = []


@dataclass
class ReplanResult:
    """The plans a re-plan wrote, and the stops no vehicle could take."""

    plans: list[RoutePlan] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)


@dataclass
class _VehicleDay:
    vehicle: Vehicle
    crew: Crew
    shift: tuple[int, int]
    targets: dict[str, Target] = field(default_factory=dict)


def _actor(actor: Any) -> str | None:
    if actor is None or isinstance(actor, str):
        return actor or None
    return f"user:{actor.pk}" if getattr(actor, "pk", None) else None


def _time_limit(time_limit_s: float | None) -> float:
    return time_limit_s or settings.KOTACERDAS_ROUTING_TIME_LIMIT_S


# ------------------------------------------------------------------- plan_day


def plan_day(
    day: date,
    *,
    vehicles: Iterable[Vehicle | int] | None = None,
    time_limit_s: float | None = None,
    budget_s: float | None = None,
    actor: Any = None,
) -> DayPlans:
    """Plan each scheduled vehicle of `day` that has no plan yet.

    A vehicle that already has a plan for the day keeps it, and that plan is
    returned as it is. Crews without a usable vehicle are listed in `skipped`.
    `vehicles` limits the planning to those vehicles. With `budget_s`, no new
    solve starts once that many seconds have passed (at least one vehicle is
    planned), and the vehicles left are listed in `pending`.
    """
    started = time.monotonic()
    vehicle_ids = None
    if vehicles is not None:
        vehicle_ids = {v.pk if isinstance(v, Vehicle) else v for v in vehicles}
    result = DayPlans()
    days = _vehicle_days(day, schedules_on(day), vehicle_ids, result.skipped)
    existing = {
        plan.vehicle_id: plan
        for plan in RoutePlan.objects.filter(date=day, vehicle_id__in=list(days))
    }
    result.extend(existing.values())
    to_plan = [days[v] for v in days if v not in existing]
    for key in _add_full_containers(day, to_plan):
        logger.warning(
            "full container %s left out of the plans of %s: no vehicle can carry it",
            key,
            day,
            extra={"container_key": key},
        )

    solved_any = False
    for vehicle_day in to_plan:
        if not vehicle_day.targets:
            _skip(result.skipped, vehicle_day.crew, "no_stops")
            continue
        if (
            budget_s is not None
            and solved_any
            and time.monotonic() - started >= budget_s
        ):
            result.pending.append(vehicle_day.vehicle.pk)
            continue
        solved = _solve_within_cap(day, vehicle_day, _time_limit(time_limit_s))
        solved_any = True
        result.append(_store_new_plan(day, vehicle_day, solved, actor))
    return result


def _solve_within_cap(
    day: date, vehicle_day: _VehicleDay, time_limit_s: float
) -> SolvedRoute:
    """Solve the vehicle's first MAX_STOPS_PER_ROUTE targets; the rest are not fitted."""
    targets = sorted(
        vehicle_day.targets.values(),
        key=lambda target: (target.is_building, target.object_id),
    )
    kept, over = targets[:MAX_STOPS_PER_ROUTE], targets[MAX_STOPS_PER_ROUTE:]
    if over:
        logger.warning(
            "vehicle %s has %s stops on %s, more than the %s one route may have; "
            "%s stops stay not fitted. Split its schedules into smaller areas.",
            vehicle_day.vehicle.pk,
            len(targets),
            day,
            MAX_STOPS_PER_ROUTE,
            len(over),
            extra={"vehicle_id": vehicle_day.vehicle.pk},
        )
    solved = solve_vehicle_route(
        vehicle_day.vehicle,
        start_point=(vehicle_day.vehicle.depot.lat, vehicle_day.vehicle.depot.lng),
        shift=vehicle_day.shift,
        targets=kept,
        time_limit_s=time_limit_s,
    )
    for target in over:
        solved.targets[target.key] = target
        solved.unassigned.append(target.key)
    return solved


def _skip(skipped: list[SkippedCrew], crew: Crew, reason: str) -> None:
    vehicle_id = crew.vehicle_id
    logger.info(
        "skipped crew %s (vehicle %s) in route planning: %s",
        crew.pk,
        vehicle_id,
        reason,
        extra={"crew_id": crew.pk, "vehicle_id": vehicle_id},
    )
    skipped.append(SkippedCrew(crew.pk, vehicle_id, reason))


def _vehicle_days(
    day: date,
    schedules: Sequence[Schedule],
    vehicle_ids: set[int] | None,
    skipped: list[SkippedCrew],
) -> dict[int, _VehicleDay]:
    """Group the day's schedules by vehicle, skipping crews that cannot drive."""
    days: dict[int, _VehicleDay] = {}
    for schedule in schedules:
        crew = schedule.crew
        vehicle = crew.vehicle
        if vehicle_ids is not None and (
            vehicle is None or vehicle.pk not in vehicle_ids
        ):
            continue
        if not crew.active:
            _skip(skipped, crew, "crew_inactive")
            continue
        if vehicle is None:
            _skip(skipped, crew, "no_vehicle")
            continue
        if not vehicle.active or vehicle.status in UNAVAILABLE:
            _skip(skipped, crew, "vehicle_unavailable")
            continue
        shift = (seconds_of(schedule.shift_start), seconds_of(schedule.shift_end))
        vehicle_day = days.setdefault(vehicle.pk, _VehicleDay(vehicle, crew, shift))
        vehicle_day.shift = (
            min(vehicle_day.shift[0], shift[0]),
            max(vehicle_day.shift[1], shift[1]),
        )
        for target in area_targets(schedule, day):
            vehicle_day.targets.setdefault(target.key, target)
    return days


def _planned_keys(day: date) -> set[str]:
    """Return the building and container keys already on a live stop of `day`."""
    stops = RouteStop.objects.filter(plan__date=day, kind__in=ROUTE_KINDS).exclude(
        status=RouteStop.Status.CANCELLED
    )
    keys = set()
    for building_id, container_id in stops.values_list("building_id", "container_id"):
        keys.add(f"b:{building_id}" if building_id else f"c:{container_id}")
    return keys


def _add_full_containers(day: date, vehicle_days: Sequence[_VehicleDay]) -> list[str]:
    """Give each full container to the nearest vehicle that can carry it.

    Returns the keys of full containers no vehicle can carry.
    """
    if not vehicle_days:
        return []
    covered = _planned_keys(day)
    for vehicle_day in vehicle_days:
        covered.update(vehicle_day.targets)
    left_out = []
    for target in over_threshold_containers(covered):
        able = [d for d in vehicle_days if d.vehicle.capacity_kg >= target.demand_kg]
        homes = [_home_points(d) for d in able]
        index = nearest_index(target, homes)
        if index is None:
            left_out.append(target.key)
            continue
        able[index].targets[target.key] = target
    return left_out


def _home_points(vehicle_day: _VehicleDay) -> list[tuple[Decimal, Decimal]]:
    depot = vehicle_day.vehicle.depot
    points = [(depot.lat, depot.lng)]
    points += [(t.lat, t.lng) for t in vehicle_day.targets.values()]
    return points


# ------------------------------------------------------------ writing stops


def _new_stop(plan: RoutePlan, sequence: int, trip: int, **fields: Any) -> RouteStop:
    return RouteStop(
        plan=plan, sequence=sequence, trip=trip, revision=plan.revision, **fields
    )


def _target_stop(
    plan: RoutePlan, sequence: int, trip: int, target: Target, arrival_s: int | None
) -> RouteStop:
    kind = RouteStop.Kind.BUILDING if target.is_building else RouteStop.Kind.CONTAINER
    owner = "building_id" if target.is_building else "container_id"
    window = target.window
    return _new_stop(
        plan,
        sequence,
        trip,
        kind=kind,
        **{owner: target.object_id},
        lat=target.lat,
        lng=target.lng,
        arrival=None if arrival_s is None else clock_of(arrival_s),
        window_start=clock_of(window[0]) if window else None,
        window_end=clock_of(window[1]) if window else None,
        service_s=target.service_s,
        demand_kg=target.demand_kg,
    )


def _route_stops(
    plan: RoutePlan,
    solved: SolvedRoute,
    *,
    first_sequence: int,
    trip_offset: int,
    unassigned: Sequence[Target],
) -> list[RouteStop]:
    """Build the stops of a solved route: visits, unloads, the depot, then stops not fitted."""
    depot = plan.vehicle.depot
    stops = []
    sequence = first_sequence
    last_trip = trip_offset + 1
    route = solved.route
    for visit in route.visits if route else []:
        last_trip = trip_offset + visit.trip
        if visit.kind == "unload":
            site = solved.sites_by_location[visit.location]
            stops.append(
                _new_stop(
                    plan,
                    sequence,
                    last_trip,
                    kind=RouteStop.Kind.UNLOAD,
                    site=site,
                    lat=site.lat,
                    lng=site.lng,
                    arrival=clock_of(visit.arrival_s),
                    service_s=site.service_minutes * 60,
                )
            )
        else:
            target = solved.targets[visit.ref]
            stops.append(
                _target_stop(plan, sequence, last_trip, target, visit.arrival_s)
            )
        sequence += 1

    end_s = route.end_s if route else seconds_of(plan.shift_end)
    stops.append(
        _new_stop(
            plan,
            sequence,
            last_trip,
            kind=RouteStop.Kind.DEPOT_END,
            site=depot,
            lat=depot.lat,
            lng=depot.lng,
            arrival=clock_of(end_s),
        )
    )
    for target in unassigned:
        sequence += 1
        stops.append(_target_stop(plan, sequence, last_trip, target, None))
    return stops


def _depot_start(plan: RoutePlan, solved: SolvedRoute) -> RouteStop:
    depot = plan.vehicle.depot
    start_s = solved.route.start_s if solved.route else seconds_of(plan.shift_start)
    return _new_stop(
        plan,
        1,
        1,
        kind=RouteStop.Kind.DEPOT_START,
        site=depot,
        lat=depot.lat,
        lng=depot.lng,
        arrival=clock_of(start_s),
        service_s=depot.service_minutes * 60,
    )


def _journal_plan(plan: RoutePlan, reason: str, actor: Any) -> None:
    live = plan.stops.exclude(status=RouteStop.Status.CANCELLED).filter(
        kind__in=ROUTE_KINDS, arrival__isnull=False
    )
    keys = [
        f"b:{stop.building_id}" if stop.building_id else f"c:{stop.container_id}"
        for stop in live.order_by("sequence")
    ]
    journal.append(
        "waste.route.planned",
        RoutePlanned(
            plan_id=plan.pk,
            date=plan.date.isoformat(),
            vehicle_id=plan.vehicle_id,
            revision=plan.revision,
            engine=plan.engine,
            stops=keys,
            trips=plan.trips,
            distance_m=plan.distance_m,
            reason=reason,
        ),
        actor=_actor(actor),
    )


def _store_new_plan(
    day: date, vehicle_day: _VehicleDay, solved: SolvedRoute, actor: Any
) -> RoutePlan:
    """Write a first plan for the vehicle, or return the one another worker wrote."""
    route = solved.route
    plan = RoutePlan(
        date=day,
        vehicle=vehicle_day.vehicle,
        crew=vehicle_day.crew,
        shift_start=clock_of(vehicle_day.shift[0]),
        shift_end=clock_of(vehicle_day.shift[1]),
        engine=solved.engine,
        distance_m=route.distance_m if route else 0,
        duration_s=route.duration_s if route else 0,
        trips=route.trips if route else 0,
    )
    unassigned = [solved.targets[key] for key in solved.unassigned]
    try:
        with transaction.atomic(durable=True):
            plan.save()
            stops = [_depot_start(plan, solved)]
            stops += _route_stops(
                plan, solved, first_sequence=2, trip_offset=0, unassigned=unassigned
            )
            RouteStop.objects.bulk_create(stops)
            _journal_plan(plan, "scheduled", actor)
    except IntegrityError:
        logger.info(
            "route plan for vehicle %s on %s was written by another worker",
            vehicle_day.vehicle.pk,
            day,
            extra={"vehicle_id": vehicle_day.vehicle.pk},
        )
        return RoutePlan.objects.get(date=day, vehicle=vehicle_day.vehicle)
    logger.info(
        "planned route %s for vehicle %s on %s: %s stops, %s not fitted",
        plan.pk,
        plan.vehicle_id,
        day,
        len(stops),
        len(unassigned),
        extra={"plan_id": plan.pk, "vehicle_id": plan.vehicle_id},
    )
    return plan


# ------------------------------------------------------------------ worker


def unplanned_vehicle_ids(day: date) -> list[int]:
    """Return the vehicles scheduled on `day` that could drive and have no plan.

    Reads only schedules, crews and vehicles, so it is cheap to call often.
    """
    planned = set(
        RoutePlan.objects.filter(date=day).values_list("vehicle_id", flat=True)
    )
    vehicle_ids = set()
    for schedule in schedules_on(day):
        crew = schedule.crew
        vehicle = crew.vehicle
        if not crew.active or vehicle is None or vehicle.pk in planned:
            continue
        if vehicle.active and vehicle.status not in UNAVAILABLE:
            vehicle_ids.add(vehicle.pk)
    return sorted(vehicle_ids)


# Vehicles of a day that the job found with nothing to collect, so later runs
# do not look again. Kept in memory: a restarted worker looks once more.
_no_stops: dict[date, set[int]] = {}


def plan_today_if_missing() -> int:
    """Plan today's vehicles that have no plan yet, a few per run; return plans written.

    Each run solves vehicles until PLAN_JOB_BUDGET_S has passed, at least one,
    so a city of dozens of routes is planned over several runs while the
    worker's other jobs keep running between them.
    """
    today = timezone.localdate()
    for day in [day for day in _no_stops if day != today]:
        del _no_stops[day]
    waiting = [
        vehicle_id
        for vehicle_id in unplanned_vehicle_ids(today)
        if vehicle_id not in _no_stops.get(today, set())
    ]
    if not waiting:
        return 0
    logger.info(
        "route planning started for %s: %s vehicles without a plan", today, len(waiting)
    )
    plans = plan_day(
        today,
        vehicles=waiting,
        budget_s=PLAN_JOB_BUDGET_S,
        actor="worker:route-planning",
    )
    written = [plan for plan in plans if plan.vehicle_id in waiting]
    for skipped in plans.skipped:
        if skipped.reason == "no_stops" and skipped.vehicle_id is not None:
            _no_stops.setdefault(today, set()).add(skipped.vehicle_id)
    logger.info(
        "route planning run finished for %s: %s plans written, %s vehicles left, "
        "%s crews skipped",
        today,
        len(written),
        len(plans.pending),
        len(plans.skipped),
    )
    return len(written)


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
    from kotacerdas.journal.worker import register_job

    register_job("route-planning", plan_today_if_missing, PLAN_JOB_INTERVAL_S)
