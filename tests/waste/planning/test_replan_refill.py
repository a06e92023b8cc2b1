"""replan: containers full again after their pickup, and unloads already passed."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    offset,
    schedule,
)
from tests.waste.planning.test_replan_scope import add_container

from kotacerdas.waste.models import Container, Pickup, RoutePlan, RouteStop, Schedule
from kotacerdas.waste.planning import plan_day
from kotacerdas.waste.planning_problem import container_target
from kotacerdas.waste.planning_replan import replan
from kotacerdas.waste.planning_solve import solve_vehicle_route

pytestmark = pytest.mark.django_db

UNLOAD = RouteStop.Kind.UNLOAD


def at(hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(PLAN_DAY, time(hour, minute)))


def live(plan: RoutePlan) -> list[RouteStop]:
    return list(
        plan.stops.exclude(status=RouteStop.Status.CANCELLED).order_by("sequence")
    )


def scan(stop: RouteStop, scanned_at: datetime, *, collected: bool = True) -> None:
    """Record the crew's scan at a stop as the pickup service leaves it."""
    collector, _ = get_user_model().objects.get_or_create(username="collector-1")
    Pickup.objects.create(
        client_id=f"scan-{stop.pk}",
        container=stop.container,
        stop=stop,
        plan=stop.plan,
        collector=collector,
        vehicle=stop.plan.vehicle,
        scanned_at=scanned_at,
        outcome=Pickup.Outcome.COLLECTED if collected else Pickup.Outcome.NO_ACCESS,
    )
    stop.status = RouteStop.Status.DONE if collected else RouteStop.Status.EXCEPTION
    stop.save()
    if collected:
        Container.objects.filter(pk=stop.container_id).update(
            fill_level=Decimal(0),
            fill_observed_at=scanned_at,
            last_emptied_at=scanned_at,
        )


def read_fill(container: Container, fill: str, observed_at: datetime) -> None:
    container.fill_level = Decimal(fill)
    container.fill_observed_at = observed_at
    container.save()


@pytest.fixture
def market_round(waste_city):
    """An afternoon container round at the market: two containers, one trip."""
    market = [
        add_container(
            waste_city.tps, waste_city.kelurahan, *offset(index, 3), max_kg=400
        )
        for index in range(2)
    ]
    for container in market:
        container.fill_threshold = Decimal("0.800")
        container.save()
    schedule(waste_city.crew, waste_city.kelurahan, service=Schedule.Service.CONTAINERS)
    Schedule.objects.update(shift_start=time(13, 0), shift_end=time(18, 0))
    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]
    return plan, market


def container_stop(plan: RoutePlan, container: Container) -> RouteStop:
    return plan.stops.get(container=container, status=RouteStop.Status.PLANNED)


