"""The demo city's waste system: places, fleet and schedules for the small demo."""

import itertools
import math
from collections import Counter
from datetime import date, time

import pytest

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.demo import services as demo
from kotacerdas.demo.waste import (
    DEMO_COLLECTOR,
    DOOR_TO_DOOR_WEEKDAYS,
    MAX_BUILDINGS_PER_CART_DAY,
    WASTE_BANKS,
    build,
    door_to_door_days,
)
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.registry.models import Building
from kotacerdas.registry.plates import Verdict, read_plate_text
from kotacerdas.waste.container_plates import container_plate_url
from kotacerdas.waste.models import Container, Crew, Schedule, Site, Vehicle
from kotacerdas.waste.places_crews import schedules_on

pytestmark = pytest.mark.django_db
SEED = 21


@pytest.fixture
def built(city):
    create_user(DEMO_COLLECTOR, "collector-password-1", ["collector"])
    demo.build_demo_registry("small", SEED)
    return build(SEED)


def test_demo_builds_sites_and_fleet(built):
    assert built.sites == Site.objects.count()
    assert Site.objects.filter(kind=Site.Kind.TPA, code="tpa-sungai-andok").exists()
    assert Site.objects.filter(kind=Site.Kind.DEPOT).count() == 1
    assert Site.objects.filter(kind=Site.Kind.TPS3R).count() == 3
    assert Vehicle.objects.filter(kind=Vehicle.Kind.DUMP_TRUCK).count() == 4
    assert Vehicle.objects.filter(kind=Vehicle.Kind.ARM_ROLL).count() == 4
    carts = math.ceil(len(door_to_door_days()) / len(DOOR_TO_DOOR_WEEKDAYS))
    assert Vehicle.objects.filter(kind=Vehicle.Kind.MOTOR_CART).count() == carts
    assert Crew.objects.count() == Vehicle.objects.count()


def test_waste_banks_in_their_kelurahan(built):
    for name, kelurahan in WASTE_BANKS:
        site = Site.objects.get(name=f"Bank Sampah {name}")
        assert site.kind == Site.Kind.WASTE_BANK
        assert site.kelurahan is not None
        assert site.kelurahan.name == kelurahan


def test_every_kelurahan_has_tps_and_service(built):
    for area in Area.objects.filter(level=Area.Level.KELURAHAN):
        assert area.waste_sites.filter(kind=Site.Kind.TPS).exists(), area.name
        assert area.waste_schedules.filter(service="door_to_door").exists(), area.name
    market = Site.objects.filter(kind=Site.Kind.TPS, kelurahan__name="Pasar Baru")
    assert market.count() == 4
    for site in market:
        assert site.containers.count() == 1, site.code


def test_every_rt_served_twice_a_week(built):
    door_to_door = Schedule.objects.filter(service="door_to_door")
    served = Counter(
        (schedule.unit.kelurahan_id, schedule.unit.rw, schedule.unit.rt)
        for schedule in door_to_door.select_related("unit")
    )
    with_buildings = set(
        Building.objects.filter(status=Building.Status.ACTIVE).values_list(
            "kelurahan_id", "unit__rw", "unit__rt"
        )
    )
    assert set(served) == with_buildings
    assert set(served.values()) == {1}
    assert {schedule.weekdays for schedule in door_to_door} <= set(
        DOOR_TO_DOOR_WEEKDAYS
    )


def test_cart_days_within_building_cap(built):
    days = door_to_door_days()

    assert days
    active = Building.objects.filter(status=Building.Status.ACTIVE)
    assert sum(day.buildings for day in days) == active.count()
    for day in days:
        assert day.buildings <= MAX_BUILDINGS_PER_CART_DAY or len(day.rts) == 1


def test_cart_day_slots_fill_the_shift(built):
    cart = Crew.objects.filter(vehicle__kind=Vehicle.Kind.MOTOR_CART).first()
    saturday = cart.schedules.filter(weekdays__contains="6").order_by("shift_start")
    slots = [(schedule.shift_start, schedule.shift_end) for schedule in saturday]

    assert slots[0][0] == time(6)
    assert slots[-1][1] == time(11)
    for (_start, end), (next_start, _end) in itertools.pairwise(slots):
        assert end == next_start


def test_containers_have_sensors_and_plates(built):
    containers = list(Container.objects.all())
    assert len(containers) == built.containers
    assert all(container.sensor_id.startswith("ppj-tps-") for container in containers)
    assert len({container.sensor_id for container in containers}) == len(containers)
    verdict = read_plate_text(container_plate_url(containers[0])).verdict
    assert verdict == Verdict.GENUINE


def test_demo_collector_works_today(built):
    today = schedules_on(date.today())
    crews = Crew.objects.filter(members__username=DEMO_COLLECTOR)
    assert today.filter(crew__in=crews).exists()


def test_demo_waste_journal_verifies(built):
    assert verify_ledger(node_verifier()).problems == []


def test_second_build_skipped(built):
    again = build(SEED)
    assert again.skipped
    assert Schedule.objects.count() == built.schedules


def test_market_boxes_have_an_afternoon_round(built):
    afternoon = Schedule.objects.filter(
        service=Schedule.Service.CONTAINERS, shift_start__gte=time(12)
    )

    assert sorted(afternoon.values_list("kelurahan__name", flat=True)) == [
        "Pasar Baru",
        "Pasar Usang",
    ]
