"""Fixtures for registry tests: a registered building and household in Pasar Usang."""

import json

import pytest
from django.utils import translation

from kotacerdas.city.models import Area
from kotacerdas.journal.models import Entry
from kotacerdas.registry.models import Building, Household
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    register_building,
    register_household,
)

HEAD_NIK = "1374024708950001"  # synthetic: Padang Panjang Barat, female, 7 Aug 1995
CHILD_NIK = "1374020512150002"  # synthetic: male, 5 Dec 2015
KK_NUMBER = "1374020101150003"


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids: Indonesian is the default
    language, and tests/i18n checks that every message has its translation."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def pasar_usang(city) -> Area:
    return Area.objects.get(code="13.74.02.1002")


def building_input(**changes) -> BuildingInput:
    values = {
        "kelurahan_code": "13.74.02.1002",
        "rw": "2",
        "rt": "3",
        "street_address": "Jl. Sutan Syahrir No. 12",
        "use": "house",
        "lat": "-0.4651",
        "lng": "100.4002",
        "floors": 1,
        "floor_area_m2": 72,
        "pln_va": 1300,
    }
    values.update(changes)
    return BuildingInput(**values)


@pytest.fixture
def building(city) -> Building:
    return register_building(building_input())


@pytest.fixture
def household(building) -> Household:
    return register_household(
        building,
        KK_NUMBER,
        [
            MemberInput("Siti Rahmah", HEAD_NIK, "head", "081234567890"),
            MemberInput("Rizky Pratama", CHILD_NIK, "child"),
        ],
    )


def payloads(event_type: str) -> list[dict]:
    return [
        json.loads(bytes(entry.body))["payload"]
        for entry in Entry.objects.filter(event_type=event_type).order_by("seq")
    ]
