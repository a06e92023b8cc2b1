"""Authentication and CSRF failures use the API's one error shape."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_wrong_token_gets_401_in_error_shape(city):
    response = Client().get(
        "/api/registry/buildings", HTTP_AUTHORIZATION="Bearer not-a-token"
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert "Bearer" in error["message"]


def test_no_credentials_gets_401_in_error_shape(city):
    response = Client().get("/api/registry/buildings")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_session_write_without_csrf_gets_403_in_error_shape(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["registry_officer"])
    response = client.post(
        "/api/registry/buildings", {}, content_type="application/json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "CSRF" in error["message"]


def test_invalid_body_names_the_field_as_sent(city):
    response = Client().post(
        "/api/plates/verify", {"txt": "x"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "text"
