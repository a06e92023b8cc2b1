"""Planning at city size: nearby unload sites, the stop cap, the job's budget."""

import logging

import pytest
from django.utils import timezone
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    make_buildings,
    make_site,
    offset,
    schedule,
)

from kotacerdas.waste import planning
from kotacerdas.waste.models import Crew, RoutePlan, RouteStop, Schedule, Site, Vehicle
from kotacerdas.waste.planning import plan_day, plan_today_if_missing
from kotacerdas.waste.planning_problem import (
    UNLOAD_SITES_PER_ROUTE,
    Target,
    unload_sites,
)

pytestmark = pytest.mark.django_db


def target_at(step_lat: int, step_lng: int) -> Target:
    lat, lng = offset(step_lat, step_lng)
    return Target(key="b:1", lat=lat, lng=lng, demand_kg=5, service_s=60)


def test_unload_sites_nearest_to_stops(waste_city):
    # waste_city has tps-1 at (-3, 2); these lie 10 to 60 steps (1 to 7 km) away.
    far = [
        make_site(f"tps-far-{step}", Site.Kind.TPS, *offset(step, step))
        for step in (10, 20, 40, 60)
    ]
    make_site("tps3r-far", Site.Kind.TPS3R, *offset(-50, -50))
    waste_city.truck.kind = Vehicle.Kind.MOTOR_CART

    near = unload_sites(waste_city.truck, near=[target_at(0, 0), target_at(2, 2)])
    every = unload_sites(waste_city.truck)

    assert len(near) == UNLOAD_SITES_PER_ROUTE
    assert [site.code for site in near] == ["tps-1", far[0].code, far[1].code]
    assert len(every) == 6


def test_truck_unloads_at_tpa_only(waste_city):
    sites = unload_sites(waste_city.truck, near=[target_at(0, 0)])

    assert sites == [waste_city.tpa]


def test_stops_over_cap_stay_not_fitted(waste_city, monkeypatch, caplog):
    buildings = make_buildings(waste_city.kelurahan, 5)
    schedule(waste_city.crew, waste_city.kelurahan)
    monkeypatch.setattr(planning, "MAX_STOPS_PER_ROUTE", 3)

    with caplog.at_level(logging.WARNING, logger="kotacerdas.waste.planning"):
        plan = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]

    stops = plan.stops.filter(kind=RouteStop.Kind.BUILDING)
    fitted = {stop.building_id for stop in stops if stop.arrival is not None}
    not_fitted = {stop.building_id for stop in stops if stop.arrival is None}
    assert fitted == {building.pk for building in buildings[:3]}
    assert not_fitted == {building.pk for building in buildings[3:]}
    assert "more than the 3 one route may have" in caplog.text


def test_budget_leaves_vehicles_pending(waste_city):
    make_buildings(waste_city.kelurahan, 2)
    make_buildings(waste_city.kelurahan, 2, rw=2)
    for crew, rw in ((waste_city.crew, "001"), (waste_city.spare_crew, "002")):
        rw_schedule = schedule(crew, waste_city.kelurahan)
        rw_schedule.unit = waste_city.kelurahan.units.get(rw=rw, rt="")
        rw_schedule.save()

    first = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S, budget_s=0)
    second = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S, budget_s=0)

    assert [plan.vehicle for plan in first] == [waste_city.truck]
    assert first.pending == [waste_city.spare_truck.pk]
    assert {plan.vehicle for plan in second} == {
        waste_city.truck,
        waste_city.spare_truck,
    }
    assert second.pending == []


def test_worker_job_plans_day_over_runs(waste_city, monkeypatch, settings):
    settings.KOTACERDAS_ROUTING_TIME_LIMIT_S = ROUTE_TIME_LIMIT_S
    monkeypatch.setattr(planning, "PLAN_JOB_BUDGET_S", 0.0)
    make_buildings(waste_city.kelurahan, 3)
    third = Vehicle.objects.create(
        plate_number="BA 1003 PP",
        kind=Vehicle.Kind.DUMP_TRUCK,
        capacity_kg=2000,
        capacity_m3="6.00",
        depot=waste_city.depot,
    )
    crews = [
        waste_city.crew,
        waste_city.spare_crew,
        Crew.objects.create(name="Crew C", vehicle=third),
    ]
    # Each crew serves its own hour, so every crew gets its own stops.
    for hour, crew in enumerate(crews, start=6):
        Schedule.objects.create(
            kelurahan=waste_city.kelurahan,
            weekdays="1234567",
            shift_start=f"{hour:02d}:00",
            shift_end=f"{hour + 1:02d}:00",
            crew=crew,
            valid_from="2020-01-01",
        )

    runs = [plan_today_if_missing() for _ in range(4)]

    assert runs == [1, 1, 1, 0]
    today = RoutePlan.objects.filter(date=timezone.localdate())
    assert today.count() == 3
    assert planning.unplanned_vehicle_ids(timezone.localdate()) == []


def test_worker_job_remembers_empty_vehicles(waste_city, settings, caplog):
    settings.KOTACERDAS_ROUTING_TIME_LIMIT_S = ROUTE_TIME_LIMIT_S
    Schedule.objects.create(
        kelurahan=waste_city.kelurahan,
        weekdays="1234567",
        shift_start="06:00",
        shift_end="14:00",
        crew=waste_city.crew,
        valid_from="2020-01-01",
    )

    with caplog.at_level(logging.INFO, logger="kotacerdas.waste.planning"):
        first = plan_today_if_missing()
        caplog.clear()
        second = plan_today_if_missing()

    assert first == 0
    assert second == 0
    assert "route planning started" not in caplog.text
    assert not RoutePlan.objects.exists()
