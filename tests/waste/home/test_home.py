"""The waste home page: who may open it, which links each role gets, today's figures."""

from datetime import time

import pytest
from django.urls import reverse
from django.utils import timezone

from kotacerdas.waste.models import (
    Alert,
    Container,
    RoutePlan,
    RouteStop,
    Site,
    Vehicle,
)

URL = "/waste/"
ALLOWED = {
    "admin",
    "waste_operator",
    "collector",
    "waste_bank_teller",
    "auditor",
    "command_center",
    "citizen",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        "admin",
        "registry_officer",
        "waste_operator",
        "collector",
        "waste_bank_teller",
        "revenue_officer",
        "cashier",
        "merchant",
        "citizen",
        "auditor",
        "command_center",
        "outsider",
    ],
)
def test_who_may_open_the_home_page(signed_in, persona):
    response = signed_in(persona).get(URL)

    assert response.status_code == (200 if persona in ALLOWED else 403)


@pytest.mark.django_db
def test_collector_sees_only_the_route_link(signed_in):
    page = signed_in("collector").get(URL).content.decode()

    assert reverse("waste:collector") in page
    assert reverse("waste:site_list") not in page
    assert reverse("waste:pickup_review") not in page


@pytest.mark.django_db
def test_citizen_sees_reports_and_savings(signed_in):
    page = signed_in("citizen").get(URL).content.decode()

    assert reverse("wastereports:new") in page
    assert reverse("wastebank:home") in page
    assert reverse("waste:route_list") not in page


@pytest.mark.django_db
def test_operator_sees_figures_and_every_operations_page(signed_in, city):
    site = Site.objects.create(
        code="tps-test", name="TPS Test", kind=Site.Kind.TPS, lat=-0.46, lng=100.4
    )
    kelurahan = city.areas.filter(level="kelurahan").first()
    for number, fill in enumerate(["0.95", "0.30"]):
        Container.objects.create(
            site=site,
            plate_code=f"PPJ-C-TEST{number}",
            plate_key_id="k",
            plate_signature="s",
            name=f"Container {number}",
            kelurahan=kelurahan,
            lat=-0.46,
            lng=100.4,
            volume_m3="1.00",
            max_load_kg=500,
            fill_level=fill,
        )
    Alert.objects.create(kind=Alert.Kind.SENSOR_SILENT, subject="test:1")

    response = signed_in("waste_operator").get(URL)

    figures = {figure.key: figure.value for figure in response.context["figures"]}
    assert figures["containers_due"] == 1
    assert figures["open_alerts"] == 1
    page = response.content.decode()
    for name in ("waste:route_list", "waste:pickup_review", "waste:statistics"):
        assert reverse(name) in page


@pytest.mark.django_db
def test_done_stops_of_cancelled_plan_still_count(signed_in, city):
    depot = Site.objects.create(
        code="depot", name="Depot", kind=Site.Kind.DEPOT, lat=-0.46, lng=100.4
    )
    tps = Site.objects.create(
        code="tps-x", name="TPS X", kind=Site.Kind.TPS, lat=-0.46, lng=100.4
    )
    container = Container.objects.create(
        site=tps,
        plate_code="PPJ-C-DONE0",
        plate_key_id="k",
        plate_signature="s",
        name="Bin",
        kelurahan=city.areas.filter(level="kelurahan").first(),
        lat=-0.46,
        lng=100.4,
        volume_m3="1.00",
        max_load_kg=500,
    )
    truck = Vehicle.objects.create(
        plate_number="BA 1 XX",
        kind=Vehicle.Kind.DUMP_TRUCK,
        capacity_kg=6000,
        capacity_m3="8.00",
        depot=depot,
    )
    plan = RoutePlan.objects.create(
        date=timezone.localdate(),
        vehicle=truck,
        shift_start=time(6),
        shift_end=time(9),
        engine="test",
        status=RoutePlan.Status.CANCELLED,
    )
    RouteStop.objects.create(
        plan=plan,
        sequence=1,
        kind="container",
        container=container,
        lat=-0.46,
        lng=100.4,
        status=RouteStop.Status.DONE,
    )

    response = signed_in("waste_operator").get(URL)

    figures = {figure.key: figure.value for figure in response.context["figures"]}
    assert figures["stops_done"] == 1
    assert figures["plans"] == 0
