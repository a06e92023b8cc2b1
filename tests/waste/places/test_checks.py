"""The waste-places replay checker: clean after services, loud after tampering."""

import pytest
from tests.waste.places.conftest import PASAR_USANG

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.waste import places
from kotacerdas.waste.models import Container, Vehicle
from kotacerdas.waste.places_crews import ScheduleInput, save_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(tps, crew):
    container = places.save_container(
        places.ContainerInput(
            site_id=tps.pk, name="Bak 1", volume_m3=1, max_load_kg=400
        )
    )
    save_schedule(
        ScheduleInput(
            kelurahan_code=PASAR_USANG,
            weekdays="246",
            shift_start="06:00",
            shift_end="09:00",
            crew_id=crew.pk,
        )
    )
    return container


def test_ledger_clean_after_services(stocked):
    result = verify_ledger(node_verifier())
    assert result.problems == []


def test_container_changed_outside_services(stocked):
    Container.objects.filter(pk=stocked.pk).update(max_load_kg=999)
    problems = verify_ledger(node_verifier()).problems
    assert problems == [
        f"waste-places: container {stocked.pk}: max_load_kg differ from journal "
        "entry 6 (the table was changed outside the places services)"
    ]


def test_vehicle_status_changed_outside_services(stocked, truck):
    Vehicle.objects.filter(pk=truck.pk).update(status=Vehicle.Status.BROKEN)
    problems = verify_ledger(node_verifier()).problems
    assert len(problems) == 1
    assert problems[0].startswith(f"waste-places: vehicle {truck.pk}: status differ")
