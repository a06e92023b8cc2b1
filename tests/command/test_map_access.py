"""Who may open the city map and its layers, and how bad parameters are rejected."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.accounts.roles import ROLES
from kotacerdas.command import map_layers
from kotacerdas.command.views_map import LayerParameterError, parse_bbox, parse_zoom

VIEWERS = {"command_center", "admin", "auditor"}
PERSONAS = [role.name for role in ROLES] + ["outsider"]


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert the English source messages."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_every_role_is_tried():
    assert len(ROLES) == 11
    assert set(PERSONAS) >= VIEWERS


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_layer_permission_per_persona(signed_in, persona):
    client = signed_in(persona)

    response = client.get(reverse("command:map_layer", args=["containers"]))

    if persona in VIEWERS:
        assert response.status_code == 200
        assert response.json()["type"] == "FeatureCollection"
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert "command center" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_map_page_permission_per_persona(signed_in, persona):
    client = signed_in(persona)

    response = client.get(reverse("command:map"))

    if persona in VIEWERS:
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="command-map"' in page
        assert "vendor/leaflet/leaflet.js" in page
        assert "vendor/leaflet/leaflet.css" in page
        assert "command/map.js" in page
        assert reverse("command:map_layer", args=["kelurahan"]) in page
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["map", "map_layer"])
def test_anonymous_goes_to_login(city, name):
    url = reverse(f"command:{name}", args=["kelurahan"] if name == "map_layer" else [])

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=" in response["Location"]


BAD_PARAMETERS = [
    ({"bbox": "1,2,3"}, "bbox", "bbox must have 4 numbers, not 3."),
    ({"bbox": "a,0,1,1"}, "bbox", "bbox value 'a' is not a number."),
    ({"bbox": "0,nan,1,1"}, "bbox", "bbox value 'nan' is not a number."),
    ({"bbox": "0,0,inf,1"}, "bbox", "bbox value 'inf' is not a number."),
    ({"bbox": "-181,0,1,1"}, "bbox", "longitudes must be between -180 and 180"),
    ({"bbox": "0,-91,1,1"}, "bbox", "latitudes must be between -90 and 90"),
    ({"bbox": "2,0,1,1"}, "bbox", "west must not exceed east"),
    ({"bbox": "0,2,1,1"}, "bbox", "nor south exceed north"),
    ({"zoom": "-1"}, "zoom", "zoom must be a whole number from 0 to 22, not '-1'."),
    ({"zoom": "23"}, "zoom", "not '23'"),
    ({"zoom": "15.5"}, "zoom", "not '15.5'"),
    ({"zoom": "²"}, "zoom", "not '²'"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "field", "message"), BAD_PARAMETERS)
def test_bad_parameter_names_field_and_fix(signed_in, params, field, message):
    client = signed_in("command_center")

    response = client.get(reverse("command:map_layer", args=["reports"]), params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == field
    assert message in error["message"]
    if field == "bbox":
        assert "west,south,east,north in degrees" in error["message"]


@pytest.mark.django_db
def test_buildings_layer_requires_bbox(signed_in):
    client = signed_in("command_center")

    response = client.get(reverse("command:map_layer", args=["buildings"]))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "bbox"
    assert error["message"].startswith("bbox is required for the buildings layer")


@pytest.mark.django_db
def test_unknown_layer_lists_the_layers(signed_in):
    client = signed_in("auditor")

    response = client.get(reverse("command:map_layer", args=["trees"]))

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["field"] == "layer"
    assert error["message"] == (
        "There is no map layer 'trees'. Layers: kelurahan, buildings,"
        " containers, routes, pickups, reports."
    )


@pytest.mark.django_db
def test_every_layer_answers_on_empty_city(signed_in):
    client = signed_in("command_center")

    for name in map_layers.LAYERS:
        response = client.get(
            reverse("command:map_layer", args=[name]), {"bbox": "100,-1,101,0"}
        )
        assert response.status_code == 200, name
        assert response.json()["type"] == "FeatureCollection", name


@given(st.text(max_size=60))
def test_parse_bbox_accepts_or_names_bbox(text):
    try:
        box = parse_bbox(text)
    except LayerParameterError as error:
        assert error.field == "bbox"
        assert error.message
    else:
        assert -180 <= box.west <= box.east <= 180
        assert -90 <= box.south <= box.north <= 90


@given(
    st.floats(-180, 180),
    st.floats(-180, 180),
    st.floats(-90, 90),
    st.floats(-90, 90),
)
def test_parse_bbox_reads_valid_boxes(x1, x2, y1, y2):
    west, east = sorted((x1, x2))
    south, north = sorted((y1, y2))

    box = parse_bbox(f"{west!r},{south!r},{east!r},{north!r}")

    assert (box.west, box.south, box.east, box.north) == (west, south, east, north)


@given(st.text(max_size=10))
def test_parse_zoom_accepts_only_levels(text):
    try:
        zoom = parse_zoom(text)
    except LayerParameterError as error:
        assert error.field == "zoom"
    else:
        assert 0 <= zoom <= 22
        assert zoom == int(text.strip())


def test_parse_zoom_reads_every_level():
    assert [parse_zoom(str(level)) for level in range(23)] == list(range(23))
    assert parse_zoom(" 15 ") == 15
