"""A citizen reports a full container from a phone; an operator handles it."""

import re

import pytest
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.services import load_profile
from kotacerdas.waste.reports.models import Report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "reports-password-1"
# The position the phone reports: a point inside Kelurahan Pasar Usang.
PHONE_POSITION = {"latitude": -0.4598, "longitude": 100.398352}


@pytest.fixture
def people(transactional_db):
    load_profile("padang-panjang")
    return {
        "warga": create_user("warga", PASSWORD, ["citizen"]),
        "operator": create_user("operator", PASSWORD, ["waste_operator"]),
    }


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def test_report_filed_handled_and_seen(live_server, people, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(PHONE_POSITION)

    # The citizen files a report with the phone's position.
    sign_in(page, live_server.url, "warga")
    page.goto(f"{live_server.url}/waste/reports/new/")
    page.locator("select[name=kind]").select_option("full_container")
    page.locator("textarea[name=description]").fill("Kontainer penuh, sampah tumpah")
    page.locator("#use-my-location").click()
    expect(page.locator("input[name=lat]")).to_have_value("-0.459800")
    expect(page.locator("input[name=lng]")).to_have_value("100.398352")
    expect(page.locator("path.registry-picked-point")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.locator("form.report-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/waste/reports/\d+/$"))
    report = Report.objects.get()
    assert report.kelurahan is not None
    assert report.kelurahan.code == "13.74.02.1002"

    # The operator finds it in the queue and moves it on with a public note.
    sign_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/waste/reports/queue/")
    page.locator(f"table.report-queue a[href$='/{report.pk}/']").click()
    page.locator("select[name=update-status]").select_option("triaged")
    page.locator("textarea[name=update-note]").fill("Truk dijadwalkan siang ini")
    page.locator("form[action$='/update/'] button[type=submit]").click()
    expect(page.locator("#report-status")).to_have_class(re.compile("status-triaged"))

    # The citizen sees the update on the phone.
    sign_in(page, live_server.url, "warga")
    page.goto(f"{live_server.url}/waste/reports/")
    page.locator(f"a[href$='/waste/reports/{report.pk}/']").click()
    expect(page.locator(".update-note")).to_have_text("Truk dijadwalkan siang ini")
    expect(page.locator("#report-status")).to_have_class(re.compile("status-triaged"))
