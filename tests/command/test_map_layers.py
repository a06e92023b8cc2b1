"""The map's GeoJSON layers on the small demo city.

Building the demo city takes seconds, so one test builds it and checks each
layer as a subtest: the features equal the rows they stand for, the
properties carry no personal data, and the building cap holds.
"""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from tests.command.today_pickups import scan_stops_of_today

from kotacerdas.city.models import Area
from kotacerdas.command import figures, map_layers, projector
from kotacerdas.demo import services as demo
from kotacerdas.registry.models import Building, Member
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Container, Pickup, RoutePlan, RouteStop, Site
from kotacerdas.waste.reports import services as reports
from kotacerdas.waste.reports.models import OPEN_STATUSES, Report, Status

pytestmark = pytest.mark.django_db
SEED = 5
WHOLE_WORLD = "-180,-90,180,90"

# The only properties each layer may send. Anything else is a new field that
# must be checked for personal data before it is added here.
ALLOWED_PROPERTIES = {
    "kelurahan": {"code", "name", "values", "lists"},
    "buildings": {"plate_code", "rw", "rt", "use", "use_label", "levy_class"},
    "containers": {
        "plate_code",
        "name",
        "site",
        "kelurahan",
        "fill_percent",
        "threshold_percent",
        "above",
        "observed_at",
        "status",
        "status_label",
    },
    "routes": {
        "plan_id",
        "vehicle",
        "vehicle_kind",
        "status",
        "status_label",
        "revision",
        "stops_planned",
        "stops_done",
    },
    "pickups": {
        "plate_code",
        "outcome",
        "outcome_label",
        "scanned_at",
        "vehicle",
        "flagged",
    },
    "reports": {
        "report_id",
        "kind",
        "kind_label",
        "status_label",
        "filed_at",
        "age_hours",
        "sla_due_at",
        "overdue",
    },
}


@pytest.fixture
def demo_city(city, personas):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    scan_stops_of_today()
    _file_reports(personas["citizen"], personas["waste_operator"])
    _fill_one_container()
    projector.catch_up()
    return city


def _file_reports(citizen, operator) -> None:
    """File three reports: one open, one past its SLA, one rejected."""
    building = Building.objects.order_by("id").first()
    filed = [
        reports.file_report(
            reports.ReportInput(
                kind=kind,
                description=f"Sampah menumpuk di depan rumah nomor {n}",
                lat=building.lat,
                lng=building.lng,
            ),
            citizen,
        )
        for n, kind in enumerate(["illegal_dumping", "missed_pickup", "other"])
    ]
    overdue = filed[1]
    Report.objects.filter(pk=overdue.pk).update(
        created_at=timezone.now() - timedelta(hours=60),
        sla_due_at=timezone.now() - timedelta(hours=12),
    )
    reports.change_status(filed[2].pk, Status.REJECTED, operator, note="Bukan sampah")


def _fill_one_container() -> None:
    container = Container.objects.filter(active=True).order_by("id").first()
    observed = (timezone.now() - timedelta(minutes=2)).isoformat()
    reading = {"fillingLevel": 0.93, "dateObserved": observed}
    result = sensors.ingest(container, reading, "http")
    assert result.alert == "opened"


