"""Re-planning a route during the day: a stop added, a vehicle broken down.

Done stops and stops marked as not collected stay as they are, and so do the
depot start and the unload stops the truck has passed: that part of the day
already happened. Nobody scans an unload, so one counts as passed when it lies
between finished stops, or its planned arrival is before the last pickup
scanned on the route or (today) before now. Every other building or container stop is cancelled and
planned again from the last finished stop at the current time. It goes back on
this plan, or, when this vehicle broke down, on the nearest other vehicle of
the day that is still on shift and can carry it. Only the plans that take stops
are written. A stop no route can take stays on its plan with no arrival time
(not fitted), so none is lost.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.registry.models import Building
from kotacerdas.waste.models import Container, Pickup, RoutePlan, RouteStop, Vehicle
from kotacerdas.waste.places import set_vehicle_status
from kotacerdas.waste.planning import (
    FINISHED,
    ROUTE_KINDS,
    UNAVAILABLE,
    PlanningInvalid,
    ReplanResult,
    _journal_plan,
    _route_stops,
    _target_stop,
    _time_limit,
)
from kotacerdas.waste.planning_problem import (
    Target,
    building_targets,
    container_target,
    local_seconds_now,
    nearest_index,
    over_threshold_containers,
    seconds_of,
)
from kotacerdas.waste.planning_solve import SolvedRoute, solve_vehicle_route
from kotacerdas.waste.routing import distances

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 200


class PlanChanged(PlanningInvalid):
    """The plan changed between reading it and writing the re-plan."""


@dataclass
class _Receiver:
    """A plan that takes stops in this re-plan, as read before solving."""

    plan: RoutePlan
    finished_ids: frozenset[int]
    # The last stop that stays as it is: finished, or an unload passed after it.
    last_kept: RouteStop | None
    # The depot start, finished stops and passed unloads that stay as they are.
    kept: list[RouteStop] = field(default_factory=list)
    # Planned load of the done stops since the last passed unload, in kg.
    carried_kg: int = 0
    # Keys of the plan's own open stops that had an arrival time before.
    fitted_keys: frozenset[str] = frozenset()
    targets: dict[str, Target] = field(default_factory=dict)
    # Keys of the stops this plan takes over from a broken-down vehicle.
    given: set[str] = field(default_factory=set)
    solved: SolvedRoute | None = None
    # Metres and seconds of the kept part, measured before writing.
    kept_travel: tuple[int, int] = (0, 0)


def _stop_target(stop: RouteStop) -> Target:
    key = f"b:{stop.building_id}" if stop.building_id else f"c:{stop.container_id}"
    window = None
    if stop.window_start is not None and stop.window_end is not None:
        window = (seconds_of(stop.window_start), seconds_of(stop.window_end))
    return Target(key, stop.lat, stop.lng, stop.demand_kg, stop.service_s, window)


def _at(day: date, moment: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


def _passed_unloads(
    plan: RoutePlan, live: Sequence[RouteStop], finished: Sequence[RouteStop]
) -> list[RouteStop]:
    """Return the planned unload stops the truck has already passed.

    An unload is never scanned, so it counts as passed when a finished stop
    comes after it, or when no open stop comes before it and its planned
    arrival is before the last pickup scanned at a finished stop of this plan
    or, on today's plan, before now.
    """
    last_sequence = max((stop.sequence for stop in finished), default=0)
    first_open = min(
        (
            stop.sequence
            for stop in live
            if stop.kind in ROUTE_KINDS
            and stop.status == RouteStop.Status.PLANNED
            and stop.arrival is not None
        ),
        default=None,
    )
    passed_at = Pickup.objects.filter(
        stop__in=[stop.pk for stop in finished]
    ).aggregate(last=Max("scanned_at"))["last"]
    if plan.date == timezone.localdate():
        now = timezone.now()
        passed_at = now if passed_at is None else max(passed_at, now)
    elif plan.date < timezone.localdate():
        passed_at = None  # an earlier day: only the stops' order tells
    unloads = []
    for stop in live:
        if stop.kind != RouteStop.Kind.UNLOAD or stop.status in FINISHED:
            continue
        if stop.sequence < last_sequence or (
            (first_open is None or stop.sequence < first_open)
            and stop.arrival is not None
            and passed_at is not None
            and _at(plan.date, stop.arrival) <= passed_at
        ):
            unloads.append(stop)
    return unloads


def _read(plan: RoutePlan) -> tuple[_Receiver, list[Target]]:
    """Return the plan's finished state and its open building and container stops."""
    live = list(
        plan.stops.exclude(status=RouteStop.Status.CANCELLED).order_by("sequence")
    )
    finished = [stop for stop in live if stop.status in FINISHED]
    passed = _passed_unloads(plan, live, finished)
    open_stops = [
        stop
        for stop in live
        if stop.kind in ROUTE_KINDS and stop.status == RouteStop.Status.PLANNED
    ]
    kept_ids = {stop.pk for stop in [*finished, *passed]}
    kept = [
        stop
        for stop in live
        if stop.pk in kept_ids or stop.kind == RouteStop.Kind.DEPOT_START
    ]
    last_unload = max((stop.sequence for stop in passed), default=0)
    receiver = _Receiver(
        plan=plan,
        finished_ids=frozenset(stop.pk for stop in finished),
        last_kept=max(
            [*finished, *passed], key=lambda stop: stop.sequence, default=None
        ),
        kept=kept,
        carried_kg=sum(
            stop.demand_kg
            for stop in finished
            if stop.status == RouteStop.Status.DONE and stop.sequence > last_unload
        ),
        fitted_keys=frozenset(
            _stop_target(stop).key for stop in open_stops if stop.arrival is not None
        ),
    )
    return receiver, [_stop_target(stop) for stop in open_stops]


