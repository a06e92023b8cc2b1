"""The /pilot/ management pages: admin only, forms with clear messages."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kotacerdas.accounts.roles import ROLES
from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import Pilot, ServiceScope
from kotacerdas.pilot.services import Service

pytestmark = pytest.mark.django_db

PASAR_USANG = "13.74.02.1002"
PERSONAS = [role.name for role in ROLES] + ["outsider"]


def _in_english(client: Client) -> Client:
    """Choose English by cookie, as the language switch does.

    The site ignores the Accept-Language header, so only the cookie counts.
    """
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def pilot(city) -> Pilot:
    today = timezone.localdate()
    return api.create_pilot(
        api.PilotInput(
            slug="pilot-one",
            name="Pilot one",
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
            services=[Service.WALLET],
            areas=[PASAR_USANG],
        )
    )


def _urls(slug: str) -> list[tuple[str, str]]:
    return [
        ("get", "/pilot/"),
        ("get", "/pilot/new/"),
        ("post", "/pilot/new/"),
        ("get", "/pilot/scopes/"),
        ("post", "/pilot/scopes/"),
        ("get", f"/pilot/{slug}/"),
        ("get", f"/pilot/{slug}/edit/"),
        ("post", f"/pilot/{slug}/edit/"),
        ("post", f"/pilot/{slug}/grow/"),
        ("post", f"/pilot/{slug}/end/"),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_pilot_pages_admin_only(persona, signed_in, pilot) -> None:
    client = signed_in(persona)

    for method, url in _urls(pilot.slug):
        response = getattr(client, method)(url)
        if persona == "admin":
            assert response.status_code in (200, 302, 422), (method, url)
        else:
            assert response.status_code == 403, (persona, method, url)

    pilot.refresh_from_db()
    assert (pilot.ended_at is not None) == (persona == "admin")


def test_pilot_pages_send_anonymous_to_login(pilot) -> None:
    client = Client()

    for method, url in _urls(pilot.slug):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert "/login" in response["Location"]


def test_create_pilot_through_form(signed_in, city) -> None:
    client = _in_english(signed_in("admin"))
    today = timezone.localdate()

    response = client.post(
        "/pilot/new/",
        {
            "slug": "pilot-form",
            "name": "Pilot by form",
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=60)).isoformat(),
            "services": ["pickups", "sensors"],
            "areas": f"{PASAR_USANG}\n13.74.02.1006/2/5\n",
        },
    )

    assert response.status_code == 302
    created = Pilot.objects.get(slug="pilot-form")
    assert created.services == ["pickups", "sensors"]
    assert created.areas.count() == 2
    page = client.get("/pilot/pilot-form/")
    assert "RT 005" in page.content.decode()


def test_pilot_form_shows_field_errors(signed_in, city) -> None:
    client = _in_english(signed_in("admin"))

    response = client.post(
        "/pilot/new/",
        {
            "slug": "pilot-bad",
            "name": "Bad",
            "starts_on": "2027-03-10",
            "ends_on": "2027-03-01",
            "services": ["wallet"],
            "areas": "99.99.99.9999\n",
        },
    )

    text = response.content.decode()
    assert response.status_code == 422
    assert "The end date must be on or after the start date." in text
    assert "Unknown kelurahan code 99.99.99.9999" in text
    assert not Pilot.objects.filter(slug="pilot-bad").exists()


def test_scopes_form_sets_scope(signed_in, city) -> None:
    client = _in_english(signed_in("admin"))
    data = {code: "everywhere" for code in Service.values}
    data["sensors"] = "pilot_areas"

    response = client.post("/pilot/scopes/", data)

    assert response.status_code == 302
    assert ServiceScope.objects.get(service="sensors").scope == "pilot_areas"
    listing = client.get("/pilot/").content.decode()
    assert "only in pilot areas" in listing
    assert "Sensors now runs nowhere" in listing


def test_navigation_links_pilots_for_admin(signed_in, city) -> None:
    admin_page = signed_in("admin").get("/", follow=True)
    citizen_page = signed_in("citizen").get("/", follow=True)

    assert 'href="/pilot/"' in admin_page.content.decode()
    assert 'href="/pilot/"' not in citizen_page.content.decode()
