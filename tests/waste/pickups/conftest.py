"""Fixtures for pickup tests: a house on today's route, a crew and a TPS container."""

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kotacerdas.city.models import Area
from kotacerdas.journal.models import Entry
from kotacerdas.levy.services import ensure_tariffs
from kotacerdas.registry.models import Building, Household
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    current_plate,
    register_building,
    register_household,
)
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import AccountKind
from kotacerdas.waste.container_plates import container_plate_url
from kotacerdas.waste.models import (
    Container,
    Crew,
    RoutePlan,
    RouteStop,
    Site,
    Vehicle,
)
from kotacerdas.waste.pickups import PickupInput
from kotacerdas.waste.places import (
    ContainerInput,
    SiteInput,
    VehicleInput,
    save_container,
    save_site,
    save_vehicle,
)
from kotacerdas.waste.places_crews import (
    CrewInput,
    ScheduleInput,
    save_crew,
    save_schedule,
)

PASAR_USANG = "13.74.02.1002"
HOUSE_LAT = Decimal("-0.465100")
HOUSE_LNG = Decimal("100.400200")
# About 600 m north of the houses: 0.0054 degrees of latitude.
FAR_LAT = "-0.459700"

_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def add_house(street: str = "Jl. Sutan Syahrir No. 12", **changes) -> Building:
    values = {
        "kelurahan_code": PASAR_USANG,
        "rw": "2",
        "rt": "3",
        "street_address": street,
        "use": "house",
        "lat": str(HOUSE_LAT),
        "lng": str(HOUSE_LNG),
        "floors": 1,
        "pln_va": 1300,
    }
    values.update(changes)
    return register_building(BuildingInput(**values))


def add_household(building: Building) -> Household:
    serial = next(_serials)
    return register_household(
        building,
        f"137402010115{serial:04d}",
        [MemberInput(f"Warga Contoh {serial}", f"137402470895{serial:04d}", "head")],
    )


def signed_text(building: Building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def pickup_input(plate: str, **changes) -> PickupInput:
    values = {
        "client_id": str(uuid.uuid4()),
        "plate": plate,
        "outcome": "collected",
        "scanned_at": timezone.now().replace(microsecond=0).isoformat(),
        "category": "mixed",
        "lat": str(HOUSE_LAT),
        "lng": str(HOUSE_LNG),
        "accuracy_m": "8",
        "weight_kg": "3.25",
    }
    values.update(changes)
    return PickupInput(**values)


@dataclass
class Route:
    plan: RoutePlan
    crew: Crew
    vehicle: Vehicle
    depot: Site
    tps: Site
    houses: list[Building]
    stops: list[RouteStop]
    container: Container


@pytest.fixture
def pasar_usang(city) -> Area:
    return Area.objects.get(code=PASAR_USANG)


def make_container(site: Site) -> Container:
    container = save_container(
        ContainerInput(
            site_id=site.pk,
            name="TPS Pasar Usang bin 1",
            volume_m3="1.10",
            max_load_kg=400,
        )
    )
    # A sensor reading of two hours ago, before the collector empties it.
    Container.objects.filter(pk=container.pk).update(
        fill_level=Decimal("0.900"),
        fill_observed_at=timezone.now() - timedelta(hours=2),
    )
    container.refresh_from_db()
    return container


def container_text(container: Container) -> str:
    url = container_plate_url(container)
    return "http://testserver" + url[url.index("/p/") :]


@pytest.fixture
def route(personas, pasar_usang) -> Route:
    """Today's plan of the collector's crew: depot, three houses, a container, TPS.

    Places go through the places services, so `ledger verify` finds their
    events; the plan and stops are written directly, as the planner would.
    """
    depot = save_site(
        SiteInput(code="depot-1", name="Depot", kind="depot", lat="-0.46", lng="100.40")
    )
    tps = save_site(
        SiteInput(
            code="tps-pasar-usang",
            name="TPS Pasar Usang",
            kind="tps",
            kelurahan_code=PASAR_USANG,
            lat=str(pasar_usang.centroid_lat),
            lng=str(pasar_usang.centroid_lng),
        )
    )
    vehicle = save_vehicle(
        VehicleInput(
            plate_number="BA 1234 XY",
            kind=Vehicle.Kind.MOTOR_CART,
            capacity_kg=800,
            capacity_m3="2.00",
            depot_id=depot.pk,
        )
    )
    crew = save_crew(
        CrewInput(
            name="Crew A", vehicle_id=vehicle.pk, member_ids=[personas["collector"].pk]
        )
    )
    plan = RoutePlan.objects.create(
        date=timezone.localdate(),
        vehicle=vehicle,
        crew=crew,
        shift_start=time(6, 0),
        shift_end=time(12, 0),
        engine="test",
    )
    houses = [add_house(f"Jl. Sutan Syahrir No. {number}") for number in (12, 14, 16)]
    container = make_container(tps)
    stops = [
        RouteStop.objects.create(
            plan=plan,
            sequence=0,
            kind="depot_start",
            site=depot,
            lat=depot.lat,
            lng=depot.lng,
        )
    ]
    for sequence, house in enumerate(houses, start=1):
        stops.append(
            RouteStop.objects.create(
                plan=plan,
                sequence=sequence,
                kind="building",
                building=house,
                lat=house.lat,
                lng=house.lng,
                arrival=time(6, 10 * sequence),
            )
        )
    stops.append(
        RouteStop.objects.create(
            plan=plan,
            sequence=4,
            kind="container",
            container=container,
            lat=container.lat,
            lng=container.lng,
        )
    )
    stops.append(
        RouteStop.objects.create(
            plan=plan, sequence=5, kind="unload", site=tps, lat=tps.lat, lng=tps.lng
        )
    )
    return Route(plan, crew, vehicle, depot, tps, houses, stops, container)


@pytest.fixture
def credit_ready(route, pasar_usang):
    """Make the first house creditable: a household whose head has a wallet, a
    Monday-Wednesday-Friday schedule, tariffs, and money in the levy revenue."""
    house = route.houses[0]
    household = add_household(house)
    head = household.members.get(relation="head")
    account = wallet.open_account(AccountKind.CITIZEN, member=head)
    ensure_tariffs()
    save_schedule(
        ScheduleInput(
            kelurahan_code=PASAR_USANG,
            weekdays="135",
            shift_start="06:00",
            shift_end="12:00",
            crew_id=route.crew.pk,
            valid_from=timezone.localdate().replace(day=1) - timedelta(days=40),
        )
    )
    payer = wallet.open_account(AccountKind.CITIZEN, label="payer")
    wallet.top_up(payer.number, 500_000, transfer_id="fund-payer", channel="counter")
    wallet.submit(
        wallet.TransferRequest(
            id="levy-in",
            debit=payer.number,
            credit=wallet.revenue_account("waste_levy").number,
            amount=200_000,
            kind="levy",
        )
    )
    return account


def payloads(event_type: str) -> list[dict]:
    return [
        json.loads(bytes(entry.body))["payload"]
        for entry in Entry.objects.filter(event_type=event_type).order_by("seq")
    ]
