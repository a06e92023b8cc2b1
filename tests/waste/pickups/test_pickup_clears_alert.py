"""A pickup that empties a container closes its fill-threshold alert."""

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.waste.pickups.conftest import container_text, pickup_input

from kotacerdas.waste.models import Alert, Container
from kotacerdas.waste.pickups import record_pickup

pytestmark = pytest.mark.django_db


def open_fill_alert(container: Container) -> Alert:
    return Alert.objects.create(kind=Alert.Kind.FILL_THRESHOLD, container=container)


def collect(container: Container, collector) -> None:
    record_pickup(
        pickup_input(
            container_text(container), lat=str(container.lat), lng=str(container.lng)
        ),
        collector,
    )


def test_collected_container_clears_fill_alert(route, personas):
    alert = open_fill_alert(route.container)

    collect(route.container, personas["collector"])

    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_newer_reading_keeps_fill_alert(route, personas):
    # A reading after the scan shows the container full again.
    Container.objects.filter(pk=route.container.pk).update(
        fill_observed_at=timezone.now() + timedelta(minutes=1)
    )
    alert = open_fill_alert(route.container)

    collect(route.container, personas["collector"])

    alert.refresh_from_db()
    assert alert.cleared_at is None