def test_container_full_again_after_pickup_is_added(market_round):
    plan, market = market_round
    emptied = market[0]
    scan(container_stop(plan, emptied), at(14, 16))
    read_fill(emptied, "0.870", at(15, 23))

    replan(plan, reason="Pasar penuh lagi", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    again = [
        s
        for s in live(plan)
        if s.container_id == emptied.pk and s.status == RouteStop.Status.PLANNED
    ]
    assert len(again) == 1
    assert again[0].revision == 2
    assert again[0].arrival is not None


def test_container_read_before_its_scan_is_not_added(market_round):
    plan, market = market_round
    blocked = market[0]
    read_fill(blocked, "0.950", at(14, 0))
    scan(container_stop(plan, blocked), at(14, 16), collected=False)

    replan(plan, reason="Jalan pasar ditutup", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    stops = [s for s in live(plan) if s.container_id == blocked.pk]
    assert [s.status for s in stops] == [RouteStop.Status.EXCEPTION]


def test_container_on_another_running_route_is_not_added(waste_city, market_round):
    plan, market = market_round
    scan(container_stop(plan, market[0]), at(14, 16))
    full = add_container(waste_city.tps, waste_city.kelurahan, *offset(1, 4), 400)
    other = RoutePlan.objects.create(
        date=PLAN_DAY,
        vehicle=waste_city.spare_truck,
        crew=waste_city.spare_crew,
        shift_start=time(13, 0),
        shift_end=time(18, 0),
    )
    RouteStop.objects.create(
        plan=other,
        sequence=1,
        kind=RouteStop.Kind.CONTAINER,
        container=full,
        lat=full.lat,
        lng=full.lng,
        arrival=time(15, 0),
    )

    replan(plan, reason="Pasar penuh lagi", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    assert not any(s.container_id == full.pk for s in live(plan))


def assert_no_empty_trip(plan: RoutePlan) -> None:
    kinds = [s.kind for s in live(plan) if s.arrival is not None]
    for first, second in pairwise(kinds):
        assert (first, second) != (UNLOAD, UNLOAD), kinds
    assert kinds[-2:] == [UNLOAD, RouteStop.Kind.DEPOT_END]


def test_refill_replan_unloads_once_then_depot(market_round):
    plan, market = market_round
    # Both scanned on time, before the dump: the truck is still loaded.
    for container in market:
        stop = container_stop(plan, container)
        scan(stop, timezone.make_aware(datetime.combine(PLAN_DAY, stop.arrival)))
    read_fill(market[0], "0.870", at(17, 0))

    replan(plan, reason="Pasar penuh lagi", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    assert_no_empty_trip(plan)
    new = [s.kind for s in live(plan) if s.revision == 2]
    assert new == [RouteStop.Kind.CONTAINER, UNLOAD, RouteStop.Kind.DEPOT_END]
    assert plan.trips == 1


def test_passed_unload_is_kept_and_not_planned_again(market_round):
    plan, market = market_round
    unload = plan.stops.get(kind=UNLOAD)
    # The crew scanned the market late, after the dump's planned time, and has
    # been to the TPA since: nobody scans a dump.
    after_dump = timezone.make_aware(datetime.combine(PLAN_DAY, unload.arrival))
    for index, container in enumerate(market):
        scan(container_stop(plan, container), after_dump + timedelta(seconds=index + 1))

    replan(plan, reason="Cek rute", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    unload.refresh_from_db()
    assert unload.status == RouteStop.Status.PLANNED
    assert unload.revision == 1
    new = [s.kind for s in live(plan) if s.revision == 2]
    assert new == [RouteStop.Kind.DEPOT_END]
    assert plan.trips == 1


def test_full_container_after_passed_unload_starts_next_trip(market_round):
    plan, market = market_round
    unload = plan.stops.get(kind=UNLOAD)
    after_dump = timezone.make_aware(datetime.combine(PLAN_DAY, unload.arrival))
    for index, container in enumerate(market):
        scan(container_stop(plan, container), after_dump + timedelta(seconds=index + 1))
    read_fill(market[1], "0.900", after_dump + timedelta(minutes=30))

    replan(plan, reason="Pasar penuh lagi", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    assert_no_empty_trip(plan)
    new = [(s.kind, s.trip) for s in live(plan) if s.revision == 2]
    assert new == [
        (RouteStop.Kind.CONTAINER, 2),
        (UNLOAD, 2),
        (RouteStop.Kind.DEPOT_END, 2),
    ]
    assert plan.trips == 2
    assert [s.kind for s in live(plan)].count(UNLOAD) == 2


@pytest.mark.parametrize("carried_kg", [400, 1200, 1900, 2000])
@pytest.mark.parametrize("start_step", [(-2, 3), (-19, 10)], ids=["market", "tpa"])
def test_load_on_board_rides_the_first_trip(waste_city, carried_kg, start_step):
    """Every trip, the first one with the load on board, fits the truck.

    Starting next to the TPA, visiting the load on board after the first dump
    costs the solver nothing, which once planned two dumps in a row.
    """
    truck = waste_city.truck
    full = [
        add_container(waste_city.tps, waste_city.kelurahan, *offset(i, 3), 700)
        for i in range(4)
    ]
    targets = [container_target(container) for container in full]
    start_point = offset(*start_step)

    solved = solve_vehicle_route(
        truck,
        start_point=start_point,
        shift=(13 * 3600, 18 * 3600),
        targets=targets,
        time_limit_s=ROUTE_TIME_LIMIT_S,
        carried_kg=carried_kg,
    )

    assert solved.route is not None and solved.unassigned == []
    visits = solved.route.visits
    kinds = [visit.kind for visit in visits]
    assert ("unload", "unload") not in pairwise(kinds), kinds
    assert kinds[-1] == "unload"
    load = carried_kg
    demand = {target.key: target.demand_kg for target in targets}
    for visit in visits:
        if visit.kind == "unload":
            load = 0
        else:
            load += demand[visit.ref]
            assert load <= truck.capacity_kg, kinds
    trips = [visit.trip for visit in visits]
    assert trips == sorted(trips)
    assert trips[0] == 1
    assert trips[-1] == kinds.count("unload")


def test_load_on_board_is_dumped_before_a_tight_window(waste_city):
    """A market container open only at the start cannot ride on top of a full load.

    Served first, it would share the first trip with the load on board and go
    over capacity, and the dump planned for that load would follow the first
    dump with nothing collected between. It is not fitted instead.
    """
    waste_city.tpa.service_minutes = 30
    waste_city.tpa.save()
    container = add_container(waste_city.tps, waste_city.kelurahan, *offset(0, 3), 700)
    start = 13 * 3600
    target = replace(container_target(container), window=(start, start + 1200))

    solved = solve_vehicle_route(
        waste_city.truck,
        start_point=offset(-19, 10),
        shift=(start, 18 * 3600),
        targets=[target],
        time_limit_s=ROUTE_TIME_LIMIT_S,
        carried_kg=1900,
    )

    assert solved.route is not None
    assert [visit.kind for visit in solved.route.visits] == ["unload"]
    assert solved.unassigned == [target.key]
