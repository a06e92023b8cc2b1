"""The collector's phone page in chromium: scan a plate photo, record, go offline.

The plate is read from a photo by jsQR in the page and its signature checked
with WebCrypto, the position comes from chromium's emulated geolocation, and
the pickup travels through the IndexedDB queue to the pickups API. The
offline test cuts the network with Playwright, reloads the page from the
service worker's cache, records a pickup and checks it arrives exactly once
when the network returns.
"""

import io
from datetime import time
from pathlib import Path

import pytest
import segno
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from kotacerdas.city.models import Area
from kotacerdas.registry.services import BuildingInput, current_plate, register_building
from kotacerdas.waste.models import Pickup, RoutePlan, RouteStop
from kotacerdas.waste.places import SiteInput, VehicleInput, save_site, save_vehicle
from kotacerdas.waste.places_crews import CrewInput, save_crew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASAR_USANG = "13.74.02.1002"
ADDRESS = "Jl. Sutan Syahrir No. 12"
HOUSE = {"latitude": -0.4651, "longitude": 100.4002}


def sign_in(page: Page, base_url: str, user) -> None:
    """Give the browser the session of a signed-in user and English screens."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url},
        ]
    )


@pytest.fixture
def house(personas):
    """A house on today's route of the collector's crew, before the TPS."""
    area = Area.objects.get(code=PASAR_USANG)
    building = register_building(
        BuildingInput(
            kelurahan_code=PASAR_USANG,
            rw="2",
            rt="3",
            street_address=ADDRESS,
            use="house",
            lat=str(HOUSE["latitude"]),
            lng=str(HOUSE["longitude"]),
            pln_va=1300,
        )
    )
    depot = save_site(
        SiteInput(code="depot-1", name="Depot", kind="depot", lat="-0.46", lng="100.40")
    )
    tps = save_site(
        SiteInput(
            code="tps-1",
            name="TPS Pasar Usang",
            kind="tps",
            kelurahan_code=PASAR_USANG,
            lat=str(area.centroid_lat),
            lng=str(area.centroid_lng),
        )
    )
    vehicle = save_vehicle(
        VehicleInput(
            plate_number="BA 1234 XY",
            kind="motor_cart",
            capacity_kg=800,
            capacity_m3="2",
            depot_id=depot.pk,
        )
    )
    crew = save_crew(
        CrewInput(
            name="Crew A", vehicle_id=vehicle.pk, member_ids=[personas["collector"].pk]
        )
    )
    plan = RoutePlan.objects.create(
        date=timezone.localdate(),
        vehicle=vehicle,
        crew=crew,
        shift_start=time(6, 0),
        shift_end=time(12, 0),
        engine="test",
    )
    RouteStop.objects.create(
        plan=plan,
        sequence=1,
        kind="building",
        building=building,
        lat=building.lat,
        lng=building.lng,
    )
    RouteStop.objects.create(
        plan=plan, sequence=2, kind="unload", site=tps, lat=tps.lat, lng=tps.lng
    )
    return building


def plate_photo(path: Path, building) -> Path:
    plate = current_plate(building)
    text = f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"
    buffer = io.BytesIO()
    segno.make_qr(text, error="h").save(buffer, kind="png", scale=5, border=4)
    Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").save(path, format="PNG")
    return path


def open_collector_page(page: Page, base_url: str, user) -> None:
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=base_url)
    page.context.set_geolocation(HOUSE)
    sign_in(page, base_url, user)
    page.goto(f"{base_url}/waste/collector/")
    expect(page.locator("#collector[data-ready='1']")).to_be_attached()


def record_collected(page: Page, photo: Path, weight: str) -> None:
    page.set_input_files("#plate-photo", str(photo))
    expect(page.get_by_test_id("offline-check")).to_have_text(
        "Signature checked on this phone: genuine plate of the city."
    )
    expect(page.get_by_test_id("pickup-point")).to_have_text(ADDRESS)
    page.get_by_label("Estimated weight").fill(weight)
    page.get_by_role("button", name="Save the pickup").click()


def test_collector_scans_photo_and_records(
    live_server, browser_page, personas, house, tmp_path
):
    page = browser_page
    photo = plate_photo(tmp_path / "plate.png", house)
    open_collector_page(page, live_server.url, personas["collector"])

    expect(page.get_by_test_id("stop-label").first).to_have_text(ADDRESS)
    expect(page.get_by_test_id("unload-site")).to_contain_text("TPS Pasar Usang")
    record_collected(page, photo, "3,5")

    expect(page.get_by_test_id("count-synced")).to_have_text("1")
    expect(page.get_by_test_id("count-queued")).to_have_text("0")
    expect(page.get_by_test_id("stop-status").first).to_have_text("Done")
    pickup = Pickup.objects.get()
    assert pickup.building == house
    assert pickup.weight_g == 3500
    assert pickup.distance_m == 0
    assert pickup.stop.status == "done"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_collector_records_offline_then_syncs_once(
    live_server, browser_page, personas, house, tmp_path
):
    page = browser_page
    photo = plate_photo(tmp_path / "plate.png", house)
    open_collector_page(page, live_server.url, personas["collector"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # The first visit installs the worker; reload once so it controls the page.
    page.reload()
    expect(page.locator("#collector[data-ready='1']")).to_be_attached()
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#collector[data-ready='1']")).to_be_attached()
    expect(page.get_by_test_id("connection")).to_have_text(
        "No signal: pickups are saved on this phone."
    )
    record_collected(page, photo, "2")

    expect(page.get_by_test_id("count-queued")).to_have_text("1")
    expect(page.get_by_test_id("stop-status").first).to_have_text("Saved on this phone")
    page.wait_for_timeout(1500)
    assert not Pickup.objects.exists()

    page.context.set_offline(False)

    expect(page.get_by_test_id("count-synced")).to_have_text("1")
    expect(page.get_by_test_id("count-queued")).to_have_text("0")
    page.wait_for_timeout(1500)
    assert Pickup.objects.count() == 1
    assert Pickup.objects.get().weight_g == 2000


def test_scan_controls_above_stop_list(live_server, browser_page, personas, house):
    page = browser_page
    open_collector_page(page, live_server.url, personas["collector"])

    photo_input = page.locator("#plate-photo").bounding_box()
    first_stop = page.get_by_test_id("stop").first.bounding_box()
    assert photo_input is not None
    assert first_stop is not None
    assert photo_input["y"] < first_stop["y"]
    assert photo_input["y"] < PHONE["height"]

    page.get_by_test_id("route-summary").click()
    expect(page.get_by_test_id("stop").first).to_be_hidden()
    page.get_by_test_id("route-summary").click()
    expect(page.get_by_test_id("stop").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_gps_asks_for_fresh_fix(live_server, browser_page, personas, house, tmp_path):
    page = browser_page
    page.add_init_script(
        """
        const ask = navigator.geolocation.getCurrentPosition.bind(navigator.geolocation);
        window.gpsOptions = [];
        navigator.geolocation.getCurrentPosition = (found, failed, options) => {
          window.gpsOptions.push(options);
          return ask(found, failed, options);
        };
        """
    )
    photo = plate_photo(tmp_path / "plate.png", house)
    open_collector_page(page, live_server.url, personas["collector"])

    record_collected(page, photo, "1")

    expect(page.get_by_test_id("count-synced")).to_have_text("1")
    options = page.evaluate("window.gpsOptions")
    assert len(options) == 1
    assert options[0]["maximumAge"] <= 5000
    assert options[0]["timeout"] > 0
    assert Pickup.objects.get().distance_m == 0


def test_pickup_saved_without_gps(live_server, browser_page, personas, house, tmp_path):
    page = browser_page
    photo = plate_photo(tmp_path / "plate.png", house)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, personas["collector"])
    page.goto(f"{live_server.url}/waste/collector/")
    expect(page.locator("#collector[data-ready='1']")).to_be_attached()

    page.set_input_files("#plate-photo", str(photo))
    expect(page.get_by_test_id("pickup-gps")).to_have_text(
        "No GPS position: the pickup is recorded without one."
    )
    page.get_by_label("Estimated weight").fill("1")
    page.get_by_role("button", name="Save the pickup").click()

    expect(page.get_by_test_id("count-synced")).to_have_text("1")
    assert Pickup.objects.get().lat is None
