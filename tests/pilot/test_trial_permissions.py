"""Who may read a trial report and enter baseline figures: every role tried."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kotacerdas.accounts.roles import ROLES
from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Service

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider"]
READERS = {"admin", "command_center", "auditor"}
ENTERERS = {"admin"}


@pytest.fixture
def pilot(city) -> Pilot:
    today = timezone.localdate()
    return api.create_pilot(
        api.PilotInput(
            slug="pilot-perm",
            name="Permission pilot",
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=30),
            services=[Service.WALLET],
            areas=["13.74.02.1002"],
        )
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_page_and_pdf_by_role(persona, pilot, signed_in):
    client = signed_in(persona)
    client.cookies["django_language"] = "en"
    expected = 200 if persona in READERS else 403

    page = client.get(f"/pilot/{pilot.slug}/report/")
    pdf = client.get(f"/pilot/{pilot.slug}/report.pdf")

    assert page.status_code == expected
    assert pdf.status_code == expected
    if expected == 200:
        assert "Trial report: Permission pilot" in page.content.decode()
        # Nothing folded the pilot's own entries, and the report says so.
        assert "were not folded yet" in page.content.decode()
        assert pdf["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("persona", PERSONAS)
def test_baseline_page_by_role(persona, pilot, signed_in):
    client = signed_in(persona)

    response = client.get(f"/pilot/{pilot.slug}/baseline/")

    assert response.status_code == (200 if persona in ENTERERS else 403)


@pytest.mark.parametrize(
    "path", ["report/", "report.pdf", "baseline/"], ids=["page", "pdf", "baseline"]
)
def test_anonymous_goes_to_sign_in(path, pilot):
    response = Client().get(f"/pilot/{pilot.slug}/{path}")

    assert response.status_code == 302
    assert "/login" in response["Location"] or "next=" in response["Location"]


def test_report_before_start_says_when(city, signed_in):
    today = timezone.localdate()
    pilot = api.create_pilot(
        api.PilotInput(
            slug="later",
            name="Later pilot",
            starts_on=today + timedelta(days=5),
            ends_on=today + timedelta(days=30),
            services=[Service.WALLET],
            areas=["13.74.02.1002"],
        )
    )
    client = signed_in("auditor")
    client.cookies["django_language"] = "en"

    response = client.get(f"/pilot/{pilot.slug}/report/")

    assert response.status_code == 404
    assert "has no trial figures yet" in response.content.decode()


def test_unknown_pilot_is_not_found(signed_in):
    response = signed_in("admin").get("/pilot/no-such-pilot/report/")

    assert response.status_code == 404
