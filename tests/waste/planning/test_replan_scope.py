"""replan: which plans a breakdown changes, and what the finished part keeps."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    make_buildings,
    make_site,
    make_vehicle,
    offset,
    schedule,
)

from kotacerdas.city.models import Area
from kotacerdas.registry.codes import new_plate_code
from kotacerdas.waste.models import (
    Alert,
    Container,
    Crew,
    RoutePlan,
    RouteStop,
    Schedule,
    Site,
    Vehicle,
)
from kotacerdas.waste.planning import PlanningInvalid, plan_day
from kotacerdas.waste.planning_replan import replan

pytestmark = pytest.mark.django_db

GANTING = "13.74.01.1001"
BUKIT_SURUNGAN = "13.74.01.1003"


def live(plan: RoutePlan) -> list[RouteStop]:
    return list(
        plan.stops.exclude(status=RouteStop.Status.CANCELLED).order_by("sequence")
    )


def snapshot(plan: RoutePlan) -> tuple:
    plan.refresh_from_db()
    stops = [(s.pk, s.kind, s.status, s.arrival) for s in live(plan)]
    return (
        plan.revision,
        plan.status,
        plan.replan_reason,
        plan.distance_m,
        plan.trips,
        stops,
    )


def add_container(site: Site, area: Area, lat: Decimal, lng: Decimal, max_kg: int):
    return Container.objects.create(
        site=site,
        plate_code=new_plate_code("PPJ", "C"),
        plate_key_id="test",
        plate_signature="test-signature",
        name=f"Container {lat},{lng}",
        kelurahan=area,
        lat=lat,
        lng=lng,
        volume_m3=Decimal("6.00"),
        max_load_kg=max_kg,
        fill_level=Decimal("1.000"),
    )


def crew_with_truck(plate: str, depot: Site, capacity_kg: int = 2000) -> Crew:
    vehicle = make_vehicle(plate, depot, capacity_kg)
    return Crew.objects.create(name=f"Crew {plate}", vehicle=vehicle)


def finish_all(plan: RoutePlan, status=RouteStop.Status.DONE) -> None:
    plan.stops.filter(
        kind__in=[RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER]
    ).update(status=status)


@pytest.fixture
def day_of_four(waste_city):
    """Four plans: the one that breaks, a near receiver, a far one, a finished one."""
    make_buildings(waste_city.kelurahan, 4)
    schedule(waste_city.crew, waste_city.kelurahan)
    ganting = Area.objects.get(code=GANTING)
    make_buildings(ganting, 3, rw=2)
    schedule(waste_city.spare_crew, ganting)

    far_depot = make_site("depot-far", Site.Kind.DEPOT, *offset(90, 90))
    far_tps = make_site("tps-far", Site.Kind.TPS, *offset(92, 92))
    surungan = Area.objects.get(code=BUKIT_SURUNGAN)
    add_container(far_tps, surungan, *offset(92, 92), max_kg=400)
    far_crew = crew_with_truck("BA 1003 PP", far_depot)
    schedule(far_crew, surungan, service=Schedule.Service.CONTAINERS)

    finished_crew = crew_with_truck("BA 1004 PP", waste_city.depot)
    bukit = Area.objects.get(code="13.74.02.1001")
    make_buildings(bukit, 2, rw=3)
    schedule(finished_crew, bukit)

    plans = {p.vehicle.plate_number: p for p in plan_day(PLAN_DAY, time_limit_s=1)}
    finish_all(plans["BA 1004 PP"])
    return plans


def test_breakdown_changes_only_takers(waste_city, day_of_four):
    broken = day_of_four["BA 1001 PP"]
    spare = day_of_four["BA 1002 PP"]
    untouched = [day_of_four["BA 1003 PP"], day_of_four["BA 1004 PP"]]
    before = [snapshot(plan) for plan in untouched]

    result = replan(
        broken,
        reason="Truk mogok",
        vehicle_broken=True,
        time_limit_s=ROUTE_TIME_LIMIT_S,
    )

    assert [plan.pk for plan in result.plans] == [broken.pk, spare.pk]
    assert [snapshot(plan) for plan in untouched] == before
    spare.refresh_from_db()
    assert spare.revision == 2
    assert spare.replan_reason.startswith("Took over stops of BA 1001 PP")
    assert "Truk mogok" in spare.replan_reason


def test_receiver_keeps_own_unload(waste_city, day_of_four):
    spare = day_of_four["BA 1002 PP"]
    own = {s.building_id for s in live(spare) if s.building_id}

    replan(
        day_of_four["BA 1001 PP"],
        reason="Truk mogok",
        vehicle_broken=True,
        time_limit_s=ROUTE_TIME_LIMIT_S,
    )

    spare.refresh_from_db()
    stops = live(spare)
    assert own <= {s.building_id for s in stops if s.building_id}
    assert all(s.arrival is not None for s in stops if s.building_id)
    kinds = [s.kind for s in stops if s.arrival is not None]
    assert kinds[-2:] == [RouteStop.Kind.UNLOAD, RouteStop.Kind.DEPOT_END]
    assert stops[-1].arrival < spare.shift_end
    assert spare.distance_m > 0


def test_breakdown_marks_vehicle_broken(waste_city, day_of_four):
    replan(
        day_of_four["BA 1001 PP"],
        reason="Truk mogok",
        vehicle_broken=True,
        time_limit_s=ROUTE_TIME_LIMIT_S,
    )

    waste_city.truck.refresh_from_db()
    assert waste_city.truck.status == Vehicle.Status.BROKEN
    alerts = Alert.objects.filter(
        kind=Alert.Kind.VEHICLE_BROKEN, vehicle=waste_city.truck
    )
    assert alerts.filter(cleared_at__isnull=True).count() == 1


def test_ended_shift_takes_no_stops(waste_city, day_of_four):
    yesterday = timezone.localdate() - timedelta(days=1)
    RoutePlan.objects.filter(date=PLAN_DAY).update(date=yesterday)
    broken = RoutePlan.objects.get(vehicle=waste_city.truck)
    spare = RoutePlan.objects.get(vehicle=waste_city.spare_truck)
    before = snapshot(spare)
    open_count = broken.stops.filter(kind=RouteStop.Kind.BUILDING).count()

    result = replan(broken, reason="Truk mogok", vehicle_broken=True, time_limit_s=1)

    assert snapshot(spare) == before
    assert [plan.pk for plan in result.plans] == [broken.pk]
    assert len(result.unassigned) == open_count


def test_ended_shift_rejects_replan(waste_city, day_of_four):
    yesterday = timezone.localdate() - timedelta(days=1)
    plan = day_of_four["BA 1002 PP"]
    RoutePlan.objects.filter(pk=plan.pk).update(date=yesterday)

    with pytest.raises(PlanningInvalid) as caught:
        replan(plan, reason="Kontainer penuh", time_limit_s=1)

    assert caught.value.field == "plan"
    assert "14:00" in caught.value.message
    assert RoutePlan.objects.get(pk=plan.pk).revision == 1


@pytest.fixture
def container_day(waste_city):
    """A 4,000 kg truck with six full 2,000 kg containers: three unload trips."""
    truck = waste_city.truck
    truck.capacity_kg = 4000
    truck.save()
    for index in range(6):
        add_container(
            waste_city.tps, waste_city.kelurahan, *offset(index, 3), max_kg=2000
        )
    schedule(waste_city.crew, waste_city.kelurahan, service=Schedule.Service.CONTAINERS)
    return plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]


def test_replan_keeps_finished_unloads(container_day):
    plan = container_day
    unloads = [s for s in live(plan) if s.kind == RouteStop.Kind.UNLOAD]
    assert len(unloads) == 3
    assert plan.trips == 3
    planned_distance = plan.distance_m
    finish_all(plan)

    replan(plan, reason="Kontainer penuh", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    stops = live(plan)
    kept = {s.pk for s in stops}
    assert {u.pk for u in unloads[:2]} <= kept
    assert [s.kind for s in stops].count(RouteStop.Kind.UNLOAD) == 3
    assert [s.kind for s in stops][-2:] == [
        RouteStop.Kind.UNLOAD,
        RouteStop.Kind.DEPOT_END,
    ]
    assert plan.trips == 3
    assert plan.distance_m == planned_distance
    cancelled = plan.stops.filter(status=RouteStop.Status.CANCELLED)
    assert list(cancelled.values_list("kind", flat=True)) == [
        RouteStop.Kind.UNLOAD,
        RouteStop.Kind.DEPOT_END,
    ]


def test_not_collected_adds_no_load(container_day):
    plan = container_day
    finish_all(plan, status=RouteStop.Status.EXCEPTION)

    replan(plan, reason="Kontainer penuh", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan.refresh_from_db()
    new = [s for s in live(plan) if s.revision == 2]
    assert [s.kind for s in new] == [RouteStop.Kind.DEPOT_END]
