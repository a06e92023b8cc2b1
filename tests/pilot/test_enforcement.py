"""A service limited to pilot areas rejects calls outside them and works inside.

Each test runs one of the six services through its real page or API, once
for an object in Pasar Usang (the pilot's kelurahan) and once for an object
in Ganting (outside every pilot).
"""

import datetime
import itertools
import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.levy import billing
from kotacerdas.levy.models import Bill
from kotacerdas.pilot import services_api as pilots
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Scope, Service
from kotacerdas.registry.models import Building, Household
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    current_plate,
    link_member_user,
    register_building,
    register_household,
)
from kotacerdas.wallet import pins
from kotacerdas.wallet import services as wallet
from kotacerdas.waste.bank import services as bank
from kotacerdas.waste.bank.models import Unit
from kotacerdas.waste.models import Container, Pickup, SensorReading, Site

pytestmark = pytest.mark.django_db

INSIDE = "13.74.02.1002"  # Pasar Usang, the pilot's kelurahan
OUTSIDE = "13.74.01.1001"  # Ganting, in no pilot
PIN = "482915"
_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def switch_on_only_in_pilot(service: str) -> None:
    """Run `service` only in a pilot covering Pasar Usang, running today."""
    today = timezone.localdate()
    pilots.create_pilot(
        pilots.PilotInput(
            slug=f"pilot-{service.replace('_', '-')}",
            name="Pasar Usang pilot",
            starts_on=today - datetime.timedelta(days=3),
            ends_on=today + datetime.timedelta(days=30),
            services=[service],
            areas=[INSIDE],
        )
    )
    pilots.set_scope(service, Scope.PILOT_AREAS)


def add_house(kelurahan_code: str) -> Building:
    return register_building(
        BuildingInput(
            kelurahan_code=kelurahan_code,
            rw="2",
            rt="3",
            street_address=f"Jl. Contoh No. {next(_serials)}",
            use="house",
            lat="-0.4651",
            lng="100.4002",
            floors=1,
            pln_va=1300,
        )
    )


def add_household(building: Building) -> Household:
    serial = next(_serials)
    return register_household(
        building,
        f"137402010115{serial:04d}",
        [MemberInput(f"Warga Contoh {serial}", f"137402470895{serial:04d}", "head")],
    )


def resident_of(kelurahan_code: str) -> tuple[object, Household]:
    """Return a citizen user living in a new house there, with PIN and Rp100.000."""
    household = add_household(add_house(kelurahan_code))
    user = create_user(f"warga-{next(_serials)}", "persona-password-1", ["citizen"])
    link_member_user(household.members.get(relation="head"), user)
    pins.set_pin(user, PIN)
    account = wallet.wallet_for(user)
    assert account is not None
    wallet.top_up(
        account.number, 100_000, transfer_id=f"fund-{next(_serials)}", channel="counter"
    )
    return user, household


