"""plan_day: stops from schedules and full containers, trips, idempotency."""

import json
from collections import Counter

import pytest
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    make_buildings,
    make_container,
    schedule,
)

from kotacerdas.journal.models import Entry
from kotacerdas.waste.models import Crew, RoutePlan, RouteStop, Schedule, Vehicle
from kotacerdas.waste.planning import plan_day, plan_today_if_missing

pytestmark = pytest.mark.django_db


def route_stops(plan: RoutePlan) -> list[RouteStop]:
    return list(plan.stops.exclude(status=RouteStop.Status.CANCELLED))


def test_plan_covers_every_building(waste_city):
    buildings = make_buildings(waste_city.kelurahan, 6)
    schedule(waste_city.crew, waste_city.kelurahan)

    plans = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)

    assert len(plans) == 1
    plan = plans[0]
    assert plan.vehicle == waste_city.truck
    stops = route_stops(plan)
    assert stops[0].kind == RouteStop.Kind.DEPOT_START
    assert stops[-1].kind == RouteStop.Kind.DEPOT_END
    visited = {stop.building_id for stop in stops if stop.building_id}
    assert visited == {building.pk for building in buildings}
    arrivals = [stop.arrival for stop in stops]
    assert all(arrival is not None for arrival in arrivals)
    assert arrivals == sorted(arrivals)
    assert plan.distance_m > 0
    assert plan.engine


def test_plan_journals_route_planned(waste_city):
    make_buildings(waste_city.kelurahan, 3)
    schedule(waste_city.crew, waste_city.kelurahan)

    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    entry = Entry.objects.filter(event_type="waste.route.planned").get()
    payload = json.loads(bytes(entry.body))["payload"]
    assert payload["plan_id"] == plan.pk
    assert payload["reason"] == "scheduled"
    assert len(payload["stops"]) == 3
    assert all(key.startswith("b:") for key in payload["stops"])


def test_demand_over_capacity_makes_trips(waste_city):
    Vehicle.objects.filter(pk=waste_city.truck.pk).update(capacity_kg=40)
    make_buildings(waste_city.kelurahan, 10)
    schedule(waste_city.crew, waste_city.kelurahan)

    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    stops = route_stops(plan)
    unloads = [stop for stop in stops if stop.kind == RouteStop.Kind.UNLOAD]
    assert unloads, "a 40 kg truck cannot carry ten houses' waste in one trip"
    assert all(stop.site == waste_city.tpa for stop in unloads)
    assert plan.trips >= 2
    load_per_trip = Counter()
    for stop in stops:
        load_per_trip[stop.trip] += stop.demand_kg
    assert max(load_per_trip.values()) <= 40
    assert sum(1 for s in stops if s.building_id and s.arrival) == 10


def test_full_container_added_to_plan(waste_city):
    make_buildings(waste_city.kelurahan, 3)
    schedule(waste_city.crew, waste_city.kelurahan)
    full = make_container(waste_city.tps, waste_city.kelurahan, fill="0.850")
    make_container(waste_city.tps, waste_city.kelurahan, fill="0.300")

    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    containers = [s for s in route_stops(plan) if s.kind == RouteStop.Kind.CONTAINER]
    assert [stop.container_id for stop in containers] == [full.pk]
    assert containers[0].demand_kg == 340  # 400 kg x 0.85


def test_container_schedule_takes_tps_containers(waste_city):
    low = make_container(waste_city.tps, waste_city.kelurahan, fill="0.200")
    schedule(waste_city.crew, waste_city.kelurahan, service=Schedule.Service.CONTAINERS)

    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    assert [s.container_id for s in route_stops(plan) if s.container_id] == [low.pk]


def test_plan_day_is_idempotent(waste_city):
    make_buildings(waste_city.kelurahan, 3)
    schedule(waste_city.crew, waste_city.kelurahan)

    first = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)
    again = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)

    assert [plan.pk for plan in again] == [plan.pk for plan in first]
    assert RoutePlan.objects.count() == 1
    assert Entry.objects.filter(event_type="waste.route.planned").count() == 1


def test_crews_without_vehicle_skipped(waste_city):
    make_buildings(waste_city.kelurahan, 2)
    walking = Crew.objects.create(name="Crew on foot")
    schedule(walking, waste_city.kelurahan)
    Vehicle.objects.filter(pk=waste_city.spare_truck.pk).update(
        status=Vehicle.Status.BROKEN
    )
    schedule(waste_city.spare_crew, waste_city.kelurahan)

    plans = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)

    assert plans == []
    reasons = {skip.crew_id: skip.reason for skip in plans.skipped}
    assert reasons[walking.pk] == "no_vehicle"
    assert reasons[waste_city.spare_crew.pk] == "vehicle_unavailable"


def test_schedule_off_day_plans_nothing(waste_city):
    make_buildings(waste_city.kelurahan, 2)
    schedule(waste_city.crew, waste_city.kelurahan)
    tuesday = PLAN_DAY.replace(day=6)

    assert plan_day(tuesday, time_limit_s=ROUTE_TIME_LIMIT_S) == []


def test_demand_counts_days_since_service(waste_city):
    make_buildings(waste_city.kelurahan, 1)
    schedule(waste_city.crew, waste_city.kelurahan)

    plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    stop = plan.stops.get(kind=RouteStop.Kind.BUILDING)
    # No one is registered, so 4 persons x 0.8 kg x 2 days since Monday = 6.4 kg.
    assert stop.demand_kg == 7


def test_worker_job_plans_today_once(waste_city, monkeypatch):
    make_buildings(waste_city.kelurahan, 2)
    Schedule.objects.create(
        kelurahan=waste_city.kelurahan,
        weekdays="1234567",
        shift_start="06:00",
        shift_end="14:00",
        crew=waste_city.crew,
        valid_from="2020-01-01",
    )
    monkeypatch.setattr(
        "django.conf.settings.KOTACERDAS_ROUTING_TIME_LIMIT_S", ROUTE_TIME_LIMIT_S
    )

    assert plan_today_if_missing() == 1
    assert plan_today_if_missing() == 0
    assert RoutePlan.objects.count() == 1