def _layer(client, name: str, **params: Any) -> dict[str, Any]:
    response = client.get(reverse("command:map_layer", args=[name]), params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body


def _personal_strings() -> set[str]:
    """Names, phones, addresses and report texts stored in the demo city."""
    values: set[str] = set()
    values.update(Building.objects.values_list("street_address", flat=True))
    values.update(Member.objects.values_list("full_name", flat=True))
    values.update(Member.objects.exclude(phone="").values_list("phone", flat=True))
    values.update(Report.objects.values_list("description", flat=True))
    values.update(Site.objects.exclude(address="").values_list("address", flat=True))
    users = get_user_model().objects.all()
    # Usernames are left out: the demo's are role words such as "command",
    # which the layer URLs contain.
    for field in ("first_name", "last_name", "email"):
        values.update(users.exclude(**{field: ""}).values_list(field, flat=True))
    return {value for value in values if len(value) >= 5}


def _assert_no_personal_data(name: str, body: dict[str, Any], personal: set[str]):
    for feature in body["features"]:
        assert set(feature["properties"]) <= ALLOWED_PROPERTIES[name], name
    text = json.dumps(body, ensure_ascii=False)
    leaked = sorted(value for value in personal if value in text)
    assert leaked == [], f"{name} sends personal data: {leaked[:3]}"


def _kelurahan_checks(body: dict[str, Any]) -> None:
    areas = Area.objects.exclude(level=Area.Level.KECAMATAN).exclude(
        boundary__isnull=True
    )
    assert len(body["features"]) == areas.count() == 16
    assert [f["key"] for f in body["figures"]] == list(map_layers.SHADING_FIGURES)
    assert body["default_figure"] == "collection_rate"
    rows = figures.by_kelurahan(figures.StoredTallies())
    for feature in body["features"]:
        code = feature["properties"]["code"]
        values = feature["properties"]["values"]
        buildings = (
            Building.objects.filter(kelurahan__code=code)
            .exclude(status=Building.Status.DEMOLISHED)
            .count()
        )
        assert values["buildings"] == buildings, code
        assert values["collection_rate"] == rows[code].collection_rate, code
        assert values["arrears"] == rows[code].arrears, code
        open_reports = Report.objects.filter(
            kelurahan__code=code, status__in=OPEN_STATUSES
        ).count()
        assert values["reports_open"] == open_reports, code
        bills = feature["properties"]["lists"]["collection_rate"]
        assert bills.startswith(reverse("command:list", kwargs={"name": "bills"}))
        assert f"kelurahan={code}" in bills
    rates = [f["properties"]["values"]["collection_rate"] for f in body["features"]]
    assert any(rate is not None and rate > 0 for rate in rates)


def _buildings_checks(client) -> None:
    located = Building.objects.filter(lat__isnull=False).exclude(
        status=Building.Status.DEMOLISHED
    )
    body = _layer(client, "buildings", bbox=WHOLE_WORLD, zoom="16")
    assert len(body["features"]) == located.count() > 100
    assert body["truncated"] is False
    plates = {f["properties"]["plate_code"] for f in body["features"]}
    assert plates == set(located.values_list("plate_code", flat=True))

    # A box around a quarter of the buildings returns exactly those inside it.
    lats = sorted(located.values_list("lat", flat=True))
    lngs = sorted(located.values_list("lng", flat=True))
    south, north = lats[0], lats[len(lats) // 2]
    west, east = lngs[0], lngs[len(lngs) // 2]
    inside = located.filter(
        lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east
    ).count()
    bbox = f"{west},{south},{east},{north}"
    body = _layer(client, "buildings", bbox=bbox, zoom="17")
    assert 0 < len(body["features"]) == inside < located.count()

    body = _layer(client, "buildings", bbox=WHOLE_WORLD, zoom="14")
    assert body["features"] == []
    assert body["min_zoom"] == 15


def _containers_checks(body: dict[str, Any]) -> None:
    active = Container.objects.filter(active=True)
    assert len(body["features"]) == active.count() > 0
    above = [f["properties"] for f in body["features"] if f["properties"]["above"]]
    assert [p["fill_percent"] for p in above] == [93]
    assert above[0]["threshold_percent"] == 80
    assert above[0]["observed_at"] is not None
    silent = [f for f in body["features"] if f["properties"]["fill_percent"] is None]
    assert len(silent) == active.filter(fill_level__isnull=True).count()


def _routes_checks(body: dict[str, Any]) -> None:
    plans = RoutePlan.objects.filter(date=timezone.localdate()).exclude(
        status=RoutePlan.Status.CANCELLED
    )
    assert len(body["features"]) == plans.count() > 0
    for feature in body["features"]:
        plan_id = feature["properties"]["plan_id"]
        live = RouteStop.objects.filter(plan_id=plan_id).exclude(
            status=RouteStop.Status.CANCELLED
        )
        points = live.filter(kind__in=["building", "container"])
        assert feature["geometry"]["type"] == "LineString"
        assert len(feature["geometry"]["coordinates"]) == live.count(), plan_id
        assert feature["properties"]["stops_planned"] == points.count(), plan_id
        assert feature["properties"]["stops_done"] == (
            points.filter(status=RouteStop.Status.DONE).count()
        ), plan_id
    first = live.order_by("sequence").first()
    assert feature["geometry"]["coordinates"][0] == [float(first.lng), float(first.lat)]


def _pickups_checks(client, body: dict[str, Any], monkeypatch) -> None:
    start, end = map_layers.today_bounds()
    today = Pickup.objects.filter(
        scanned_at__gte=start, scanned_at__lt=end, duplicate_of__isnull=True
    )
    assert len(body["features"]) == today.count() > 0
    flagged = [f for f in body["features"] if f["properties"]["flagged"]]
    assert len(flagged) == today.filter(review=Pickup.Review.PENDING).count()
    times = [f["properties"]["scanned_at"] for f in body["features"]]
    assert times == sorted(times, reverse=True)

    # A cap below today's count keeps the newest.
    cap = len(body["features"]) - 1
    assert cap > 0
    monkeypatch.setattr(map_layers, "LAST_PICKUPS", cap)
    capped = _layer(client, "pickups")
    assert len(capped["features"]) == cap
    assert capped["features"] == body["features"][:cap]


def _reports_checks(body: dict[str, Any]) -> None:
    open_reports = Report.objects.filter(status__in=OPEN_STATUSES).count()
    assert open_reports == 2
    assert len(body["features"]) == open_reports
    by_kind = {f["properties"]["kind"]: f["properties"] for f in body["features"]}
    assert set(by_kind) == {"illegal_dumping", "missed_pickup"}
    assert by_kind["missed_pickup"]["overdue"] is True
    assert by_kind["missed_pickup"]["age_hours"] == 60
    assert by_kind["illegal_dumping"]["overdue"] is False
    assert by_kind["illegal_dumping"]["age_hours"] == 0


def test_layers_on_demo_city(demo_city, signed_in, subtests, monkeypatch):
    client = signed_in("command_center")
    personal = _personal_strings()
    assert len(personal) > 100
    bodies = {
        name: _layer(client, name, bbox=WHOLE_WORLD, zoom="16")
        for name in map_layers.LAYERS
    }

    for name, body in bodies.items():
        with subtests.test("no personal data", layer=name):
            _assert_no_personal_data(name, body, personal)
    with subtests.test("kelurahan"):
        _kelurahan_checks(bodies["kelurahan"])
    with subtests.test("buildings"):
        _buildings_checks(client)
    with subtests.test("containers"):
        _containers_checks(bodies["containers"])
    with subtests.test("routes"):
        _routes_checks(bodies["routes"])
    with subtests.test("pickups"):
        _pickups_checks(client, bodies["pickups"], monkeypatch)
    with subtests.test("reports"):
        _reports_checks(bodies["reports"])


def test_building_cap_marks_truncated(city, signed_in, monkeypatch):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    monkeypatch.setattr(map_layers, "MAX_BUILDING_POINTS", 25)
    client = signed_in("auditor")

    body = _layer(client, "buildings", bbox=WHOLE_WORLD, zoom="18")

    assert len(body["features"]) == 25
    assert body["truncated"] is True
    assert body["limit"] == 25
    first = (
        Building.objects.filter(lat__isnull=False)
        .exclude(status=Building.Status.DEMOLISHED)
        .order_by("id")[:25]
    )
    assert [f["properties"]["plate_code"] for f in body["features"]] == [
        b.plate_code for b in first
    ]


def test_kelurahan_without_tallies_shows_zero(city, signed_in):
    body = _layer(signed_in("admin"), "kelurahan")

    assert len(body["features"]) == 16
    values = body["features"][0]["properties"]["values"]
    assert values["collection_rate"] is None
    assert values["buildings"] == 0
    assert values["reports_open"] == 0


def test_pickup_without_gps_uses_point_location(demo_city, signed_in):
    start, end = map_layers.today_bounds()
    pickup = (
        Pickup.objects.filter(scanned_at__gte=start, scanned_at__lt=end)
        .filter(Q(container__isnull=False), duplicate_of__isnull=True)
        .order_by("-scanned_at", "-id")
        .first()
    )
    Pickup.objects.filter(pk=pickup.pk).update(lat=None, lng=None)

    body = _layer(signed_in("command_center"), "pickups")

    newest = body["features"][0]
    assert newest["properties"]["plate_code"] == pickup.container.plate_code
    assert newest["geometry"]["coordinates"] == [
        float(pickup.container.lng),
        float(pickup.container.lat),
    ]


def test_fill_percent_rounds_half_up():
    assert map_layers.fill_percent(None) is None
    assert map_layers.fill_percent(Decimal("0.805")) == 81
    assert map_layers.fill_percent(Decimal("0.804")) == 80
    assert map_layers.fill_percent(Decimal("1.000")) == 100
    assert map_layers.fill_percent(Decimal("0")) == 0
