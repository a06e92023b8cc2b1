"""Fixtures of the places tests: a depot, a TPS, a vehicle and a crew."""

import pytest
from django.utils import translation

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.waste import places, places_crews

PASAR_USANG = "13.74.02.1002"
GANTING = "13.74.01.1001"


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert the English source messages, on pages too (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def centre(code: str) -> tuple[str, str]:
    """Return the centroid of a kelurahan as (lat, lng) text."""
    area = Area.objects.get(code=code)
    return str(area.centroid_lat), str(area.centroid_lng)


@pytest.fixture
def depot(city):
    lat, lng = centre(PASAR_USANG)
    return places.save_site(
        places.SiteInput(
            code="depot-test", name="Depot DLH", kind="depot", lat=lat, lng=lng
        )
    )


@pytest.fixture
def tps(city):
    lat, lng = centre(PASAR_USANG)
    return places.save_site(
        places.SiteInput(
            code="tps-test",
            name="TPS Pasar Usang",
            kind="tps",
            lat=lat,
            lng=lng,
            kelurahan_code=PASAR_USANG,
        )
    )


@pytest.fixture
def truck(depot):
    return places.save_vehicle(
        places.VehicleInput(
            plate_number="BA 8101 PP",
            kind="dump_truck",
            capacity_kg=6000,
            capacity_m3="8",
            depot_id=depot.pk,
        )
    )


@pytest.fixture
def collector_user(city):
    return create_user("places-collector", "collector-password-1", ["collector"])


@pytest.fixture
def crew(truck, collector_user):
    return places_crews.save_crew(
        places_crews.CrewInput(
            name="Tim Uji", vehicle_id=truck.pk, member_ids=[collector_user.pk]
        )
    )
