"""A plan moves from planned to in progress to done as its stops are recorded."""

from datetime import time

from kotacerdas.waste.models import RoutePlan, RouteStop, Vehicle
from kotacerdas.waste.pickups import record_pickup, todays_plans

from .conftest import container_text, pickup_input, signed_text


def _status(route) -> str:
    return RoutePlan.objects.get(pk=route.plan.pk).status


def test_plan_follows_its_stops(route, personas):
    collector = personas["collector"]
    RouteStop.objects.filter(pk=route.stops[4].pk).update(arrival=time(6, 40))
    assert _status(route) == RoutePlan.Status.PLANNED

    record_pickup(pickup_input(signed_text(route.houses[0])), collector)
    assert _status(route) == RoutePlan.Status.IN_PROGRESS

    for house in route.houses[1:]:
        record_pickup(
            pickup_input(
                signed_text(house), outcome="not_out", reason="bin empty", weight_kg=""
            ),
            collector,
        )
    assert _status(route) == RoutePlan.Status.IN_PROGRESS

    record_pickup(pickup_input(container_text(route.container)), collector)
    assert _status(route) == RoutePlan.Status.DONE


def test_unfitted_stop_does_not_hold_plan_open(route, personas):
    collector = personas["collector"]
    # The container stop has no planned arrival: it fitted no route.

    for house in route.houses:
        record_pickup(pickup_input(signed_text(house)), collector)

    assert _status(route) == RoutePlan.Status.DONE


def test_done_plan_stays_on_collector_page(route, personas):
    collector = personas["collector"]
    for house in route.houses:
        record_pickup(pickup_input(signed_text(house)), collector)

    assert list(todays_plans(collector)) == [route.plan]


def _vehicle_status(route) -> str:
    return Vehicle.objects.get(pk=route.vehicle.pk).status


def test_vehicle_follows_its_plan(route, personas):
    collector = personas["collector"]
    assert _vehicle_status(route) == Vehicle.Status.PARKED

    record_pickup(pickup_input(signed_text(route.houses[0])), collector)
    assert _vehicle_status(route) == Vehicle.Status.ON_ROUTE

    for house in route.houses[1:]:
        record_pickup(pickup_input(signed_text(house)), collector)
    assert _vehicle_status(route) == Vehicle.Status.PARKED


def test_broken_vehicle_keeps_its_status(route, personas):
    Vehicle.objects.filter(pk=route.vehicle.pk).update(status=Vehicle.Status.BROKEN)

    record_pickup(pickup_input(signed_text(route.houses[0])), personas["collector"])

    assert _vehicle_status(route) == Vehicle.Status.BROKEN
