"""A waste operator adds a collection schedule and sees an overlap rejected."""

import re

import pytest
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.services import load_profile
from kotacerdas.waste import places, places_crews
from kotacerdas.waste.models import Schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "operator-password-1"
GANTING = "13.74.01.1001"


@pytest.fixture
def crew(transactional_db):
    city = load_profile("padang-panjang").city
    create_user("operator-dlh", PASSWORD, ["waste_operator"])
    collector = create_user("collector-uji", PASSWORD, ["collector"])
    depot = places.save_site(
        places.SiteInput(
            code="depot-uji",
            name="Depot Uji",
            kind="depot",
            lat=city.center_lat,
            lng=city.center_lng,
        )
    )
    cart = places.save_vehicle(
        places.VehicleInput(
            plate_number="BA 8201 PB",
            kind="motor_cart",
            capacity_kg=300,
            capacity_m3="1.5",
            depot_id=depot.pk,
        )
    )
    return places_crews.save_crew(
        places_crews.CrewInput(
            name="Tim Motor Uji", vehicle_id=cart.pk, member_ids=[collector.pk]
        )
    )


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill("operator-dlh")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def fill_schedule(page: Page, base_url: str, start: str, end: str) -> None:
    page.goto(f"{base_url}/waste/schedules/new/")
    page.locator("#id_kelurahan_code").select_option(GANTING)
    page.locator("#id_service").select_option("door_to_door")
    for day in ("1", "3", "5"):
        page.locator(f"input[name=weekdays][value='{day}']").check()
    page.locator("#id_shift_start").fill(start)
    page.locator("#id_shift_end").fill(end)
    page.locator("#id_crew_id").select_option(label="Tim Motor Uji")
    page.locator("form.places-form button[type=submit]").click()


def test_create_schedule_then_overlap(live_server, crew, browser_page):
    page = browser_page
    sign_in(page, live_server.url)

    # The default form already ticks Monday, Wednesday and Friday.
    fill_schedule(page, live_server.url, "06:00", "10:00")
    expect(page).to_have_url(re.compile(r"/waste/schedules/$"))
    schedule = Schedule.objects.get()
    assert schedule.weekdays == "135"
    assert schedule.kelurahan.code == GANTING
    row = page.locator("table.places-list tbody tr").first
    expect(row).to_contain_text("Ganting")
    expect(row).to_contain_text("06:00-10:00")
    expect(row).to_contain_text("Tim Motor Uji")

    # The same crew cannot work overlapping hours on those days.
    fill_schedule(page, live_server.url, "09:00", "11:00")
    error = page.locator(".field-shift_start .errorlist")
    expect(error).to_contain_text("Tim Motor Uji")
    expect(error).to_contain_text("06:00-10:00")
    assert Schedule.objects.count() == 1
