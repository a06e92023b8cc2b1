"""The fill-levels page in chromium: a reading above the threshold shows as an alert."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect
from tests.waste.sensors.conftest import SENSOR_ID, make_container, reading

from kotacerdas.city.models import Area
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASAR_BARU = "13.74.02.1006"


def sign_in(page: Page, base_url: str, user, language: str) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url},
        ]
    )


def test_full_container_alert_in_both_languages(live_server, browser_page, personas):
    site = Site.objects.create(
        code="tps-pasar-baru",
        name="TPS Pasar Baru",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code=PASAR_BARU),
        lat="-0.465233",
        lng="100.400130",
    )
    make_container(site, 1, SENSOR_ID)
    result = sensors.ingest(SENSOR_ID, reading(0.86), "mqtt")
    assert result.alert == "opened"
    page = browser_page

    sign_in(page, live_server.url, personas["waste_operator"], "id")
    page.goto(f"{live_server.url}/waste/containers/fill/")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tingkat pengisian kontainer"
    )
    expect(page.get_by_test_id("above-count")).to_have_text("1")
    expect(page.get_by_test_id("alert-row")).to_have_count(1)
    expect(page.get_by_test_id("fill-percent").first).to_have_text("86%")

    sign_in(page, live_server.url, personas["waste_operator"], "en")
    page.goto(f"{live_server.url}/waste/containers/fill/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Container fill levels")
    expect(page.get_by_test_id("alert-row")).to_contain_text("TPS Pasar Baru")
