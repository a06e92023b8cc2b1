"""Daily route plans per vehicle from the schedules and full containers; re-plans.

`plan_day` plans every scheduled vehicle of a day and `replan` re-solves one
plan during the day. Both solve outside any transaction (solving takes
seconds), then write the plan, its stops and one `waste.route.planned` event
per plan in one transaction. A stop the solver could not fit stays on the plan
with no arrival time, so no stop is lost: the route page lists it as not fitted.
"""

import logging
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

PLAN_JOB_INTERVAL_S = 300.0
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
    """The plans of a day; `skipped` lists the crews that got none."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[SkippedCrew] = []


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
    actor: Any = None,
) -> DayPlans:
    """Plan each scheduled vehicle of `day` that has no plan yet.

    A vehicle that already has a plan for the day keeps it, and that plan is
    returned as it is. Crews without a usable vehicle are listed in `skipped`.
    `vehicles` limits the planning to those vehicles.
    """
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

    for vehicle_day in to_plan:
        if not vehicle_day.targets:
            _skip(result.skipped, vehicle_day.crew, "no_stops")
            continue
        solved = solve_vehicle_route(
            vehicle_day.vehicle,
            start_point=(vehicle_day.vehicle.depot.lat, vehicle_day.vehicle.depot.lng),
            shift=vehicle_day.shift,
            targets=list(vehicle_day.targets.values()),
            time_limit_s=_time_limit(time_limit_s),
        )
        result.append(_store_new_plan(day, vehicle_day, solved, actor))
    return result


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


def plan_today_if_missing() -> int:
    """Plan today's routes when today has no plan at all; return plans written."""
    today = timezone.localdate()
    if RoutePlan.objects.filter(date=today).exists():
        return 0
    if not schedules_on(today):
        return 0
    logger.info("route planning started for %s", today)
    plans = plan_day(today, actor="worker:route-planning")
    logger.info(
        "route planning finished for %s: %s plans, %s crews skipped",
        today,
        len(plans),
        len(plans.skipped),
    )
    return len(plans)


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
    from kotacerdas.journal.worker import register_job

    register_job("route-planning", plan_today_if_missing, PLAN_JOB_INTERVAL_S)
