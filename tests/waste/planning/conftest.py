"""A small waste city for route planning: one depot, a TPA, a TPS, two trucks."""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

import pytest
from django.utils import translation

from kotacerdas.city.models import Area
from kotacerdas.registry.codes import new_plate_code
from kotacerdas.registry.models import Building
from kotacerdas.registry.services import BuildingInput, register_building
from kotacerdas.waste import planning
from kotacerdas.waste.models import Container, Crew, Schedule, Site, Vehicle

PASAR_USANG = "13.74.02.1002"
# A Wednesday, so schedules on "135" serve it.
PLAN_DAY = date(2031, 5, 7)
BASE_LAT = Decimal("-0.460000")
BASE_LNG = Decimal("100.400000")
ROUTE_TIME_LIMIT_S = 1.0


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert the English source messages, on pages too (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _forget_empty_vehicles():
    """Clear the route-planning job's in-memory list of vehicles with no stops.

    Vehicle ids repeat between tests, so a list left by one test would make
    the job skip a vehicle of the next.
    """
    planning._no_stops.clear()
    yield
    planning._no_stops.clear()


@dataclass
class WasteCity:
    kelurahan: Area
    depot: Site
    tpa: Site
    tps: Site
    truck: Vehicle
    spare_truck: Vehicle
    crew: Crew
    spare_crew: Crew


def offset(step_lat: int, step_lng: int) -> tuple[Decimal, Decimal]:
    """Return a point about 110 m per step from the base point."""
    return (
        BASE_LAT + Decimal(step_lat) * Decimal("0.001"),
        BASE_LNG + Decimal(step_lng) * Decimal("0.001"),
    )


def make_site(code: str, kind: str, lat: Decimal, lng: Decimal, area=None) -> Site:
    return Site.objects.create(
        code=code, name=code.upper(), kind=kind, kelurahan=area, lat=lat, lng=lng
    )


def make_vehicle(plate: str, depot: Site, capacity_kg: int) -> Vehicle:
    return Vehicle.objects.create(
        plate_number=plate,
        kind=Vehicle.Kind.DUMP_TRUCK,
        capacity_kg=capacity_kg,
        capacity_m3=Decimal("6.00"),
        depot=depot,
    )


def make_buildings(area: Area, count: int, *, rw: int = 1) -> list[Building]:
    buildings = []
    for index in range(count):
        lat, lng = offset(index % 5, index // 5)
        buildings.append(
            register_building(
                BuildingInput(
                    kelurahan_code=area.code,
                    rw=rw,
                    rt=1,
                    street_address=f"Jl. Sutan Syahrir No. {index + 1}",
                    use="house",
                    lat=str(lat),
                    lng=str(lng),
                    pln_va=900,
                )
            )
        )
    return buildings


def make_container(
    site: Site, area: Area, *, fill: str | None, max_kg=400
) -> Container:
    lat, lng = offset(-3, 2)
    return Container.objects.create(
        site=site,
        plate_code=new_plate_code("PPJ", "C"),
        plate_key_id="test",
        plate_signature="test-signature",
        name=f"Container at {site.code}",
        kelurahan=area,
        lat=lat,
        lng=lng,
        volume_m3=Decimal("1.00"),
        max_load_kg=max_kg,
        fill_level=None if fill is None else Decimal(fill),
    )


def schedule(crew: Crew, area: Area, *, service=Schedule.Service.DOOR_TO_DOOR):
    return Schedule.objects.create(
        kelurahan=area,
        service=service,
        weekdays="135",
        shift_start=time(6, 0),
        shift_end=time(14, 0),
        crew=crew,
        valid_from=date(2031, 1, 1),
    )


@pytest.fixture
def waste_city(city) -> WasteCity:
    area = Area.objects.get(code=PASAR_USANG)
    depot = make_site("depot-1", Site.Kind.DEPOT, *offset(-5, -5), area)
    tpa = make_site("tpa-1", Site.Kind.TPA, *offset(-20, 10))
    tps = make_site("tps-1", Site.Kind.TPS, *offset(-3, 2), area)
    truck = make_vehicle("BA 1001 PP", depot, 2000)
    spare_truck = make_vehicle("BA 1002 PP", depot, 2000)
    crew = Crew.objects.create(name="Crew A", vehicle=truck)
    spare_crew = Crew.objects.create(name="Crew B", vehicle=spare_truck)
    return WasteCity(area, depot, tpa, tps, truck, spare_truck, crew, spare_crew)
