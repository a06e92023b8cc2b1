"""Operator pages of places: permissions, lists, forms, plates and status."""

import pytest
from django.urls import reverse
from tests.registry.test_plates import decode_pdf, pdf_text
from tests.waste.places.conftest import PASAR_USANG, centre

from kotacerdas.waste import places
from kotacerdas.waste.models import Alert, Site, Vehicle

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "waste:site_list",
    "waste:container_list",
    "waste:vehicle_list",
    "waste:crew_list",
    "waste:schedule_list",
    "waste:material_list",
    "waste:places_map",
]
FORM_PAGES = [
    "waste:site_create",
    "waste:container_create",
    "waste:vehicle_create",
    "waste:crew_create",
    "waste:schedule_create",
]


@pytest.mark.parametrize("page", LIST_PAGES + FORM_PAGES)
@pytest.mark.parametrize("persona", ["collector", "citizen", "outsider", "merchant"])
def test_pages_forbidden_without_role(signed_in, persona, page):
    response = signed_in(persona).get(reverse(page))
    assert response.status_code == 403


@pytest.mark.parametrize("page", LIST_PAGES + FORM_PAGES)
def test_operator_sees_every_page(signed_in, page, crew):
    response = signed_in("waste_operator").get(reverse(page))
    assert response.status_code == 200


@pytest.mark.parametrize("page", FORM_PAGES)
def test_viewer_cannot_open_forms(signed_in, page):
    # The auditor may read waste pages but not change places.
    client = signed_in("auditor")
    assert client.get(reverse("waste:site_list")).status_code == 200
    assert client.get(reverse(page)).status_code == 403


def test_signed_out_redirected_to_login(client):
    response = client.get(reverse("waste:site_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_site_form_creates_site(signed_in, city):
    lat, lng = centre(PASAR_USANG)
    response = signed_in("waste_operator").post(
        reverse("waste:site_create"),
        {
            "code": "tps-form",
            "name": "TPS Form",
            "kind": "tps",
            "kelurahan_code": PASAR_USANG,
            "lat": lat,
            "lng": lng,
            "service_minutes": "15",
            "active": "on",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(code="tps-form")
    assert site.kelurahan is not None
    assert site.kelurahan.code == PASAR_USANG


def test_site_form_shows_field_error(signed_in, city):
    response = signed_in("waste_operator").post(
        reverse("waste:site_create"),
        {
            "code": "tps-x",
            "name": "TPS",
            "kind": "tps",
            "lat": "-0.9",
            "lng": "100.3",
            "service_minutes": "15",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"kelurahan_code", "lat"}
    assert "outside Kota Padang Panjang" in errors["lat"][0]


def test_container_plate_pdf_has_signed_qr(signed_in, tps):
    container = places.save_container(
        places.ContainerInput(site_id=tps.pk, name="Bak", volume_m3=1, max_load_kg=400)
    )
    response = signed_in("waste_operator").get(
        reverse("waste:container_plate", args=[container.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert container.plate_code in pdf_text(response.content)
    pages = decode_pdf(response.content)
    assert len(pages) == 1
    assert len(pages[0]) == 1
    assert f"/p/{container.plate_code}?k={container.plate_key_id}&s=" in pages[0][0]


def test_mark_vehicle_broken_from_page(signed_in, truck):
    client = signed_in("waste_operator")
    response = client.post(
        reverse("waste:vehicle_status", args=[truck.pk]), {"status": "broken"}
    )
    assert response.status_code == 302
    truck.refresh_from_db()
    assert truck.status == Vehicle.Status.BROKEN
    assert Alert.objects.filter(vehicle=truck, cleared_at__isnull=True).count() == 1


def test_collector_cannot_mark_broken(signed_in, truck):
    response = signed_in("collector").post(
        reverse("waste:vehicle_status", args=[truck.pk]), {"status": "broken"}
    )
    assert response.status_code == 403
    truck.refresh_from_db()
    assert truck.status == Vehicle.Status.PARKED


def test_schedule_overlap_shown_on_form(signed_in, crew):
    client = signed_in("waste_operator")
    values = {
        "kelurahan_code": PASAR_USANG,
        "service": "door_to_door",
        "weekdays": ["1", "3"],
        "shift_start": "06:00",
        "shift_end": "09:00",
        "crew_id": str(crew.pk),
        "active": "on",
    }
    assert client.post(reverse("waste:schedule_create"), values).status_code == 302
    response = client.post(reverse("waste:schedule_create"), values)
    assert response.status_code == 400
    message = response.context["form"].errors["shift_start"][0]
    assert "already works 06:00-09:00" in message


@pytest.mark.parametrize(
    "model", ["site", "container", "vehicle", "crew", "schedule", "pickup", "alert"]
)
def test_admin_lists_read_only(signed_in, model, tps):
    client = signed_in("admin")
    response = client.get(f"/admin/waste/{model}/")
    assert response.status_code == 200
    assert client.get(f"/admin/waste/{model}/add/").status_code == 403


def test_vehicle_capacity_in_reader_format(signed_in, truck, settings):
    client = signed_in("waste_operator")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"

    page = client.get(reverse("waste:vehicle_list")).content.decode()

    assert "6.000 kg · 8,00 m³" in page
