"""Fixtures for statistics tests: buildings in two kelurahan and a collector."""

from datetime import date, datetime, time

import pytest
from django.utils import timezone, translation
from tests.waste.bank.conftest import make_unit, new_member

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.registry.services import BuildingInput, register_building
from kotacerdas.waste.bank import services as bank
from kotacerdas.waste.bank import validation
from kotacerdas.waste.models import Crew, Pickup, Schedule

DAY = date(2026, 11, 10)  # a Tuesday (ISO weekday 2)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def building(kelurahan_code: str, use: str = "house", rt: str = "1"):
    return register_building(
        BuildingInput(
            kelurahan_code=kelurahan_code,
            rw="1",
            rt=rt,
            street_address="Jl. Contoh 1",
            use=use,
            lat="-0.4598",
            lng="100.3983",
        )
    )


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


_counter = iter(range(1, 10**6))


def pickup(collector, point, *, day=DAY, hour=9, **fields) -> Pickup:
    values = {
        "client_id": f"test-{next(_counter)}",
        "collector": collector,
        "scanned_at": at(day, hour),
        "outcome": Pickup.Outcome.COLLECTED,
        "category": "mixed",
    }
    values.update(fields)
    return Pickup.objects.create(building=point, **values)


@pytest.fixture
def collector(city):
    return create_user("stat-collector", "persona-password-1", ["collector"])


@pytest.fixture
def pasar_usang(city) -> Area:
    return Area.objects.get(code="13.74.02.1002")


@pytest.fixture
def ganting(city) -> Area:
    return Area.objects.get(code="13.74.01.1001")


@pytest.fixture
def crew(city):
    return Crew.objects.create(name="Crew A")


def schedule(kelurahan: Area, crew: Crew, weekdays: str = "246", unit=None) -> Schedule:
    return Schedule.objects.create(
        kelurahan=kelurahan,
        unit=unit,
        weekdays=weekdays,
        shift_start=time(6),
        shift_end=time(12),
        crew=crew,
        valid_from=date(2026, 1, 1),
    )


@pytest.fixture
def today_with_deposits(personas, collector):
    """Today: 20 kg collected; 3.2 kg PET posted, 1.5 kg cardboard rejected,
    and 0.7 kg of HDPE still pending."""
    teller = personas["waste_bank_teller"]
    unit = make_unit("sarunai", "Bank Sampah Sarunai", teller)
    member = new_member(unit)
    posted = bank.record_deposit(
        member, [("pet", 3_200), ("cardboard", 1_500)], client_id="r-1", teller=teller
    )
    validation.validate_deposit(posted, teller, rejected_items=[1])
    bank.record_deposit(member, [("hdpe", 700)], client_id="r-2", teller=teller)
    today = timezone.localdate()
    pickup(collector, building("13.74.02.1002"), day=today, weight_g=20_000)
    return today
