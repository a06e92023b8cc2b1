"""`kotacerdas pilot list`, `end` and `scope` on the command line."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import ServiceScope
from kotacerdas.pilot.services import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(city):
    today = timezone.localdate()
    return api.create_pilot(
        api.PilotInput(
            slug="pilot-cli",
            name="Pilot on the command line",
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
            services=[Service.PICKUPS],
            areas=["13.74.02.1002/2"],
        )
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("pilot", *args, stdout=out)
    return out.getvalue()


def test_list_shows_pilots_and_scopes(pilot) -> None:
    listing = run("list")

    assert "pilot-cli\t" in listing
    assert "13.74.02.1002/002" in listing
    assert "scope\tpickups\teverywhere" in listing


def test_scope_sets_where_service_runs(pilot) -> None:
    output = run("scope", "pickups", "pilot_areas")

    assert output.strip() == "pickups now runs pilot_areas."
    assert ServiceScope.objects.get(service="pickups").scope == "pilot_areas"


def test_scope_rejects_unknown_service(pilot) -> None:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        run("scope", "teleport", "everywhere")

    assert "service: Choose a service from the list." in str(caught.value)


def test_end_keeps_areas(pilot) -> None:
    output = run("end", "pilot-cli")

    pilot.refresh_from_db()
    assert output.startswith("Ended pilot pilot-cli")
    assert pilot.ended_at is not None
    assert pilot.areas.count() == 1
    with pytest.raises(CommandError):
        run("end", "pilot-cli")
