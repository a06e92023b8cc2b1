"""The home page links the trial reports of running and recent pilots."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kotacerdas.accounts.roles import ROLES
from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Service
from kotacerdas.pilot.views_trial import RECENT_DAYS

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider"]
READERS = {"admin", "command_center", "auditor"}


def add_pilot(
    slug: str, starts_in_days: int, ends_in_days: int, area: str = "13.74.02.1002"
) -> Pilot:
    today = timezone.localdate()
    return api.create_pilot(
        api.PilotInput(
            slug=slug,
            name=f"Pilot {slug}",
            starts_on=today + timedelta(days=starts_in_days),
            ends_on=today + timedelta(days=ends_in_days),
            services=[Service.WALLET],
            areas=[area],
        )
    )


def report_link(pilot: Pilot) -> str:
    return f'href="{reverse("pilot_trial:report", args=[pilot.slug])}"'


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_links_reports_by_role(persona, city, signed_in):
    running = add_pilot("running", -3, 30)

    page = signed_in(persona).get(reverse("accounts:home")).content.decode()

    assert (report_link(running) in page) == (persona in READERS)


def test_home_skips_future_and_old_pilots(city, signed_in):
    running = add_pilot("running", -3, 30)
    recent = add_pilot("recent", -60, -10)
    # Another kelurahan, because pilots of one area must not overlap in time.
    future = add_pilot("future", 5, 40, area="13.74.01.1001")
    old = add_pilot("old", -RECENT_DAYS - 90, -RECENT_DAYS - 1)

    page = signed_in("auditor").get(reverse("accounts:home")).content.decode()

    assert report_link(running) in page
    assert report_link(recent) in page
    assert report_link(future) not in page
    assert report_link(old) not in page
    assert page.index(report_link(running)) < page.index(report_link(recent))
