"""record_pickup: validation, idempotency, flags, repeats, stops and containers."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from kotacerdas.journal.models import Entry
from kotacerdas.registry.services import current_plate
from kotacerdas.waste.models import Alert, Container, Pickup, RouteStop
from kotacerdas.waste.pickups import (
    PickupConflict,
    PickupInvalid,
    haversine_m,
    record_pickup,
)

from .conftest import FAR_LAT, container_text, payloads, pickup_input, signed_text

pytestmark = pytest.mark.django_db


def fields_of(error: PickupInvalid) -> list[str]:
    return [e.field for e in error.errors]


def test_collected_pickup_stored_with_stop(route, personas):
    house = route.houses[0]

    result = record_pickup(pickup_input(signed_text(house)), personas["collector"])

    pickup = result.pickup
    assert result.created
    assert pickup.building == house
    assert pickup.stop == route.stops[1]
    assert pickup.plan == route.plan
    assert pickup.vehicle == route.vehicle
    assert pickup.weight_g == 3250
    assert pickup.distance_m == 0
    assert pickup.flags == ""
    assert pickup.review == Pickup.Review.NONE
    assert RouteStop.objects.get(pk=route.stops[1].pk).status == "done"
    assert pickup.journal_seq == Entry.objects.order_by("-seq").first().seq


def test_event_has_no_reason_or_position(route, personas):
    record_pickup(
        pickup_input(
            signed_text(route.houses[1]),
            outcome="not_out",
            weight_kg=None,
            reason="Ibu Siti says nothing today",
        ),
        personas["collector"],
    )

    (payload,) = payloads("waste.pickup.recorded")
    assert payload["outcome"] == "not_out"
    assert "reason" not in payload
    assert "lat" not in payload
    assert "Siti" not in str(payload)
    assert payload["distance_m"] == 0


def test_same_pickup_sent_three_times_recorded_once(route, personas):
    sent = pickup_input(signed_text(route.houses[0]))

    results = [record_pickup(sent, personas["collector"]) for _ in range(3)]

    assert [r.created for r in results] == [True, False, False]
    assert {r.pickup.pk for r in results} == {results[0].pickup.pk}
    assert Pickup.objects.count() == 1
    assert len(payloads("waste.pickup.recorded")) == 1


def test_same_client_id_other_body_conflicts(route, personas):
    sent = pickup_input(signed_text(route.houses[0]))
    record_pickup(sent, personas["collector"])
    changed = pickup_input(
        signed_text(route.houses[0]), client_id=sent.client_id, weight_kg="9"
    )

    with pytest.raises(PickupConflict) as caught:
        record_pickup(changed, personas["collector"])

    assert caught.value.field == "client_id"
    assert sent.client_id in caught.value.message
    assert Pickup.objects.count() == 1


def test_far_scan_flagged_not_refused(route, personas):
    house = route.houses[2]

    pickup = record_pickup(
        pickup_input(signed_text(house), lat=FAR_LAT), personas["collector"]
    ).pickup

    assert 590 <= pickup.distance_m <= 610
    assert pickup.flags == "far"
    assert pickup.review == Pickup.Review.PENDING
    alert = Alert.objects.get(pickup=pickup)
    assert alert.kind == Alert.Kind.PICKUP_FLAGGED
    assert alert.details["distance_m"] == pickup.distance_m


def test_near_scan_within_setting_not_flagged(route, personas, settings):
    settings.KOTACERDAS_PICKUP_FLAG_DISTANCE_M = 1000

    pickup = record_pickup(
        pickup_input(signed_text(route.houses[2]), lat=FAR_LAT), personas["collector"]
    ).pickup

    assert pickup.flags == ""
    assert not Alert.objects.exists()


def test_repeat_scan_in_window_not_counted(route, personas):
    house = route.houses[0]
    first = record_pickup(pickup_input(signed_text(house)), personas["collector"])
    later = (timezone.now() + timedelta(minutes=5)).isoformat()

    second = record_pickup(
        pickup_input(signed_text(house), scanned_at=later), personas["collector"]
    )

    assert second.created
    assert second.pickup.duplicate_of == first.pickup
    assert first.pickup.duplicate_of is None
    counted = Pickup.objects.filter(duplicate_of__isnull=True, building=house)
    assert counted.count() == 1


def test_scan_after_window_counted_again(route, personas, settings):
    settings.KOTACERDAS_PICKUP_REPEAT_WINDOW_S = 60
    house = route.houses[0]
    earlier = (timezone.now() - timedelta(minutes=5)).isoformat()
    record_pickup(
        pickup_input(signed_text(house), scanned_at=earlier), personas["collector"]
    )

    second = record_pickup(pickup_input(signed_text(house)), personas["collector"])

    assert second.pickup.duplicate_of is None


def test_exception_needs_reason(route, personas):
    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(
                signed_text(route.houses[0]), outcome="no_access", weight_kg=None
            ),
            personas["collector"],
        )

    assert fields_of(caught.value) == ["reason"]
    assert not Pickup.objects.exists()


def test_exception_marks_stop_and_waits_for_review(route, personas):
    pickup = record_pickup(
        pickup_input(
            signed_text(route.houses[1]),
            outcome="not_out",
            weight_kg=None,
            reason="tidak ada sampah",
        ),
        personas["collector"],
    ).pickup

    assert pickup.review == Pickup.Review.PENDING
    assert RouteStop.objects.get(pk=route.stops[2].pk).status == "exception"


def test_exception_with_weight_rejected(route, personas):
    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(signed_text(route.houses[0]), outcome="refused", reason="x"),
            personas["collector"],
        )

    assert fields_of(caught.value) == ["weight_kg"]


def test_forged_plate_rejected(route, personas):
    house = route.houses[0]
    plate = current_plate(house)
    forged = f"http://testserver/p/{plate.code}?k={plate.key_id}&s=AAAA"

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(pickup_input(forged), personas["collector"])

    assert fields_of(caught.value) == ["plate"]
    assert "forged" in caught.value.errors[0].message


def test_typed_code_flagged_typed(route, personas):
    house = route.houses[0]

    pickup = record_pickup(pickup_input(house.plate_code), personas["collector"]).pickup

    assert pickup.flags == "typed"
    assert pickup.review == Pickup.Review.NONE


def test_unknown_plate_named(route, personas):
    with pytest.raises(PickupInvalid) as caught:
        record_pickup(pickup_input("not a plate"), personas["collector"])

    assert fields_of(caught.value) == ["plate"]


def test_container_collected_resets_fill(route, personas):
    container = route.container

    pickup = record_pickup(
        pickup_input(
            container_text(container), lat=str(container.lat), lng=str(container.lng)
        ),
        personas["collector"],
    ).pickup

    container.refresh_from_db()
    assert pickup.container == container
    assert pickup.stop == route.stops[4]
    assert container.last_emptied_at == pickup.scanned_at
    assert container.fill_level == Decimal("0")
    assert container.fill_observed_at == pickup.scanned_at


def test_newer_sensor_reading_kept(route, personas):
    container = route.container
    Container.objects.filter(pk=container.pk).update(
        fill_observed_at=timezone.now() + timedelta(minutes=1)
    )

    record_pickup(
        pickup_input(
            container_text(container), lat=str(container.lat), lng=str(container.lng)
        ),
        personas["collector"],
    )

    container.refresh_from_db()
    assert container.fill_level == Decimal("0.900")


def test_no_plan_keeps_crew_vehicle(route, personas):
    route.plan.delete()

    pickup = record_pickup(
        pickup_input(signed_text(route.houses[0])), personas["collector"]
    ).pickup

    assert pickup.plan is None
    assert pickup.stop is None
    assert pickup.vehicle == route.vehicle


def test_many_bad_fields_named_together(route, personas):
    bad = pickup_input(
        signed_text(route.houses[0]),
        client_id="x",
        outcome="maybe",
        category="gold",
        lat="95",
        weight_kg="-1",
        scanned_at="yesterday",
    )

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(bad, personas["collector"])

    assert set(fields_of(caught.value)) == {
        "client_id",
        "outcome",
        "category",
        "lat",
        "weight_kg",
        "scanned_at",
    }


def test_future_scan_time_rejected(route, personas):
    later = (timezone.now() + timedelta(hours=2)).isoformat()

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(signed_text(route.houses[0]), scanned_at=later),
            personas["collector"],
        )

    assert fields_of(caught.value) == ["scanned_at"]
    assert "clock" in caught.value.errors[0].message


def test_only_latitude_rejected(route, personas):
    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(signed_text(route.houses[0]), lng=None), personas["collector"]
        )

    assert fields_of(caught.value) == ["lng"]


def test_no_position_no_distance(route, personas):
    pickup = record_pickup(
        pickup_input(signed_text(route.houses[0]), lat=None, lng=None),
        personas["collector"],
    ).pickup

    assert pickup.distance_m is None
    assert pickup.flags == ""


def test_haversine_matches_known_distance():
    # One degree of latitude on the mean-radius sphere is about 111.2 km.
    assert haversine_m(0, 100, 1, 100) == pytest.approx(111_195, abs=5)
    assert haversine_m(-0.4651, 100.4002, -0.4651, 100.4002) == 0


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_stored_under_random_name(route, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("rumah-ibu-siti.png", png_bytes(), "image/png")

    pickup = record_pickup(
        pickup_input(signed_text(route.houses[0])), personas["collector"], photo=photo
    ).pickup

    assert pickup.photo.name.startswith("pickups/")
    assert pickup.photo.name.endswith(".png")
    assert "siti" not in pickup.photo.name
    assert (tmp_path / pickup.photo.name).read_bytes() == png_bytes()


def test_photo_not_picture_rejected(route, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("notes.png", b"not an image", "image/png")

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(signed_text(route.houses[0])),
            personas["collector"],
            photo=photo,
        )

    assert fields_of(caught.value) == ["photo"]
    assert "JPEG, PNG or WebP" in caught.value.errors[0].message
    assert not Pickup.objects.exists()


def test_photo_too_large_rejected(route, personas, monkeypatch):
    monkeypatch.setattr("kotacerdas.waste.pickups_photos.MAX_PHOTO_BYTES", 100)
    photo = SimpleUploadedFile("big.png", png_bytes((200, 200)), "image/png")

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(signed_text(route.houses[0])),
            personas["collector"],
            photo=photo,
        )

    assert fields_of(caught.value) == ["photo"]
    assert "larger than" in caught.value.errors[0].message


def test_other_collector_same_id_conflicts(route, personas):
    sent = pickup_input(signed_text(route.houses[0]), client_id=str(uuid.uuid4()))
    record_pickup(sent, personas["collector"])

    with pytest.raises(PickupConflict):
        record_pickup(sent, personas["waste_operator"])