def client_of(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_api_rejected(response, service_label: str, area_name: str) -> None:
    body = response.json()
    assert response.status_code == 403
    assert body["error"]["code"] == "service_off"
    assert service_label in body["error"]["message"]
    assert area_name in body["error"]["message"]


def assert_page_rejected(response, service_label: str, area_name: str) -> None:
    text = response.content.decode()
    assert response.status_code == 403
    assert "Service not available here" in text
    assert service_label in text
    assert area_name in text


# Plates and registry ----------------------------------------------------------


def test_registry_off_outside_pilot(signed_in, city) -> None:
    inside, outside = add_house(INSIDE), add_house(OUTSIDE)
    switch_on_only_in_pilot(Service.REGISTRY)
    client = signed_in("admin")

    api_inside = client.get(f"/api/registry/buildings/{inside.pk}")
    api_outside = client.get(f"/api/registry/buildings/{outside.pk}")
    page_inside = client.get(reverse("registry:building_detail", args=[inside.pk]))
    page_outside = client.get(reverse("registry:building_detail", args=[outside.pk]))
    plate = current_plate(outside)
    assert plate is not None
    verify_outside = client.post(
        "/api/plates/verify",
        json.dumps({"text": plate.code}),
        content_type="application/json",
    )

    assert api_inside.status_code == 200
    assert_api_rejected(api_outside, "Plates and registry", "Ganting")
    assert page_inside.status_code == 200
    assert_page_rejected(page_outside, "Plates and registry", "Ganting")
    assert_api_rejected(verify_outside, "Plates and registry", "Ganting")


def test_plate_scans_off_outside_pilot(signed_in, city) -> None:
    inside, outside = add_house(INSIDE), add_house(OUTSIDE)
    switch_on_only_in_pilot(Service.REGISTRY)
    officer = signed_in("admin")
    anonymous = Client()

    scan_inside = officer.get(reverse("registry:scan"), {"text": _signed_text(inside)})
    scan_outside = officer.get(
        reverse("registry:scan"), {"text": _signed_text(outside)}
    )
    landing_inside = anonymous.get(_signed_text(inside))
    landing_outside = anonymous.get(_signed_text(outside))

    assert scan_inside.status_code == 200
    assert_page_rejected(scan_outside, "Plates and registry", "Ganting")
    assert landing_inside.status_code == 200
    assert_page_rejected(landing_outside, "Plates and registry", "Ganting")


# Wallet -------------------------------------------------------------------------


def test_wallet_off_outside_pilot(city) -> None:
    switch_on_only_in_pilot(Service.WALLET)
    insider, _household = resident_of(INSIDE)
    outsider, _household = resident_of(OUTSIDE)

    inside = client_of(insider)
    outside = client_of(outsider)

    assert inside.get("/api/wallet/me").status_code == 200
    assert inside.get(reverse("wallet:home")).status_code == 200
    assert_api_rejected(outside.get("/api/wallet/me"), "Wallet", "Ganting")
    assert_page_rejected(outside.get(reverse("wallet:home")), "Wallet", "Ganting")
    link = f'href="{reverse("wallet:home")}"'
    assert link in inside.get(reverse("accounts:home")).content.decode()
    assert link not in outside.get(reverse("accounts:home")).content.decode()


# Levy payment by wallet ------------------------------------------------------------


def _pay(client: Client, bill: Bill) -> object:
    return client.post(
        f"/api/levy/bills/{bill.pk}/payments",
        json.dumps(
            {
                "amount": bill.outstanding,
                "transfer_id": f"pay-{uuid.uuid4().hex}",
                "channel": "app",
                "pin": PIN,
            }
        ),
        content_type="application/json",
    )


def test_levy_wallet_off_outside_pilot(city) -> None:
    insider, inside_household = resident_of(INSIDE)
    outsider, outside_household = resident_of(OUTSIDE)
    billing.run_billing(timezone.localdate().strftime("%Y-%m"))
    switch_on_only_in_pilot(Service.LEVY_WALLET)
    inside_bill = Bill.objects.get(building=inside_household.building)
    outside_bill = Bill.objects.get(building=outside_household.building)

    outside = client_of(outsider)
    bill_page = reverse("levy:pay_bill", args=[outside_bill.pk])

    paid = _pay(client_of(insider), inside_bill)
    rejected = _pay(outside, outside_bill)
    page = outside.get(bill_page)
    form_post = outside.post(bill_page, {"amount": outside_bill.outstanding})
    bills = outside.get(reverse("levy:my_bills")).content.decode()

    assert paid.status_code == 201, paid.content
    assert_api_rejected(rejected, "Levy payment by wallet", "Ganting")
    assert page.status_code == 200
    assert 'method="post"' not in page.content.decode().split("</header>")[1]
    assert_page_rejected(form_post, "Levy payment by wallet", "Ganting")
    assert outside_bill.number in bills
    assert f'href="{bill_page}"' not in bills
    outside_bill.refresh_from_db()
    assert outside_bill.outstanding > 0


# Proven pickups --------------------------------------------------------------------


def _signed_text(building: Building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def _pickup(client: Client, building: Building) -> object:
    return client.post(
        "/api/waste/pickups",
        {
            "client_id": str(uuid.uuid4()),
            "plate": _signed_text(building),
            "outcome": "collected",
            "scanned_at": timezone.now().replace(microsecond=0).isoformat(),
            "category": "organic",
            "lat": "-0.465100",
            "lng": "100.400200",
            "accuracy_m": "12",
        },
    )


def test_pickups_off_outside_pilot(signed_in, city) -> None:
    inside, outside = add_house(INSIDE), add_house(OUTSIDE)
    switch_on_only_in_pilot(Service.PICKUPS)
    client = signed_in("collector")

    recorded = _pickup(client, inside)
    rejected = _pickup(client, outside)

    assert recorded.status_code == 201, recorded.content
    assert_api_rejected(rejected, "Proven pickups", "Ganting")
    assert not Pickup.objects.filter(building=outside).exists()


# Waste bank ------------------------------------------------------------------------


def _unit(code: str, kelurahan_code: str, teller: object) -> Unit:
    site = Site.objects.create(
        code=f"bank-{code}",
        name=f"Bank Sampah {code}",
        kind=Site.Kind.WASTE_BANK,
        kelurahan=Area.objects.get(code=kelurahan_code),
        lat="-0.4651",
        lng="100.4002",
    )
    unit = bank.open_unit(
        code=code, name=site.name, site=site, kind=Unit.Kind.BSU, actor="test"
    )
    unit.tellers.add(teller)
    return unit


def test_waste_bank_off_outside_pilot(personas, signed_in) -> None:
    teller = personas["waste_bank_teller"]
    inside = _unit("usang", INSIDE, teller)
    outside = _unit("ganting", OUTSIDE, teller)
    switch_on_only_in_pilot(Service.WASTE_BANK)
    client = signed_in("waste_bank_teller")

    page_inside = client.get(reverse("wastebank:unit", args=[inside.code]))
    page_outside = client.get(reverse("wastebank:unit", args=[outside.code]))

    assert page_inside.status_code == 200
    assert_page_rejected(page_outside, "Waste bank", "Ganting")


# Sensors ---------------------------------------------------------------------------


def _container(code: str, kelurahan_code: str, sensor_id: str) -> Container:
    site = Site.objects.create(
        code=f"tps-{code}",
        name=f"TPS {code}",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code=kelurahan_code),
        lat="-0.4651",
        lng="100.4002",
    )
    return Container.objects.create(
        site=site,
        plate_code=f"PPJ-C-PILOT{next(_serials):02d}-1",
        plate_key_id="test",
        plate_signature="test",
        name=f"{site.name} container",
        kelurahan=site.kelurahan,
        lat=site.lat,
        lng=site.lng,
        volume_m3="6.00",
        max_load_kg=2000,
        sensor_id=sensor_id,
    )


def test_sensors_off_outside_pilot(city) -> None:
    inside = _container("usang", INSIDE, "pilot-sensor-in")
    _container("ganting", OUTSIDE, "pilot-sensor-out")
    switch_on_only_in_pilot(Service.SENSORS)
    gateway = create_user("sensor-gateway", None, [])
    gateway.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="waste", codename="send_sensor_data"
        )
    )
    token = create_api_token(gateway, "container sensor gateway")
    observed = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    readings = [
        {"sensorId": sensor, "fillingLevel": 0.5, "dateObserved": observed}
        for sensor in ("pilot-sensor-in", "pilot-sensor-out")
    ]

    response = Client().post(
        "/api/waste/sensors/readings",
        json.dumps({"readings": readings}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
    )

    results = response.json()["results"]
    assert response.status_code == 200
    assert results[0]["outcome"] == "stored"
    assert results[1]["outcome"] == "rejected"
    assert results[1]["error"]["code"] == "service_off"
    assert "Sensors" in results[1]["error"]["message"]
    assert "Ganting" in results[1]["error"]["message"]
    assert list(SensorReading.objects.values_list("container", flat=True)) == [
        inside.pk
    ]


# Ending and growing ----------------------------------------------------------------


def test_growing_and_ending_lose_nothing(signed_in, city) -> None:
    inside, outside = add_house(INSIDE), add_house(OUTSIDE)
    switch_on_only_in_pilot(Service.PICKUPS)
    pilot = Pilot.objects.get(slug="pilot-pickups")
    client = signed_in("collector")
    first = _pickup(client, inside)

    pilots.grow_pilot(pilot, [OUTSIDE])
    grown = _pickup(client, outside)
    pilots.end_pilot(pilot)
    after_end = _pickup(client, inside)

    assert first.status_code == 201
    assert grown.status_code == 201, grown.content
    assert_api_rejected(after_end, "Proven pickups", "Pasar Usang")
    assert Pickup.objects.filter(building=inside).count() == 1
    assert Pickup.objects.filter(building=outside).count() == 1
    pilot.refresh_from_db()
    assert pilot.areas.count() == 2
    assert pilot.ended_at is not None


def test_savings_book_readable_outside_pilot(personas, city) -> None:
    teller = personas["waste_bank_teller"]
    outside = _unit("ganting", OUTSIDE, teller)
    member, _household = resident_of(OUTSIDE)
    account = wallet.wallet_for(member)
    membership = bank.join(
        outside, account, joined_on=datetime.date(2025, 1, 4), actor="test"
    )
    switch_on_only_in_pilot(Service.WASTE_BANK)

    book = client_of(member).get(reverse("wastebank:book", args=[membership.pk]))

    assert book.status_code == 200
