"""A registry officer registers a building and finds it in the list and on the map."""

import re

import pytest
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.registry.models import Building

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "officer-password-1"


@pytest.fixture
def officer(transactional_db):
    load_profile("padang-panjang")
    pasar_usang = Area.objects.get(code="13.74.02.1002")
    return create_user("petugas", PASSWORD, ["registry_officer"], kelurahan=pasar_usang)


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill("petugas")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def test_register_building_then_find_it(live_server, officer, browser_page):
    page = browser_page
    sign_in(page, live_server.url)

    # Register a house, placing it by clicking the map.
    page.goto(f"{live_server.url}/registry/buildings/new/")
    page.locator("#id_rw").fill("2")
    page.locator("#id_rt").fill("3")
    page.locator("#id_street_address").fill("Jl. Sutan Syahrir No. 21")
    page.locator("#id_use").select_option("house")
    page.locator("#id_pln_va").fill("1300")
    expect(page.locator("#location-picker.leaflet-container")).to_be_visible()
    page.locator("#location-picker").click()
    expect(page.locator("#id_lat")).not_to_have_value("")
    expect(page.locator("#id_lng")).not_to_have_value("")
    page.locator("form.building-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/registry/buildings/\d+/$"))
    building = Building.objects.get()
    expect(page.locator("h1")).to_have_text(building.plate_code)
    expect(page.locator("[data-levy]")).to_contain_text("RT-II")
    assert building.lat is not None
    history = page.locator("#ledger-history tbody tr")
    expect(history).to_have_count(2)  # loaded by HTMX: registered, plate issued
    # Each entry links to its proof, which the verify page checks.
    expect(history.locator('a[href^="/verify/?entry="]')).to_have_count(2)
    expect(history.locator('a[href$="/bundle.json"]')).to_have_count(2)

    # The list shows it.
    page.goto(f"{live_server.url}/registry/")
    row = page.locator(f'tr[data-building="{building.pk}"]')
    expect(row).to_contain_text(building.plate_code)
    expect(row).to_contain_text("Jl. Sutan Syahrir No. 21")

    # The map shows a marker for it, and its popup names the plate.
    page.goto(f"{live_server.url}/registry/map/")
    marker = page.locator("path.registry-building-marker")
    expect(marker).to_have_count(1)
    marker.click()
    expect(page.locator(".building-popup")).to_contain_text(building.plate_code)
    detail = page.locator(".building-popup a")
    expect(detail).to_have_attribute("href", f"/registry/buildings/{building.pk}/")
