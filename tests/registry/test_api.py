"""The registry's JSON API: buildings and households, errors and masking."""

import json

import pytest
from django.conf import settings
from django.test import Client

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.journal.models import Entry
from kotacerdas.registry.models import Building, Household
from kotacerdas.registry.services import register_building

from .conftest import HEAD_NIK, KK_NUMBER, building_input

pytestmark = pytest.mark.django_db

BASE = "/api/registry"
GANTING = "13.74.01.1001"


@pytest.fixture
def api(personas):
    """Return a function giving a client that sends a persona's API token."""

    def client_for(persona: str) -> Client:
        secret = create_api_token(personas[persona], "test").secret
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        # Messages are checked in English; Indonesian is the default.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return client_for


@pytest.fixture
def elsewhere(city) -> Building:
    return register_building(building_input(kelurahan_code=GANTING))


def post(client: Client, path: str, body: dict):
    return client.post(BASE + path, json.dumps(body), content_type="application/json")


def patch(client: Client, path: str, body: dict):
    return client.patch(BASE + path, json.dumps(body), content_type="application/json")


NEW_BUILDING = {
    "kelurahan_code": "1374021002",
    "rw": 5,
    "rt": "2",
    "street_address": "Jl. Syech Ibrahim Musa No. 9",
    "use": "shop",
    "lat": -0.4661,
    "lng": 100.3995,
    "floors": 2,
    "pln_va": 2200,
}


# Reading ----------------------------------------------------------------------------


def test_list_is_scoped_and_paged(api, building, elsewhere):
    officer = api("registry_officer").get(BASE + "/buildings").json()
    city_wide = api("revenue_officer").get(BASE + "/buildings", {"limit": 1}).json()

    assert [item["id"] for item in officer["items"]] == [building.pk]
    assert officer["count"] == 1
    assert city_wide["count"] == 2
    assert len(city_wide["items"]) == 1
    assert city_wide["limit"] == 1


def test_list_filters(api, building, elsewhere):
    client = api("revenue_officer")

    by_kelurahan = client.get(BASE + "/buildings", {"kelurahan": GANTING}).json()
    by_use = client.get(BASE + "/buildings", {"use": "shop"}).json()
    by_code = client.get(BASE + "/buildings", {"q": building.plate_code}).json()

    assert [i["id"] for i in by_kelurahan["items"]] == [elsewhere.pk]
    assert by_use["count"] == 0
    assert [i["id"] for i in by_code["items"]] == [building.pk]


def test_list_rejects_bad_filters(api, building):
    response = api("revenue_officer").get(
        BASE + "/buildings", {"rw": "x", "use": "castle"}
    )

    body = response.json()
    assert response.status_code == 422
    assert {e["field"] for e in body["errors"]} == {"rw", "use"}
    assert body["error"] == body["errors"][0]


def test_list_limit_is_capped(api, building):
    response = api("revenue_officer").get(BASE + "/buildings", {"limit": 501})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_get_building_fields(api, building):
    body = api("registry_officer").get(f"{BASE}/buildings/{building.pk}").json()

    assert body["plate_code"] == building.plate_code
    assert body["plate_status"] == "issued"
    assert body["kelurahan_code"] == "13.74.02.1002"
    assert (body["rw"], body["rt"]) == ("002", "003")
    assert body["levy_class"] == "RT-II"
    assert body["levy_monthly_rupiah"] == 7500
    assert body["lat"] == -0.4651


def test_other_kelurahan_is_403(api, elsewhere):
    response = api("registry_officer").get(f"{BASE}/buildings/{elsewhere.pk}")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "Your work area is Kelurahan Pasar Usang only.",
        "field": "kelurahan_code",
    }


