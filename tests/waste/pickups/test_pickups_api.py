"""The pickups API: session and token auth, CSRF, idempotent offline sync."""

import io
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.waste.models import Pickup

from .conftest import payloads, signed_text

pytestmark = pytest.mark.django_db

URL = "/api/waste/pickups"


def form(plate: str, **changes) -> dict:
    values = {
        "client_id": str(uuid.uuid4()),
        "plate": plate,
        "outcome": "collected",
        "scanned_at": timezone.now().replace(microsecond=0).isoformat(),
        "category": "organic",
        "lat": "-0.465100",
        "lng": "100.400200",
        "accuracy_m": "12.5",
        "weight_kg": "2,5",
    }
    values.update(changes)
    return values


def test_offline_queue_sent_three_times_recorded_once(route, signed_in):
    client = signed_in("collector")
    body = form(signed_text(route.houses[0]))

    replies = [client.post(URL, body) for _ in range(3)]

    assert [r.status_code for r in replies] == [201, 200, 200]
    assert len({r.json()["id"] for r in replies}) == 1
    assert Pickup.objects.count() == 1
    assert len(payloads("waste.pickup.recorded")) == 1
    assert replies[0].json()["weight_g"] == 2500


def test_changed_resend_conflicts(route, signed_in):
    client = signed_in("collector")
    body = form(signed_text(route.houses[0]))
    client.post(URL, body)

    reply = client.post(URL, {**body, "category": "residue"})

    assert reply.status_code == 409
    assert reply.json()["error"]["field"] == "client_id"


def test_invalid_fields_named(route, signed_in):
    client = signed_in("collector")

    reply = client.post(
        URL, form(signed_text(route.houses[0]), outcome="not_out", reason="")
    )

    assert reply.status_code == 422
    fields = [e["field"] for e in reply.json()["errors"]]
    assert fields == ["reason", "weight_kg"]


def test_citizen_forbidden(route, signed_in):
    reply = signed_in("citizen").post(URL, form(signed_text(route.houses[0])))

    assert reply.status_code == 403
    assert "waste.record_pickup" in reply.json()["error"]["message"]
    assert not Pickup.objects.exists()


def test_anonymous_unauthenticated(route):
    reply = Client().post(URL, form(signed_text(route.houses[0])))

    assert reply.status_code == 401


def test_session_needs_csrf_token(route, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["collector"])

    reply = client.post(URL, form(signed_text(route.houses[0])))

    assert reply.status_code in (401, 403)
    assert not Pickup.objects.exists()


def test_token_records_pickup(route, personas):
    token = create_api_token(personas["collector"], "cart phone").secret

    reply = Client().post(
        URL, form(signed_text(route.houses[1])), HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert reply.status_code == 201
    assert Pickup.objects.get().collector == personas["collector"]


def test_photo_uploaded_with_pickup(route, signed_in, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buffer, format="JPEG")
    buffer.name = "photo.jpg"
    buffer.seek(0)

    reply = signed_in("collector").post(
        URL, {**form(signed_text(route.houses[0])), "photo": buffer}
    )

    assert reply.status_code == 201
    assert reply.json()["has_photo"]


def test_route_today_in_order(route, signed_in):
    reply = signed_in("collector").get(f"{URL}/route/today")

    assert reply.status_code == 200
    (plan,) = reply.json()["plans"]
    assert [s["sequence"] for s in plan["stops"]] == [0, 1, 2, 3, 4, 5]
    assert plan["stops"][1]["plate_code"] == route.houses[0].plate_code
    assert plan["unload_sites"] == ["TPS Pasar Usang"]
    assert (plan["visits"], plan["visited"]) == (4, 0)


def test_route_today_empty_says_so(route, signed_in):
    route.crew.members.clear()

    reply = signed_in("collector").get(f"{URL}/route/today")

    assert reply.json()["plans"] == []
    assert reply.json()["message"] == "No route is planned for you today."


def test_route_today_citizen_forbidden(route, signed_in):
    assert signed_in("citizen").get(f"{URL}/route/today").status_code == 403
