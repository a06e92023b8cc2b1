"""Sites, containers, vehicles and crews: validation messages and journal events."""

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.waste.places.conftest import GANTING, PASAR_USANG, centre

from kotacerdas.journal.models import Entry
from kotacerdas.registry.plates import Verdict, read_plate_text
from kotacerdas.waste import places, places_crews
from kotacerdas.waste.container_plates import container_plate_url
from kotacerdas.waste.models import Alert, Vehicle

pytestmark = pytest.mark.django_db


def errors_of(raised: pytest.ExceptionInfo[places.PlacesInvalid]) -> dict[str, str]:
    return {error.field: error.message for error in raised.value.errors}


def last_event(event_type: str) -> dict:
    entry = Entry.objects.filter(event_type=event_type).order_by("-seq").first()
    assert entry is not None, f"no {event_type} entry"
    return json.loads(bytes(entry.body))["payload"]


def test_site_saved_and_journalled(tps):
    payload = last_event("waste.site.saved")
    assert payload["site_id"] == tps.pk
    assert payload["kind"] == "tps"
    assert payload["kelurahan_code"] == PASAR_USANG
    assert payload["lat"] == f"{Decimal(tps.lat):.6f}"


def test_site_lists_every_bad_field(city):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(
                code="Not A Slug", name="", kind="dump", lat="abc", lng="", opens_at="7"
            )
        )
    errors = errors_of(raised)
    assert set(errors) == {"code", "name", "kind", "lat", "lng", "opens_at"}
    assert "tps-pasar-baru-1" in errors["code"]
    assert "Choose one of" in errors["kind"]
    assert "06:30" in errors["opens_at"]


def test_tps_needs_kelurahan(city):
    lat, lng = centre(PASAR_USANG)
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(code="tps-x", name="TPS X", kind="tps", lat=lat, lng=lng)
        )
    assert "kelurahan" in errors_of(raised)["kelurahan_code"]


def test_site_outside_city_rejected(city):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(
                code="tpa-far", name="TPA Far", kind="tpa", lat="-0.9", lng="100.35"
            )
        )
    assert "outside Kota Padang Panjang" in errors_of(raised)["lat"]


def test_site_outside_kelurahan_rejected(city):
    lat, lng = centre(GANTING)
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(
                code="tps-wrong",
                name="TPS",
                kind="tps",
                lat=lat,
                lng=lng,
                kelurahan_code=PASAR_USANG,
            )
        )
    assert "outside Kelurahan Pasar Usang" in errors_of(raised)["lat"]


def test_duplicate_site_code_rejected(tps):
    lat, lng = centre(PASAR_USANG)
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(
                code="tps-test",
                name="Other",
                kind="tps",
                lat=lat,
                lng=lng,
                kelurahan_code=PASAR_USANG,
            )
        )
    assert errors_of(raised)["code"] == "Another site already has this code."


def test_closing_before_opening_rejected(city):
    lat, lng = centre(PASAR_USANG)
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_site(
            places.SiteInput(
                code="bank-x",
                name="Bank Sampah X",
                kind="waste_bank",
                lat=lat,
                lng=lng,
                kelurahan_code=PASAR_USANG,
                opens_at="14:00",
                closes_at="08:00",
            )
        )
    assert "after the opening" in errors_of(raised)["closes_at"]


def test_container_gets_signed_plate(tps):
    container = places.save_container(
        places.ContainerInput(
            site_id=tps.pk, name="Bak 1", volume_m3="1,5", max_load_kg="600"
        )
    )
    assert container.plate_code.startswith("PPJ-C-")
    assert container.kelurahan_id == tps.kelurahan_id
    assert container.lat == tps.lat
    assert container.volume_m3 == Decimal("1.50")
    read = read_plate_text(container_plate_url(container))
    assert read.verdict == Verdict.GENUINE
    assert read.code == container.plate_code
    payload = last_event("waste.container.saved")
    assert payload["plate_code"] == container.plate_code
    assert payload["volume_m3"] == "1.50"