def test_missing_building_is_404(api, city):
    response = api("registry_officer").get(f"{BASE}/buildings/9999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# Writing ----------------------------------------------------------------------------


def test_create_building(api, personas, city):
    response = post(api("registry_officer"), "/buildings", NEW_BUILDING)

    body = response.json()
    building = Building.objects.get()
    assert response.status_code == 201
    assert body["id"] == building.pk
    assert body["plate_code"] == building.plate_code
    assert body["levy_class"] == "NIAGA-I"
    assert body["rw"] == "005"
    registered = Entry.objects.get(event_type="registry.building.registered")
    actor = json.loads(bytes(registered.body))["actor"]
    assert actor == f"user:{personas['registry_officer'].pk}"


def test_create_lists_every_error(api, city):
    body = {**NEW_BUILDING, "rw": 0, "street_address": "", "use": "castle", "lng": None}

    response = post(api("registry_officer"), "/buildings", body)

    errors = response.json()["errors"]
    assert response.status_code == 422
    assert [e["field"] for e in errors] == ["rw", "street_address", "use", "lng"]
    assert response.json()["error"] == errors[0]
    assert errors[3]["message"] == "Enter both latitude and longitude, or neither."
    assert not Building.objects.exists()


def test_create_in_other_kelurahan_is_403(api, city):
    response = post(
        api("registry_officer"),
        "/buildings",
        {**NEW_BUILDING, "kelurahan_code": GANTING},
    )

    assert response.status_code == 403
    assert not Building.objects.exists()


def test_invalid_kelurahan_code_is_422(api, city):
    body = {**NEW_BUILDING, "kelurahan_code": "99.99"}

    response = post(api("registry_officer"), "/buildings", body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "kelurahan_code"


def test_city_wide_officer_any_kelurahan(api, personas, city):
    officer = personas["registry_officer"]
    officer.kelurahan = None
    officer.save()

    response = post(
        api("registry_officer"),
        "/buildings",
        {**NEW_BUILDING, "kelurahan_code": GANTING},
    )

    assert response.status_code == 201
    assert response.json()["kelurahan_name"] == "Ganting"


def test_update_building(api, building):
    response = patch(
        api("registry_officer"), f"/buildings/{building.pk}", {"pln_va": 6600}
    )

    assert response.status_code == 200
    assert response.json()["levy_class"] == "RT-IV"
    assert response.json()["street_address"] == building.street_address


def test_update_rejects_bad_values(api, building):
    response = patch(
        api("registry_officer"),
        f"/buildings/{building.pk}",
        {"floors": 0, "status": "gone"},
    )

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"floors", "status"}


def test_update_cannot_move_out_of_scope(api, building):
    response = patch(
        api("registry_officer"),
        f"/buildings/{building.pk}",
        {"kelurahan_code": GANTING},
    )

    building.refresh_from_db()
    assert response.status_code == 403
    assert building.kelurahan.code == "13.74.02.1002"


def test_update_rejects_unknown_field(api, building):
    response = patch(
        api("registry_officer"), f"/buildings/{building.pk}", {"plate_code": "X"}
    )

    building.refresh_from_db()
    assert response.status_code == 422
    assert "plate_code" in response.json()["error"]["field"]
    assert building.plate_code != "X"


# Households ---------------------------------------------------------------------------


def test_households_unmasked_for_officer(api, household):
    [body] = (
        api("registry_officer")
        .get(f"{BASE}/buildings/{household.building_id}/households")
        .json()
    )

    assert body["kk_number"] == KK_NUMBER
    assert body["members"][0]["nik"] == HEAD_NIK
    assert body["members"][0]["full_name"] == "Siti Rahmah"


def test_households_masked_for_revenue(api, household):
    [body] = (
        api("revenue_officer")
        .get(f"{BASE}/buildings/{household.building_id}/households")
        .json()
    )

    assert body["kk_number"] == "1374********0003"
    assert body["members"][0]["nik"] == "1374********0001"
    assert HEAD_NIK not in json.dumps(body)


def test_households_need_permission(api, household):
    response = api("command_center").get(
        f"{BASE}/buildings/{household.building_id}/households"
    )

    assert response.status_code == 403


def test_register_household(api, building):
    body = {
        "kk_number": "1374021203200005",
        "members": [
            {"full_name": "Yusnidar", "nik": "1374025203800004", "relation": "head"},
            {
                "full_name": "Fadli",
                "nik": 1374021004100006,
                "relation": "child",
                "phone": "0812 3456 7890",
            },
        ],
    }

    response = post(
        api("registry_officer"), f"/buildings/{building.pk}/households", body
    )

    assert response.status_code == 201
    created = response.json()
    assert created["building_id"] == building.pk
    assert [m["relation"] for m in created["members"]] == ["head", "child"]
    assert created["members"][1]["phone"] == "081234567890"
    assert Household.objects.get().members.count() == 2


def test_register_household_names_bad_rows(api, building):
    body = {
        "kk_number": "12",
        "members": [
            {"full_name": "Yusnidar", "nik": "1374025203800004", "relation": "head"},
            {"full_name": "", "nik": "1374021004100000", "relation": "cousin"},
        ],
    }

    response = post(
        api("registry_officer"), f"/buildings/{building.pk}/households", body
    )

    fields = [e["field"] for e in response.json()["errors"]]
    assert response.status_code == 422
    assert fields == [
        "kk_number",
        "members.1.full_name",
        "members.1.nik",
        "members.1.relation",
    ]
    assert not Household.objects.exists()


# Documentation ----------------------------------------------------------------------------


def test_openapi_lists_registry_and_bearer(client):
    schema = client.get("/api/openapi.json").json()

    assert "/api/registry/buildings" in schema["paths"]
    assert "/api/registry/buildings/{building_id}/households" in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_messages_default_to_indonesian(personas, city, settings):
    settings.LANGUAGE_CODE = "id"
    secret = create_api_token(personas["registry_officer"], "test").secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = post(client, "/buildings", {**NEW_BUILDING, "lng": None})

    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message != "Enter both latitude and longitude, or neither."
    assert "lintang" in message
