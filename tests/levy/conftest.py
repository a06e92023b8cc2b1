"""Fixtures for levy tests: houses and shops with households, funded wallets."""

import itertools
import json
from dataclasses import dataclass

import pytest
from django.utils import translation

from kotacerdas.journal.models import Entry
from kotacerdas.registry.models import Building, Household
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    link_member_user,
    register_building,
    register_household,
)
from kotacerdas.wallet import pins
from kotacerdas.wallet import services as wallet

PASAR_USANG = "13.74.02.1002"
GANTING = "13.74.01.1001"
PIN = "482915"

_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def building_input(**changes) -> BuildingInput:
    values = {
        "kelurahan_code": PASAR_USANG,
        "rw": "2",
        "rt": "3",
        "street_address": "Jl. Sutan Syahrir No. 12",
        "use": "house",
        "lat": "-0.4651",
        "lng": "100.4002",
        "floors": 1,
        "pln_va": 1300,
    }
    values.update(changes)
    return BuildingInput(**values)


def add_household(building: Building) -> Household:
    """Register a household of one synthetic head in `building`."""
    serial = next(_serials)
    return register_household(
        building,
        f"137402010115{serial:04d}",
        [MemberInput(f"Warga Contoh {serial}", f"137402470895{serial:04d}", "head")],
    )


@dataclass
class Place:
    building: Building
    households: list[Household]

    @property
    def household(self) -> Household:
        return self.households[0]


@pytest.fixture
def make_place(city):
    """Return a function registering a building with `households` households."""

    def make(households: int = 1, **changes) -> Place:
        building = register_building(building_input(**changes))
        return Place(building, [add_household(building) for _ in range(households)])

    return make


@pytest.fixture
def house(make_place) -> Place:
    """A 1300 VA house in Pasar Usang (class RT-II, Rp7.500) with one household."""
    return make_place()


@pytest.fixture
def shop(make_place) -> Place:
    """A 4400 VA shop in Ganting (class NIAGA-II, Rp70.000), no household."""
    return make_place(0, use="shop", pln_va=4400, kelurahan_code=GANTING)


@pytest.fixture
def citizen_of(personas):
    """Return a function linking the citizen persona to a household's head,
    with a PIN and a wallet holding `balance` rupiah."""

    def link(household: Household, balance: int = 100_000):
        user = personas["citizen"]
        link_member_user(household.members.get(relation="head"), user)
        pins.set_pin(user, PIN)
        account = wallet.wallet_for(user)
        if balance:
            wallet.top_up(
                account.number,
                balance,
                transfer_id=f"fund-{next(_serials)}",
                channel="counter",
            )
        return user

    return link


def payloads(event_type: str) -> list[dict]:
    return [
        json.loads(bytes(entry.body))["payload"]
        for entry in Entry.objects.filter(event_type=event_type).order_by("seq")
    ]
