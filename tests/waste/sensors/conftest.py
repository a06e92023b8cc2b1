"""Fixtures of the sensor tests: a TPS container in Pasar Baru with a sensor."""

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.waste.models import Container, Site

PASAR_BARU = "13.74.02.1006"
SENSOR_ID = "ppj-tps-test-1"


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert the English source messages, on pages too (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def make_container(
    site: Site, number: int, sensor_id: str = "", **fields: Any
) -> Container:
    return Container.objects.create(
        site=site,
        plate_code=f"PPJ-C-TEST{number:02d}-{number % 10}",
        plate_key_id="test",
        plate_signature="test",
        name=f"{site.name} container {number}",
        kelurahan=site.kelurahan,
        lat=site.lat,
        lng=site.lng,
        volume_m3="6.00",
        max_load_kg=2000,
        sensor_id=sensor_id,
        **fields,
    )


@pytest.fixture
def market_site(city) -> Site:
    return Site.objects.create(
        code="tps-pasar-baru",
        name="TPS Pasar Baru",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code=PASAR_BARU),
        lat="-0.465233",
        lng="100.400130",
    )


@pytest.fixture
def container(market_site) -> Container:
    return make_container(market_site, 1, SENSOR_ID)


def reading(fill: float, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
    """Return a FIWARE-style reading dated `at` (default: one minute ago)."""
    at = at or timezone.now() - timedelta(minutes=1)
    return {"fillingLevel": fill, "dateObserved": at.isoformat(), **extra}


@pytest.fixture
def gateway(city):
    """A service user that may send sensor data, and its API token."""
    user = create_user("sensor-gateway", None, [])
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="waste", codename="send_sensor_data"
        )
    )
    return create_api_token(user, "container sensor gateway")


def broker_or_skip() -> tuple[str, int]:
    """Return the test broker's address; fail under CI=true when it is down."""
    host, port = "127.0.0.1", 1883
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return host, port
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("Mosquitto is not answering at 127.0.0.1:1883 (CI=true)")
        pytest.skip("Mosquitto is not answering at 127.0.0.1:1883")


@pytest.fixture
def topic_prefix() -> str:
    """Return a topic prefix no other test run uses."""
    return f"kotacerdas-test/{uuid.uuid4().hex[:12]}/containers"
