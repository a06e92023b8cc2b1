"""The HTTP intake, the NGSI-LD endpoint and the fill-level page."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.waste import sensors
from kotacerdas.waste.models import SensorReading, SensorRejection

from .conftest import SENSOR_ID, make_container, reading

pytestmark = pytest.mark.django_db

READINGS = "/api/waste/sensors/readings"
ENTITIES = "/waste/ngsi-ld/v1/entities"
FILL_PAGE = "/waste/containers/fill/"


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client: Client, body: object, secret: str):
    return client.post(
        READINGS, json.dumps(body), content_type="application/json", **bearer(secret)
    )


def test_single_reading_stored(container, gateway):
    response = post(Client(), {"sensorId": SENSOR_ID, **reading(0.5)}, gateway.secret)

    body = response.json()
    assert response.status_code == 200
    assert body["stored"] == 1
    assert body["results"][0]["outcome"] == "stored"
    assert body["results"][0]["container_id"] == container.pk
    assert SensorReading.objects.get().source == "http"


def test_batch_gets_result_per_reading(container, gateway):
    now = timezone.now()
    batch = {
        "readings": [
            {"sensorId": SENSOR_ID, **reading(0.5, now - timedelta(minutes=9))},
            {"sensorId": SENSOR_ID, **reading(0.85, now - timedelta(minutes=1))},
            {"sensorId": SENSOR_ID, **reading(7, now)},
            {"sensorId": "nobody", **reading(0.1)},
            42,
        ]
    }

    response = post(Client(), batch, gateway.secret)

    body = response.json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert response.status_code == 200
    assert outcomes == ["stored", "stored", "rejected", "rejected", "rejected"]
    assert body["results"][1]["alert"] == "opened"
    assert body["results"][2]["error"]["field"] == "fillingLevel"
    assert body["results"][3]["error"]["code"] == "unknown_sensor"
    assert body["results"][4]["error"]["code"] == "not_object"
    assert (body["stored"], body["rejected"]) == (2, 3)
    assert SensorRejection.objects.count() == 3


def test_resent_batch_reports_duplicates(container, gateway):
    batch = [{"sensorId": SENSOR_ID, **reading(0.5)}]
    post(Client(), batch, gateway.secret)

    response = post(Client(), batch, gateway.secret)

    assert response.status_code == 200
    assert response.json()["duplicates"] == 1
    assert SensorReading.objects.count() == 1


def test_all_rejected_gives_422(container, gateway):
    response = post(
        Client(), {"sensorId": SENSOR_ID, "fillingLevel": 0.5}, gateway.secret
    )

    body = response.json()
    assert response.status_code == 422
    assert body["error"]["code"] == "date_missing"
    assert body["error"]["field"] == "dateObserved"


def test_not_json_body_rejected(container, gateway):
    response = Client().post(
        READINGS, b"fill=0.5", content_type="application/json", **bearer(gateway.secret)
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_json"
    assert SensorRejection.objects.get().reason == "not_json"


def test_too_many_readings_rejected(container, gateway):
    batch = [{"sensorId": SENSOR_ID, **reading(0.1)}] * 501

    response = post(Client(), batch, gateway.secret)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many"
    assert SensorReading.objects.count() == 0


def test_no_token_gives_401(container):
    response = Client().post(
        READINGS, json.dumps({"sensorId": SENSOR_ID}), content_type="application/json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "persona",
    ["admin", "waste_operator", "collector", "citizen", "auditor", "outsider"],
)
def test_people_cannot_send_readings(container, personas, persona):
    token = create_api_token(personas[persona], "test")

    response = post(Client(), {"sensorId": SENSOR_ID, **reading(0.5)}, token.secret)

    assert response.status_code == 403
    assert "waste.send_sensor_data" in response.json()["error"]["message"]
    assert SensorReading.objects.count() == 0


# ---------------------------------------------------------------------- NGSI-LD


def test_entities_listed_as_waste_containers(container, signed_in):
    sensors.ingest(SENSOR_ID, reading(0.64, temperature=30.2), "mqtt")

    response = signed_in("waste_operator").get(ENTITIES, {"type": "WasteContainer"})

    entity = response.json()[0]
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert entity["id"] == f"urn:ngsi-ld:WasteContainer:{container.plate_code}"
    assert entity["type"] == "WasteContainer"
    assert entity["@context"][0].endswith(
        "dataModel.WasteManagement/master/context.jsonld"
    )
    assert entity["location"]["value"] == {
        "type": "Point",
        "coordinates": [100.40013, -0.465233],
    }
    assert entity["fillingLevel"]["type"] == "Property"
    assert entity["fillingLevel"]["value"] == 0.64
    assert (
        entity["fillingLevel"]["observedAt"]
        == container.__class__.objects.get(pk=container.pk).fill_observed_at.isoformat()
    )
    assert entity["temperature"]["value"] == 30.2
    assert entity["status"]["value"] == "ok"
    assert entity["refDevice"]["object"] == f"urn:ngsi-ld:Device:{SENSOR_ID}"


def test_plain_json_gets_link_header(container, signed_in):
    response = signed_in("waste_operator").get(
        ENTITIES, {"type": "WasteContainer"}, HTTP_ACCEPT="application/json"
    )

    assert response["Content-Type"].startswith("application/json")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in response["Link"]
    assert "@context" not in response.json()[0]


def test_entities_paged_and_counted(market_site, signed_in):
    for number in range(1, 6):
        make_container(market_site, number, f"ppj-{number}")

    response = signed_in("waste_operator").get(
        ENTITIES, {"type": "WasteContainer", "limit": 2, "offset": 2, "count": "true"}
    )

    ids = [entity["id"] for entity in response.json()]
    assert ids == [
        "urn:ngsi-ld:WasteContainer:PPJ-C-TEST03-3",
        "urn:ngsi-ld:WasteContainer:PPJ-C-TEST04-4",
    ]
    assert response["NGSILD-Results-Count"] == "5"


def test_entities_filtered_by_id(market_site, signed_in):
    make_container(market_site, 1)
    make_container(market_site, 2)

    response = signed_in("waste_operator").get(
        ENTITIES, {"id": "urn:ngsi-ld:WasteContainer:PPJ-C-TEST02-2"}
    )

    assert [e["id"] for e in response.json()] == [
        "urn:ngsi-ld:WasteContainer:PPJ-C-TEST02-2"
    ]


def test_entity_fetched_by_urn(container, signed_in):
    urn = f"urn:ngsi-ld:WasteContainer:{container.plate_code}"

    found = signed_in("waste_operator").get(f"{ENTITIES}/{urn}")
    missing = signed_in("waste_operator").get(
        f"{ENTITIES}/urn:ngsi-ld:WasteContainer:X"
    )

    assert found.json()["id"] == urn
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/ResourceNotFound")


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({}, "type=WasteContainer"),
        ({"type": "WasteContainer", "limit": "0"}, "limit must be"),
        ({"type": "WasteContainer", "limit": "many"}, "limit must be"),
        ({"type": "WasteContainer", "offset": "-1"}, "offset"),
    ],
)
def test_bad_entity_query_gives_400(container, signed_in, query, detail):
    response = signed_in("waste_operator").get(ENTITIES, query)

    assert response.status_code == 400
    assert response.json()["type"].endswith("/BadRequestData")
    assert detail in response.json()["detail"]


def test_other_type_lists_nothing(container, signed_in):
    response = signed_in("waste_operator").get(ENTITIES, {"type": "Vehicle"})

    assert response.json() == []


def test_entities_read_with_token(container, personas):
    token = create_api_token(personas["auditor"], "fiware dashboard")

    response = Client().get(
        ENTITIES, {"type": "WasteContainer"}, **bearer(token.secret)
    )

    assert response.status_code == 200
    assert len(response.json()) == 1


def test_entities_need_sign_in(container):
    anonymous = Client().get(ENTITIES, {"type": "WasteContainer"})
    bad_token = Client().get(ENTITIES, {"type": "WasteContainer"}, **bearer("kc_x_y"))

    assert anonymous.status_code == 401
    assert bad_token.status_code == 401


@pytest.mark.parametrize("persona", ["collector", "citizen", "merchant", "outsider"])
def test_entities_forbidden_without_view(container, signed_in, persona):
    response = signed_in(persona).get(ENTITIES, {"type": "WasteContainer"})

    assert response.status_code == 403
    assert "waste.view_waste" in response.json()["detail"]


# ------------------------------------------------------------------------- page


def test_fill_page_lists_fullest_first(market_site, signed_in):
    now = timezone.now()
    low = make_container(market_site, 1, "ppj-low")
    full = make_container(market_site, 2, "ppj-full")
    sensors.ingest("ppj-low", reading(0.2, now), "mqtt")
    sensors.ingest("ppj-full", reading(0.9, now), "mqtt")
    sensors.ingest("ppj-full", b"garbage", "mqtt")

    response = signed_in("waste_operator").get(FILL_PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(full.plate_code) < html.index(low.plate_code)
    assert "not_json" in html
    assert 'data-testid="above-count">1<' in html


@pytest.mark.parametrize("persona", ["collector", "citizen", "outsider"])
def test_fill_page_forbidden_without_view(container, signed_in, persona):
    response = signed_in(persona).get(FILL_PAGE)

    assert response.status_code == 403


def test_fill_page_needs_sign_in(container):
    response = Client().get(FILL_PAGE)

    assert response.status_code == 302
