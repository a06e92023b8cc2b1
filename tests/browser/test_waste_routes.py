"""A waste operator plans the day and opens a route with its map."""

import re
from datetime import date, time

import pytest
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.registry.services import BuildingInput, register_building
from kotacerdas.waste.models import Crew, RoutePlan, Schedule, Site, Vehicle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "operator-password-1"
PLAN_DAY = date(2031, 5, 7)


@pytest.fixture
def operator(transactional_db, settings):
    settings.KOTACERDAS_ROUTING_TIME_LIMIT_S = 1.0
    load_profile("padang-panjang")
    area = Area.objects.get(code="13.74.02.1002")
    depot = Site.objects.create(
        code="depot-1", name="Depot", kind=Site.Kind.DEPOT, lat="-0.465", lng="100.395"
    )
    Site.objects.create(
        code="tpa-1", name="TPA", kind=Site.Kind.TPA, lat="-0.480", lng="100.410"
    )
    truck = Vehicle.objects.create(
        plate_number="BA 1001 PP",
        kind=Vehicle.Kind.DUMP_TRUCK,
        capacity_kg=2000,
        capacity_m3="6.00",
        depot=depot,
    )
    crew = Crew.objects.create(name="Crew A", vehicle=truck)
    Schedule.objects.create(
        kelurahan=area,
        weekdays="135",
        shift_start=time(6, 0),
        shift_end=time(14, 0),
        crew=crew,
        valid_from=date(2031, 1, 1),
    )
    for number in range(1, 4):
        register_building(
            BuildingInput(
                kelurahan_code=area.code,
                rw=1,
                rt=1,
                street_address=f"Jl. Sutan Syahrir No. {number}",
                use="house",
                lat=f"-0.46{number}",
                lng="100.400",
            )
        )
    return create_user("operator", PASSWORD, ["waste_operator"])


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill("operator")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def test_plan_day_then_open_route_map(live_server, operator, browser_page):
    page = browser_page
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/waste/routes/?date={PLAN_DAY}")
    page.locator("[data-plan-day]").click()
    row = page.locator("tr[data-plan]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-progress]")).to_have_text("0/3")

    row.get_by_role("link", name="BA 1001 PP").click()
    plan = RoutePlan.objects.get()
    expect(page).to_have_url(re.compile(rf"/waste/routes/{plan.pk}/$"))
    expect(page.locator("#route-map.leaflet-container")).to_be_visible()
    # Depot start, three houses, the unload at the TPA and the depot again.
    expect(page.locator("path.route-stop-marker")).to_have_count(6)
    expect(page.locator("path.route-line")).to_have_count(1)
    expect(page.locator('tr[data-kind="unload"]')).to_contain_text("TPA")