def _covered_keys(day: date) -> set[str]:
    """Return the building and container keys a live plan of `day` will visit.

    A point is covered by a planned stop of a plan that is not done or
    cancelled. A done stop does not cover it: a container emptied at noon may
    be full again by three.
    """
    stops = RouteStop.objects.filter(
        plan__date=day, kind__in=ROUTE_KINDS, status=RouteStop.Status.PLANNED
    ).exclude(plan__status__in=[RoutePlan.Status.CANCELLED, RoutePlan.Status.DONE])
    return {
        f"b:{building_id}" if building_id else f"c:{container_id}"
        for building_id, container_id in stops.values_list(
            "building_id", "container_id"
        )
    }


def _visited_before_reading(day: date) -> set[str]:
    """Return the keys of containers finished on `day` with no newer fill reading.

    A container whose stop was done or marked not collected is added again only
    when a sensor reported its fill after the last scan there. With no scan or
    no reading to compare, it is not added again.
    """
    finished = RouteStop.objects.filter(
        plan__date=day, container__isnull=False, status__in=FINISHED
    )
    scanned = dict(
        Pickup.objects.filter(stop__in=finished)
        .values("container_id")
        .annotate(last=Max("scanned_at"))
        .values_list("container_id", "last")
    )
    keys = set()
    for container_id, observed_at in finished.values_list(
        "container_id", "container__fill_observed_at"
    ):
        last_scan = scanned.get(container_id)
        if observed_at is None or last_scan is None or observed_at <= last_scan:
            keys.add(f"c:{container_id}")
    return keys


