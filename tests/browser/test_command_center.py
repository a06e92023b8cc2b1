"""The command center in chromium: dashboard in both languages, live alert, wall.

The demo city gives every chart and table something to show. While the
dashboard is open a container's sensor crosses its threshold, and the alert
must appear, marked new, without a page reload. Full-page screenshots go to
var/test-output/screenshots/ for a person to look at.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from tests.browser.conftest import sign_in

from kotacerdas.command import display, figures, projector
from kotacerdas.demo import services as demo
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Alert, Container

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SEED = 5
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var/test-output/screenshots"
CHARTS = ("chart-transactions", "chart-waste", "chart-collection-rate", "chart-routes")

# For one chart canvas: its Chart.js instance, how many values are not zero,
# and how many pixels were painted (a blank canvas has none).
CHART_STATE = """
(id) => {
  const canvas = document.getElementById(id);
  const chart = window.Chart && Chart.getChart(canvas);
  if (!chart) { return null; }
  const values = chart.data.datasets.flatMap((dataset) => dataset.data);
  const pixels = canvas.getContext("2d")
    .getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted++; } }
  return {datasets: chart.data.datasets.length, nonzero: values.filter((v) => v).length,
          painted: painted};
}
"""


def check_charts_drawn(page: Page) -> None:
    for chart_id in CHARTS:
        # Chart.js draws on the next animation frame, and again after a resize.
        page.wait_for_function(
            f"(id) => {{ const s = ({CHART_STATE})(id); return s && s.painted > 0; }}",
            arg=chart_id,
        )
        state = page.evaluate(CHART_STATE, chart_id)
        assert state is not None, f"{chart_id} has no Chart.js instance"
        assert state["datasets"] > 0, chart_id
        assert state["nonzero"] > 0, chart_id
        assert state["painted"] > 0, f"{chart_id} is blank"


def check_map(page: Page) -> None:
    expect(page.locator("#command-map")).to_have_count(1)
    if page.locator("#command-map[data-command-map]").count():
        # The map panel draws the kelurahan boundaries as Leaflet paths.
        paths = page.locator("#command-map path.leaflet-interactive")
        expect(paths).not_to_have_count(0)


def figure_text(key: str, language: str) -> str:
    value = figures.value(key, figures.StoredTallies())
    with translation.override(language):
        return display.figure_value(figures.FIGURES_BY_KEY[key].unit, value)


def fill_container(container: Container, level: float) -> None:
    observed = (timezone.now() - timedelta(minutes=1)).isoformat()
    payload = {"fillingLevel": level, "dateObserved": observed}
    result = sensors.ingest(container, payload, "http")
    assert result.alert == "opened"


def test_command_center_in_chromium(live_server, browser_page, personas):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    projector.catch_up()
    container = Container.objects.filter(active=True).order_by("id").first()
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    user = personas["command_center"]

    # Indonesian first: headings, rupiah grouped with dots, charts and map drawn.
    sign_in(page, live_server.url, user, "id")
    page.goto(f"{live_server.url}/command/")

    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pusat komando")
    expect(page.locator("#section-registry")).to_have_text("Registrasi")
    expect(page.locator("#section-waste")).to_have_text("Persampahan")
    expect(page.locator("#section-ledger")).to_have_text("Buku besar")
    value = page.locator('[data-figure-key="transfer_value_today"] .figure')
    expect(value).to_have_text(figure_text("transfer_value_today", "id"))
    assert "." in figure_text("transfer_value_today", "id")
    check_charts_drawn(page)
    check_map(page)
    page.screenshot(path=str(SCREENSHOTS / "command-center-id.png"), full_page=True)

    # A container crosses its threshold: the alert arrives by polling, marked new.
    alerts_before = page.get_by_test_id("alert").count()
    fill_container(container, 0.93)
    new_alert = page.locator(".alert-item.is-new")
    expect(new_alert).to_have_count(1, timeout=25_000)
    expect(new_alert).to_contain_text(container.name)
    expect(page.get_by_test_id("alert")).to_have_count(alerts_before + 1)
    assert Alert.objects.filter(cleared_at__isnull=True).count() == alerts_before + 1

    # English: the same page in the other language, rupiah grouped with commas.
    sign_in(page, live_server.url, user, "en")
    page.goto(f"{live_server.url}/command/")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Command center")
    expect(page.locator("#section-registry")).to_have_text("Registry")
    expect(page.locator("#section-money")).to_have_text("Money")
    expect(page.locator("#section-ledger")).to_have_text("Ledger")
    expect(page.get_by_test_id("explain-link")).to_have_count(len(figures.FIGURES))
    value = page.locator('[data-figure-key="transfer_value_today"] .figure')
    expect(value).to_have_text(figure_text("transfer_value_today", "en"))
    expect(page.get_by_test_id("alerts")).to_contain_text(
        "Container above its threshold"
    )
    check_charts_drawn(page)
    check_map(page)
    page.screenshot(path=str(SCREENSHOTS / "command-center-en.png"), full_page=True)

    # Wall mode: no navigation, dark, and the panels rotate on their own.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/command/wall/?rotate=2")

    body = page.locator("body")
    expect(body).to_have_class("wall wall-rotating")
    expect(page.locator("nav")).to_have_count(0)
    expect(body).to_have_attribute("data-current-panel", "figures")
    expect(page.get_by_test_id("wall-figures")).to_be_visible()
    expect(page.get_by_test_id("wall-route-progress")).to_contain_text("/")
    page.screenshot(path=str(SCREENSHOTS / "command-center-wall.png"), full_page=True)
    expect(body).to_have_attribute("data-current-panel", "map", timeout=6_000)
    expect(page.get_by_test_id("wall-figures")).to_be_hidden()
    expect(body).to_have_attribute("data-current-panel", "charts", timeout=6_000)
    check_charts_drawn(page)
