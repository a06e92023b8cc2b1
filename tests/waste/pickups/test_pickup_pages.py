"""The collector page, its service worker, the review page and pickup photos."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kotacerdas.waste.models import Pickup, ServiceCredit
from kotacerdas.waste.pickups import record_pickup

from .conftest import FAR_LAT, pickup_input, signed_text

pytestmark = pytest.mark.django_db


def test_collector_page_lists_route_in_order(route, signed_in):
    reply = signed_in("collector").get("/waste/collector/")

    assert reply.status_code == 200
    page = reply.content.decode()
    positions = [page.index(f"Jl. Sutan Syahrir No. {n}") for n in (12, 14, 16)]
    assert positions == sorted(positions)
    assert "Unload at:" in page
    assert "0 of 4 stops visited" in page


def test_collector_page_without_route_says_so(route, signed_in):
    route.crew.members.clear()

    reply = signed_in("collector").get("/waste/collector/")

    assert "No route is planned for you today." in reply.content.decode()


def test_collector_page_citizen_forbidden(signed_in):
    assert signed_in("citizen").get("/waste/collector/").status_code == 403


def test_service_worker_served_in_scope(client):
    reply = client.get("/waste/collector/sw.js")

    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/javascript")
    assert reply["Service-Worker-Allowed"] == "/waste/collector/"
    assert "waste/collector.js" in reply.content.decode()


def flagged(route, personas) -> Pickup:
    return record_pickup(
        pickup_input(signed_text(route.houses[0]), lat=FAR_LAT), personas["collector"]
    ).pickup


def test_review_page_lists_flagged(route, personas, signed_in):
    pickup = flagged(route, personas)

    reply = signed_in("waste_operator").get("/waste/pickups/review/")

    page = reply.content.decode()
    assert reply.status_code == 200
    assert f'data-pickup="{pickup.pk}"' in page
    assert f"Scanned {pickup.distance_m} m from the registered location" in page


def test_review_page_collector_forbidden(signed_in):
    assert signed_in("collector").get("/waste/pickups/review/").status_code == 403


def test_review_confirm_credits_household(route, personas, signed_in, credit_ready):
    pickup = record_pickup(
        pickup_input(
            signed_text(route.houses[0]),
            outcome="other",
            weight_kg=None,
            reason="the cart broke down",
        ),
        personas["collector"],
    ).pickup

    reply = signed_in("waste_operator").post(
        f"/waste/pickups/{pickup.pk}/review/",
        {"decision": "confirm", "note": "cart repaired next day"},
        follow=True,
    )

    page = reply.content.decode()
    assert "confirmed" in page
    credit = ServiceCredit.objects.get(pickup=pickup)
    assert f"credited Rp {credit.amount}" in page
    assert Pickup.objects.get(pk=pickup.pk).review_note == "cart repaired next day"


def test_review_of_reviewed_pickup_says_so(route, personas, signed_in):
    pickup = flagged(route, personas)
    client = signed_in("waste_operator")
    client.post(f"/waste/pickups/{pickup.pk}/review/", {"decision": "dismiss"})

    reply = client.post(
        f"/waste/pickups/{pickup.pk}/review/", {"decision": "confirm"}, follow=True
    )

    assert "not waiting for review" in reply.content.decode()


def test_photo_only_for_staff(route, personas, signed_in, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buffer, format="PNG")
    photo = SimpleUploadedFile("p.png", buffer.getvalue(), "image/png")
    pickup = record_pickup(
        pickup_input(signed_text(route.houses[0])), personas["collector"], photo=photo
    ).pickup
    url = f"/waste/pickups/{pickup.pk}/photo/"

    staff = signed_in("waste_operator").get(url)

    assert staff.status_code == 200
    assert staff["Content-Type"] == "image/png"
    assert b"".join(staff.streaming_content) == buffer.getvalue()
    assert signed_in("citizen").get(url).status_code == 403
    assert signed_in("collector").get(url).status_code == 403