def _added_targets(
    plan: RoutePlan, points: Sequence[Building | Container]
) -> list[Target]:
    window = (seconds_of(plan.shift_start), seconds_of(plan.shift_end))
    targets = []
    for point in points:
        if isinstance(point, Container):
            targets.append(container_target(point))
        elif point.lat is None or point.lng is None:
            raise PlanningInvalid(
                "plate_code",
                _(
                    "Building %(code)s has no location. Place it on the map in "
                    "the registry first."
                )
                % {"code": point.plate_code},
            )
        else:
            one = Building.objects.filter(pk=point.pk)
            targets += building_targets(one, plan.date, 1, window)
    return targets


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise PlanningInvalid(
            "reason", _("Say why the route is re-planned, e.g. a stop was added.")
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise PlanningInvalid(
            "reason",
            _("Shorten the reason to at most %(max)s characters.")
            % {"max": MAX_REASON_LENGTH},
        )
    return reason


def shift_over(plan: RoutePlan) -> bool:
    """Tell whether the plan's shift has ended (an earlier day, or today past its end)."""
    today = timezone.localdate()
    if plan.date != today:
        return plan.date < today
    return local_seconds_now() >= seconds_of(plan.shift_end)


def _receivers(plan: RoutePlan) -> list[_Receiver]:
    """Return the other plans of the day that can still take stops.

    A plan can when its vehicle can drive, its shift has not ended, it is not
    done or cancelled, and it has open stops left or none finished yet.
    """
    others = (
        RoutePlan.objects.filter(date=plan.date, vehicle__active=True)
        .exclude(pk=plan.pk)
        .exclude(status__in=[RoutePlan.Status.CANCELLED, RoutePlan.Status.DONE])
        .exclude(vehicle__status__in=UNAVAILABLE)
        .select_related("vehicle__depot")
        .order_by("pk")
    )
    receivers = []
    for other in others:
        if shift_over(other):
            continue
        receiver, open_targets = _read(other)
        if receiver.finished_ids and not open_targets:
            continue
        receiver.targets = {target.key: target for target in open_targets}
        receivers.append(receiver)
    return receivers


def _home_points(receiver: _Receiver) -> list[tuple[Decimal, Decimal]]:
    depot = receiver.plan.vehicle.depot
    points = [(depot.lat, depot.lng)]
    points += [(t.lat, t.lng) for t in receiver.targets.values()]
    return points


def _distribute(
    targets: Sequence[Target], receivers: Sequence[_Receiver]
) -> list[Target]:
    """Give each target to the nearest receiver able to carry it; return the rest."""
    left = []
    for target in targets:
        able = [r for r in receivers if r.plan.vehicle.capacity_kg >= target.demand_kg]
        index = nearest_index(target, [_home_points(r) for r in able])
        if index is None:
            left.append(target)
        else:
            receiver = able[index]
            if target.key not in receiver.targets:
                receiver.targets[target.key] = target
                receiver.given.add(target.key)
    return left


def _settle_takers(
    receivers: Sequence[_Receiver],
) -> tuple[list[_Receiver], list[Target]]:
    """Keep the receivers whose solved route fits their own stops and some given ones.

    Returns those receivers and the given stops that none of them fitted. A
    receiver that would drop one of its own stops, or fits none of the given
    ones, is left untouched, and its given stops are returned.
    """
    takers, left = [], []
    for receiver in receivers:
        solved = receiver.solved
        assert solved is not None
        unassigned = set(solved.unassigned)
        given = [receiver.targets[key] for key in sorted(receiver.given)]
        if unassigned & receiver.fitted_keys or receiver.given <= unassigned:
            left += given
            continue
        # NOTE: given stops this receiver could not fit are not offered to the
        # next nearest receiver; they stay not fitted on the broken plan.
        left += [target for target in given if target.key in unassigned]
        solved.unassigned = [
            key for key in solved.unassigned if key not in receiver.given
        ]
        takers.append(receiver)
    return takers, left


def _start(receiver: _Receiver) -> tuple[tuple[Decimal, Decimal], int]:
    """Return where and when the rest of the route starts."""
    plan = receiver.plan
    shift_start = seconds_of(plan.shift_start)
    start_s = shift_start
    if plan.date == timezone.localdate():
        start_s = max(shift_start, local_seconds_now())
    last = receiver.last_kept
    if last is not None:
        return (last.lat, last.lng), start_s
    depot = plan.vehicle.depot
    return (depot.lat, depot.lng), start_s


def _kept_travel(kept: Sequence[RouteStop]) -> tuple[int, int]:
    """Return the metres and seconds driven and served along the kept stops."""
    points = [(float(stop.lat), float(stop.lng)) for stop in kept]
    if len(points) < 2:
        return 0, sum(stop.service_s for stop in kept)
    metres, seconds = distances.build_matrices(points)
    legs = range(len(points) - 1)
    distance_m = sum(metres[i][i + 1] for i in legs)
    duration_s = sum(seconds[i][i + 1] for i in legs)
    return distance_m, duration_s + sum(stop.service_s for stop in kept)


def _solve(receiver: _Receiver, time_limit_s: float) -> None:
    plan = receiver.plan
    receiver.kept_travel = _kept_travel(receiver.kept)
    start_point, start_s = _start(receiver)
    # NOTE: the load on board is the planned load of the done stops since the
    # last unload; the weights the crew recorded are not read.
    receiver.solved = solve_vehicle_route(
        plan.vehicle,
        start_point=start_point,
        shift=(start_s, max(start_s, seconds_of(plan.shift_end))),
        targets=list(receiver.targets.values()),
        time_limit_s=time_limit_s,
        carried_kg=receiver.carried_kg,
    )


def replan(
    plan: RoutePlan,
    *,
    reason: str,
    added_points: Sequence[Building | Container] = (),
    vehicle_broken: bool = False,
    expected_revision: int | None = None,
    time_limit_s: float | None = None,
    actor: Any = None,
) -> ReplanResult:
    """Re-plan the unfinished stops of `plan`, keeping done and not-collected ones.

    Full containers are added unless a planned stop of a running route
    covers them or no fill reading came after their last scan today. When the
    vehicle broke down, it is marked broken (which opens its vehicle_broken
    alert), its plan is cancelled, and its open stops go to the nearest other
    vehicles of the day that can still take them; only those plans change.
    Raises PlanningInvalid for a bad reason or point, or when the shift of
    `plan` has ended and its vehicle did not break down. Raises PlanChanged
    when the plan's revision is not `expected_revision` or a stop was finished
    while solving. After either error nothing is written, and the caller may
    re-plan again.
    """
    reason = _check_reason(reason)
    plan = RoutePlan.objects.select_related("vehicle__depot").get(pk=plan.pk)
    _check_revision(plan, expected_revision)
    if plan.status == RoutePlan.Status.CANCELLED:
        raise PlanningInvalid(
            "plan", _("This plan was cancelled. Re-plan another vehicle's route.")
        )
    if not vehicle_broken and shift_over(plan):
        raise PlanningInvalid(
            "plan",
            _(
                "The shift of this route ended at %(end)s, so no stop can be "
                "added to it. Re-plan a route whose shift is still running."
            )
            % {"end": plan.shift_end.strftime("%H:%M")},
        )

    own, open_targets = _read(plan)
    extra = _added_targets(plan, added_points)
    known = {t.key for t in open_targets} | _covered_keys(plan.date)
    extra = [t for t in extra if t.key not in known]
    known |= {t.key for t in extra} | _visited_before_reading(plan.date)
    extra += over_threshold_containers(known)

    if vehicle_broken:
        candidates = _receivers(plan)
        left = _distribute([*open_targets, *extra], candidates)
        candidates = [r for r in candidates if r.given]
        for receiver in candidates:
            _solve(receiver, _time_limit(time_limit_s))
        receivers, unfitted = _settle_takers(candidates)
        left += unfitted
        own.kept_travel = _kept_travel(own.kept)
    else:
        own.targets = {t.key: t for t in [*open_targets, *extra]}
        receivers, left = [own], []
        _solve(own, _time_limit(time_limit_s))

    code = "replan"
    if vehicle_broken:
        code = "vehicle_broken"
    elif added_points:
        code = "stop_added"
    with transaction.atomic(durable=True):
        _lock_and_check([own, *receivers], plan.revision)
        result = ReplanResult()
        for receiver in receivers:
            receiver_reason = reason
            if vehicle_broken:
                receiver_reason = _took_over_reason(plan.vehicle, reason)
            result.unassigned += _write_receiver(receiver, receiver_reason, code, actor)
            result.plans.append(receiver.plan)
        if vehicle_broken:
            _write_broken(own, left, reason, actor)
            set_vehicle_status(plan.vehicle, Vehicle.Status.BROKEN, actor=actor)
            result.plans.insert(0, own.plan)
            result.unassigned += [t.key for t in left]
    logger.info(
        "re-planned route %s (%s): %s plans written, %s stops not fitted",
        plan.pk,
        code,
        len(result.plans),
        len(result.unassigned),
        extra={"plan_id": plan.pk},
    )
    return result


def _took_over_reason(vehicle: Vehicle, reason: str) -> str:
    text = _("Took over stops of %(vehicle)s, which broke down: %(reason)s") % {
        "vehicle": vehicle.plate_number,
        "reason": reason,
    }
    return text[:MAX_REASON_LENGTH]


def _check_revision(plan: RoutePlan, expected_revision: int | None) -> None:
    if expected_revision is not None and plan.revision != expected_revision:
        raise PlanChanged(
            "revision",
            _(
                "The plan changed to revision %(now)s since you opened it. "
                "Look at it again before re-planning."
            )
            % {"now": plan.revision},
        )


def _lock_and_check(receivers: Sequence[_Receiver], revision: int) -> None:
    """Lock the plans in primary-key order and check that nothing changed."""
    seen = {r.plan.pk: r for r in receivers}
    locked = RoutePlan.objects.select_for_update().filter(pk__in=seen).order_by("pk")
    for current in locked:
        receiver = seen[current.pk]
        finished = receiver.plan.stops.filter(status__in=FINISHED).values_list(
            "pk", flat=True
        )
        if current.revision != receiver.plan.revision or (
            frozenset(finished) != receiver.finished_ids
        ):
            raise PlanChanged(
                "plan",
                _(
                    "Route %(plan)s changed while it was being re-planned. "
                    "Re-plan again."
                )
                % {"plan": current.pk},
            )


def _cancel_open_stops(receiver: _Receiver) -> int:
    """Cancel the plan's stops that are not kept; return the next free sequence."""
    kept_ids = [stop.pk for stop in receiver.kept]
    plan = receiver.plan
    plan.stops.filter(status=RouteStop.Status.PLANNED).exclude(pk__in=kept_ids).update(
        status=RouteStop.Status.CANCELLED
    )
    last = plan.stops.aggregate(last=Max("sequence"))["last"] or 0
    return last + 1


def _write_receiver(
    receiver: _Receiver, reason: str, code: str, actor: Any
) -> list[str]:
    plan = receiver.plan
    solved = receiver.solved
    assert solved is not None
    kept_distance_m, kept_duration_s = receiver.kept_travel
    next_sequence = _cancel_open_stops(receiver)
    plan.revision += 1
    last = receiver.last_kept
    # The route goes on with the trip of the last finished stop, or starts the
    # next trip after a passed unload.
    trip_offset = 0
    if last is not None:
        trip_offset = last.trip if last.kind == RouteStop.Kind.UNLOAD else last.trip - 1
    unassigned = [solved.targets[key] for key in solved.unassigned]
    stops = _route_stops(
        plan,
        solved,
        first_sequence=next_sequence,
        trip_offset=trip_offset,
        unassigned=unassigned,
    )
    if last is not None and not (solved.route and solved.route.visits):
        for stop in stops:
            stop.trip = last.trip  # nothing more to collect: no new trip
    RouteStop.objects.bulk_create(stops)

    # The distance and duration cover the whole day: the kept part as driven
    # between its stops plus the route still ahead.
    route = solved.route
    plan.engine = solved.engine or plan.engine
    plan.distance_m = kept_distance_m + (route.distance_m if route else 0)
    plan.duration_s = kept_duration_s + (route.duration_s if route else 0)
    plan.trips = max(
        (
            stop.trip
            for stop in [*receiver.kept, *stops]
            if stop.kind in (*ROUTE_KINDS, RouteStop.Kind.UNLOAD)
            and stop.arrival is not None
        ),
        default=0,
    )
    plan.replan_reason = reason
    if receiver.finished_ids:
        plan.status = RoutePlan.Status.IN_PROGRESS
    plan.save()
    _journal_plan(plan, code, actor)
    return [target.key for target in unassigned]


def _write_broken(
    own: _Receiver, left: Sequence[Target], reason: str, actor: Any
) -> None:
    """Cancel the broken vehicle's plan, keeping the stops no vehicle took as not fitted."""
    plan = own.plan
    next_sequence = _cancel_open_stops(own)
    plan.revision += 1
    trip = own.last_kept.trip if own.last_kept else 1
    stops = [
        _target_stop(plan, next_sequence + index, trip, target, None)
        for index, target in enumerate(left)
    ]
    RouteStop.objects.bulk_create(stops)
    plan.status = RoutePlan.Status.CANCELLED
    plan.distance_m, plan.duration_s = own.kept_travel
    plan.trips = own.last_kept.trip if own.last_kept else 0
    plan.replan_reason = reason
    plan.save()
    _journal_plan(plan, "vehicle_broken", actor)
