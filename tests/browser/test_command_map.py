"""The command center's city map in chromium, in Indonesian and English.

The demo city gives every kelurahan figures to shade by. One container is
filled above its threshold and one report is filed, so every layer has points.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from tests.browser.conftest import sign_in

from kotacerdas.command import projector
from kotacerdas.command.figures import FIGURES_BY_KEY
from kotacerdas.demo import services as demo
from kotacerdas.registry.models import Building
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Container
from kotacerdas.waste.reports import services as reports

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SEED = 5
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var/test-output/screenshots"


def build_city(citizen) -> None:
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    container = Container.objects.filter(active=True).order_by("id").first()
    observed = (timezone.now() - timedelta(minutes=2)).isoformat()
    sensors.ingest(container, {"fillingLevel": 0.9, "dateObserved": observed}, "http")
    building = Building.objects.order_by("id").first()
    report = reports.ReportInput(
        kind="illegal_dumping",
        description="Tumpukan sampah di tepi jalan",
        lat=building.lat,
        lng=building.lng,
    )
    reports.file_report(report, citizen)
    projector.catch_up()


def open_map(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/command/map/")
    expect(page.locator("#command-map path.leaflet-interactive")).not_to_have_count(0)


def legend_rows(page: Page) -> list[str]:
    return (
        page.get_by_test_id("legend-shading").locator(".legend-row").all_inner_texts()
    )


def test_city_map_in_both_languages(live_server, browser_page, personas):
    build_city(personas["citizen"])
    active = Container.objects.filter(active=True).count()
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # Indonesian first: the boundaries, the legend and every point layer.
    sign_in(page, live_server.url, personas["command_center"], "id")
    open_map(page, live_server.url)

    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("#command-map path.command-kelurahan")).to_have_count(16)
    expect(page.locator("#command-map path.command-container")).to_have_count(active)
    expect(page.locator("#command-map path.command-container-above")).to_have_count(1)
    expect(page.locator("#command-map .command-report")).to_have_count(1)
    expect(page.locator("#command-map path.command-route-line")).not_to_have_count(0)
    legend = page.get_by_test_id("map-legend")
    expect(legend).to_be_visible()
    select = page.get_by_test_id("shading-select")
    expect(select).to_have_value("collection_rate")
    with translation.override("id"):
        rate_label = str(FIGURES_BY_KEY["collection_rate"].label)
    expect(select.locator("option:checked")).to_have_text(rate_label)
    expect(page.get_by_test_id("legend-shading").locator("h3")).to_have_text(rate_label)
    expect(page.locator("[data-map-updated]")).not_to_be_empty()
    page.screenshot(path=str(SCREENSHOTS / "command-map-id.png"), full_page=True)

    # English: the same map, and switching the figure changes the legend.
    sign_in(page, live_server.url, personas["command_center"], "en")
    open_map(page, live_server.url)

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#command-map path.command-kelurahan")).to_have_count(16)
    title = page.get_by_test_id("legend-shading").locator("h3")
    expect(title).to_have_text("Levy collection rate this month")
    expect(legend).to_contain_text("Containers by fill level")
    expect(legend).to_contain_text("At or above the threshold")
    expect(legend).to_contain_text("Past its SLA")
    rate_rows = legend_rows(page)
    rate_fills = page.locator("path.command-kelurahan").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    page.screenshot(path=str(SCREENSHOTS / "command-map-en.png"), full_page=True)

    page.get_by_test_id("shading-select").select_option("buildings")

    expect(title).to_have_text("Buildings registered")
    assert legend_rows(page) != rate_rows
    building_fills = page.locator("path.command-kelurahan").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    assert building_fills != rate_fills
    assert len(set(building_fills)) > 1


def test_kelurahan_popup_links_its_list(live_server, browser_page, personas):
    build_city(personas["citizen"])
    page = browser_page
    sign_in(page, live_server.url, personas["auditor"], "en")
    open_map(page, live_server.url)
    expect(page.locator("#command-map path.command-kelurahan")).to_have_count(16)

    page.evaluate(
        "document.getElementById('command-map').commandMap"
        ".layers.kelurahan.getLayers()[0].openPopup()"
    )

    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Levy collection rate this month")
    first = "13.74.01.1001"
    buildings = Building.objects.filter(kelurahan__code=first).count()
    link = popup.get_by_role("link", name=f"Buildings registered: {buildings}")
    expect(link).to_have_attribute(
        "href", f"/command/lists/buildings/?kelurahan={first}"
    )


def test_buildings_appear_when_zoomed_in(live_server, browser_page, personas):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    projector.catch_up()
    building = Building.objects.filter(lat__isnull=False).order_by("id").first()
    page = browser_page
    sign_in(page, live_server.url, personas["admin"], "en")
    open_map(page, live_server.url)
    expect(page.locator(".command-map-status")).to_contain_text(
        "Zoom in to see buildings."
    )

    page.evaluate(
        "([lat, lng]) => document.getElementById('command-map').commandMap"
        ".map.setView([lat, lng], 17)",
        [float(building.lat), float(building.lng)],
    )

    expect(page.locator("#command-map path.command-building")).not_to_have_count(0)
    expect(page.locator(".command-map-status")).not_to_contain_text("Zoom in")


def test_live_refresh_keeps_the_view(live_server, browser_page, personas):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    building = Building.objects.filter(lat__isnull=False).order_by("id").first()
    page = browser_page
    sign_in(page, live_server.url, personas["command_center"], "en")
    open_map(page, live_server.url)
    expect(page.locator("#command-map .command-report")).to_have_count(0)
    page.evaluate(
        "([lat, lng]) => document.getElementById('command-map').commandMap"
        ".map.setView([lat, lng], 16)",
        [float(building.lat), float(building.lng)],
    )
    view_before = page.evaluate(VIEW_SCRIPT)

    # The boundaries reload with fresh figures but do not fit the city again.
    loaded = page.evaluate(UPDATE_SCRIPT)
    page.evaluate("document.getElementById('command-map').commandMap.tick('kelurahan')")
    page.wait_for_function(f"({UPDATE_SCRIPT})() > {loaded}")
    assert page.evaluate(VIEW_SCRIPT) == view_before

    report = reports.ReportInput(
        kind="missed_pickup",
        description="Sampah belum diangkut sejak kemarin",
        lat=building.lat,
        lng=building.lng,
    )
    reports.file_report(report, personas["citizen"])
    page.evaluate("document.getElementById('command-map').commandMap.tick('reports')")

    expect(page.locator("#command-map .command-report")).to_have_count(1)
    assert page.evaluate(VIEW_SCRIPT) == view_before


VIEW_SCRIPT = """() => {
  const map = document.getElementById('command-map').commandMap.map;
  const centre = map.getCenter();
  return [map.getZoom(), centre.lat.toFixed(6), centre.lng.toFixed(6)];
}"""
UPDATE_SCRIPT = (
    """() => document.getElementById('command-map').commandMap.lastUpdate.getTime()"""
)