def test_reissued_plate_replaces_code(tps):
    container = places.save_container(
        places.ContainerInput(site_id=tps.pk, name="Bak", volume_m3=1, max_load_kg=400)
    )
    old_code = container.plate_code
    places.reissue_container_plate(container)
    container.refresh_from_db()
    assert container.plate_code != old_code
    assert last_event("waste.container.saved")["plate_code"] == container.plate_code


def test_container_only_at_tps(depot):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_container(
            places.ContainerInput(
                site_id=depot.pk, name="Bak", volume_m3=1, max_load_kg=400
            )
        )
    assert "TPS 3R or TPST" in errors_of(raised)["site_id"]


def test_container_sensor_id_unique(tps):
    data = places.ContainerInput(
        site_id=tps.pk,
        name="Bak 1",
        volume_m3=1,
        max_load_kg=400,
        sensor_id="ppj-tps-1-1",
    )
    first = places.save_container(data)
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_container(data)
    assert first.plate_code in errors_of(raised)["sensor_id"]


def test_container_threshold_bounds(tps):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_container(
            places.ContainerInput(
                site_id=tps.pk,
                name="Bak",
                volume_m3=0,
                max_load_kg=-3,
                fill_threshold="1.5",
            )
        )
    assert set(errors_of(raised)) == {"volume_m3", "max_load_kg", "fill_threshold"}


def test_vehicle_plate_normalized(truck):
    assert truck.plate_number == "BA 8101 PP"
    payload = last_event("waste.vehicle.saved")
    assert payload["capacity_m3"] == "8.00"
    assert payload["status"] == "parked"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ba8101pp", "BA 8101 PP"),
        ("BA 8101", "BA 8101"),
        ("  b  12 xyz ", "B 12 XYZ"),
        ("BA-8101", None),
        ("12345", None),
        ("", None),
    ],
)
def test_number_plate_forms(typed, expected):
    assert places.normalize_number_plate(typed) == expected


def test_vehicle_needs_depot_and_capacity(tps):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.save_vehicle(
            places.VehicleInput(
                plate_number="BA 1 X",
                kind="rocket",
                capacity_kg="lots",
                capacity_m3="-1",
                depot_id=tps.pk,
            )
        )
    errors = errors_of(raised)
    assert set(errors) == {"kind", "capacity_kg", "capacity_m3", "depot_id"}
    assert "depot" in errors["depot_id"]


def test_broken_vehicle_opens_alert(truck):
    places.set_vehicle_status(truck, Vehicle.Status.BROKEN)
    truck.refresh_from_db()
    assert truck.status == Vehicle.Status.BROKEN
    alert = Alert.objects.get(kind=Alert.Kind.VEHICLE_BROKEN, vehicle=truck)
    assert alert.cleared_at is None
    assert last_event("waste.vehicle.saved")["status"] == "broken"

    places.set_vehicle_status(truck, Vehicle.Status.PARKED)
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_unknown_status_rejected(truck):
    with pytest.raises(places.PlacesInvalid) as raised:
        places.set_vehicle_status(truck, "flying")
    assert "status" in errors_of(raised)


def test_crew_members_must_be_collectors(truck, personas):
    with pytest.raises(places.PlacesInvalid) as raised:
        places_crews.save_crew(
            places_crews.CrewInput(
                name="Tim X", vehicle_id=truck.pk, member_ids=[personas["citizen"].pk]
            )
        )
    assert "collector role" in errors_of(raised)["member_ids"]


def test_crew_event_has_ids_only(crew, collector_user):
    payload = last_event("waste.crew.saved")
    assert payload == {
        "crew_id": crew.pk,
        "vehicle_id": crew.vehicle_id,
        "member_ids": [collector_user.pk],
        "active": True,
    }


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.text(max_size=12),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    )
)
def test_whole_number_never_crashes(value):
    errors: list = []
    result = places.fields.whole_number(value, "capacity_kg", 1, 30000, errors)
    if result is None:
        assert errors[0].field == "capacity_kg"
    else:
        assert 1 <= result <= 30000
        assert errors == []
