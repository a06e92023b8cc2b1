"""The command center's JSON API: response shapes and input validation.

Values against the demo city are checked in test_dashboard_pages; these
tests use a city with little in it, so they run in seconds.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from tests.waste.sensors.conftest import SENSOR_ID, make_container, reading

from kotacerdas.city.models import Area
from kotacerdas.command import figures, projector
from kotacerdas.command.api import SERIES_UNITS
from kotacerdas.journal.services import journal_size
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Site

pytestmark = pytest.mark.django_db

FIGURE_FIELDS = {"key", "label", "section", "unit", "value", "as_of_seq"}
KELURAHAN_FIELDS = {
    "code",
    "name",
    "buildings",
    "households",
    "plates_installed",
    "levy_billed",
    "levy_collected",
    "collection_rate",
    "arrears",
    "pickups_today",
    "tonnage_month_g",
    "containers_waiting",
    "reports_open",
}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def client(signed_in):
    return signed_in("command_center")


def invalid(response) -> dict:
    assert response.status_code == 422
    return response.json()["error"]


def test_figures_shape_before_any_fold(client):
    body = client.get("/api/command/figures").json()

    assert [row["key"] for row in body] == [f.key for f in figures.FIGURES]
    for row in body:
        assert set(row) == FIGURE_FIELDS, row["key"]
        assert row["as_of_seq"] is None
        assert row["section"] in ("registry", "money", "waste")
        assert row["unit"] in ("count", "rupiah", "grams", "percent")
    values = {row["key"]: row["value"] for row in body}
    assert values["buildings"] == 0
    assert values["collection_rate"] is None


def test_figures_name_last_folded_entry(client, city):
    site = Site.objects.create(
        code="tps-pasar-baru",
        name="TPS Pasar Baru",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code="13.74.02.1006"),
        lat="-0.465233",
        lng="100.400130",
    )
    make_container(site, 1, SENSOR_ID)
    sensors.ingest(SENSOR_ID, reading(0.9), "mqtt")
    projector.catch_up()

    body = client.get("/api/command/figures").json()

    assert journal_size() > 0
    assert {row["as_of_seq"] for row in body} == {journal_size() - 1}


def test_kelurahan_lists_every_kelurahan(client):
    body = client.get("/api/command/kelurahan").json()

    assert len(body) == 16
    for row in body:
        assert set(row) == KELURAHAN_FIELDS, row["code"]
        assert row["collection_rate"] is None
    names = [row["name"] for row in body]
    assert names == sorted(names)
    assert "Pasar Baru" in names


@pytest.mark.parametrize("metric", sorted(SERIES_UNITS))
def test_series_of_each_metric(client, metric):
    body = client.get(f"/api/command/series/{metric}").json()

    today = timezone.localdate()
    assert body["metric"] == metric
    assert body["unit"] == SERIES_UNITS[metric]
    assert body["days"] == figures.SERIES_DAYS
    assert len(body["points"]) == figures.SERIES_DAYS
    assert body["points"][-1] == {"day": today.isoformat(), "value": 0}
    first = today - timedelta(days=figures.SERIES_DAYS - 1)
    assert body["points"][0]["day"] == first.isoformat()


@pytest.mark.parametrize("days", [1, 7, 366])
def test_series_days_in_range(client, days):
    body = client.get("/api/command/series/pickups", {"days": days}).json()

    assert body["days"] == days
    assert len(body["points"]) == days


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Input should be greater than or equal to 1"),
        ("367", "Input should be less than or equal to 366"),
        ("-1", "Input should be greater than or equal to 1"),
        (
            "week",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_series_days_out_of_range(client, days, message):
    error = invalid(client.get("/api/command/series/pickups", {"days": days}))

    assert error == {"code": "invalid", "message": message, "field": "days"}


def test_series_unknown_metric(client):
    error = invalid(client.get("/api/command/series/buildings"))

    assert error["code"] == "invalid"
    assert error["field"] == "metric"
    assert error["message"] == (
        "Input should be 'transfers', 'transfer_value', 'levy_payments', 'pickups',"
        " 'tonnage_g', 'reports_filed' or 'reports_closed'"
    )


def test_alerts_shape(client, city):
    site = Site.objects.create(
        code="tps-ganting",
        name="TPS Ganting",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code="13.74.02.1006"),
        lat="-0.465233",
        lng="100.400130",
    )
    make_container(site, 2, "ppj-tps-test-2")
    sensors.ingest("ppj-tps-test-2", reading(0.95), "mqtt")

    body = client.get("/api/command/alerts").json()

    assert len(body) == 1
    alert = body[0]
    assert set(alert) == {"id", "kind", "label", "text", "opened_at", "url"}
    assert alert["kind"] == "fill_threshold"
    assert alert["text"] == "TPS Ganting container 2 is 95.0 % full (threshold 80.0 %)"
    assert alert["url"] == "/waste/containers/fill/"


def test_openapi_lists_command_operations(client):
    schema = client.get("/api/openapi.json").json()

    tagged = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if "command" in operation.get("tags", [])
    }
    assert tagged == {
        "/api/command/figures",
        "/api/command/kelurahan",
        "/api/command/series/{metric}",
        "/api/command/alerts",
    }
