"""Request size, field count and page size limits, with messages naming the limit."""

import os
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from kotacerdas.accounts.api_auth import create_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    settings.KOTACERDAS_MAX_REQUEST_BYTES = 64 * 1024
    return settings


def bearer(personas, role: str) -> dict[str, str]:
    secret = create_api_token(personas[role], f"limits {role}").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def assert_error_shape(body: dict, code: str) -> dict:
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code
    return body["error"]


def test_large_json_body_gets_413_naming_limit(small_limits, personas):
    body = '{"text": "' + "x" * 5000 + '"}'
    response = Client().post(
        "/api/plates/verify", body, content_type="application/json"
    )
    assert response.status_code == 413
    error = assert_error_shape(response.json(), "too_large")
    assert "the limit is 4.0 KB" in error["message"]
    assert "Send a smaller file" in error["message"]


def test_json_body_under_limit_is_served(small_limits, personas):
    response = Client().post(
        "/api/plates/verify", {"text": "x" * 100}, content_type="application/json"
    )
    assert response.status_code == 200


def test_large_form_post_gets_413_page(small_limits, city):
    response = Client().post(
        "/accounts/login/",
        "username=" + "x" * 5000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]
    page = response.content.decode()
    assert "Request rejected" in page
    assert "Send a smaller file" in page


def test_multipart_over_request_limit_gets_413(small_limits, signed_in):
    client = signed_in("registry_officer")
    upload = ("rows.csv", b"a" * (70 * 1024), "text/csv")
    response = client.post("/registry/import/", {"file": _file(*upload)})
    assert response.status_code == 413
    assert "the limit is 64.0 KB" in response.content.decode()


def test_multipart_file_over_memory_limit_passes_middleware(small_limits, signed_in):
    client = signed_in("registry_officer")
    upload = ("rows.csv", b"a" * (8 * 1024), "text/csv")
    response = client.post("/registry/import/", {"file": _file(*upload)})
    assert response.status_code != 413


def _file(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_too_many_query_parameters_on_api(small_limits, personas):
    query = "&".join(f"p{number}=1" for number in range(30))
    response = Client().get(
        f"/api/wallet/me/transfers?{query}", **bearer(personas, "citizen")
    )
    assert response.status_code == 400
    error = assert_error_shape(response.json(), "bad_request")
    assert "more than 20 fields or query parameters" in error["message"]


def test_too_many_query_parameters_on_page(small_limits, signed_in):
    query = "&".join(f"p{number}=1" for number in range(30))
    response = signed_in("command_center").get(f"/command/lists/buildings/?{query}")
    assert response.status_code == 400
    assert "more than 20 fields or query parameters" in response.content.decode()


def test_method_not_allowed_in_error_shape(city):
    response = Client().delete("/api/journal/keys")
    assert response.status_code == 405
    error = assert_error_shape(response.json(), "method_not_allowed")
    assert "DELETE" in error["message"]
    assert "GET" in response["Allow"]


def test_unknown_api_path_in_error_shape(city):
    response = Client().get("/api/no-such-operation")
    assert response.status_code == 404
    error = assert_error_shape(response.json(), "not_found")
    assert "/api/docs" in error["message"]


def test_unknown_page_stays_html(city):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/registry/buildings", "registry_officer"),
        ("/api/levy/bills", "revenue_officer"),
        ("/api/wallet/accounts", "revenue_officer"),
        ("/api/wallet/transfers", "revenue_officer"),
        ("/api/wallet/me/transfers", "citizen"),
    ],
)
def test_api_page_size_over_limit_names_limit(personas, path, role):
    response = Client().get(f"{path}?limit=100000", **bearer(personas, role))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "limit"
    assert "500" in error["message"] or "200" in error["message"]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/registry/buildings", "registry_officer"),
        ("/api/levy/bills", "revenue_officer"),
        ("/api/wallet/accounts", "revenue_officer"),
        ("/api/wallet/me/transfers", "citizen"),
    ],
)
@pytest.mark.parametrize("offset", ["-1", str(2**63), "1e9", "x"])
def test_api_offset_out_of_range_is_rejected(personas, path, role, offset):
    response = Client().get(f"{path}?offset={offset}", **bearer(personas, role))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "offset"


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/registry/?page=99999999999999999999&per_page=100000", "registry_officer"),
        ("/command/lists/buildings/?page=-5", "command_center"),
        ("/command/lists/transfers/?page=abc", "command_center"),
        ("/wallet/?page=99999999999999999999", "citizen"),
        ("/wallet/merchant/?page=0", "merchant"),
    ],
)
def test_list_pages_clamp_page_numbers(signed_in, path, role):
    response = signed_in(role).get(path)
    assert response.status_code == 200


def test_limits_read_from_environment():
    env = {
        **os.environ,
        "KOTACERDAS_MAX_BODY_BYTES": "5000",
        "KOTACERDAS_MAX_FIELDS": "77",
        "KOTACERDAS_MAX_REQUEST_BYTES": "123456",
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
    }
    script = (
        "from django.conf import settings as s; "
        "print(s.DATA_UPLOAD_MAX_MEMORY_SIZE, s.DATA_UPLOAD_MAX_NUMBER_FIELDS, "
        "s.KOTACERDAS_MAX_REQUEST_BYTES)"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert output.returncode == 0, output.stderr
    assert output.stdout.split() == ["5000", "77", "123456"]


def test_limit_below_minimum_fails_loudly():
    env = {
        **os.environ,
        "KOTACERDAS_MAX_BODY_BYTES": "10",
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
    }
    script = "from django.conf import settings as s; s.DATA_UPLOAD_MAX_MEMORY_SIZE"
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert output.returncode != 0
    assert "KOTACERDAS_MAX_BODY_BYTES" in output.stderr


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, '{"text": ' * 50_000, "[" * 201 + "]" * 201],
)
def test_deeply_nested_json_gets_400(city, body):
    response = Client().post("/api/plates/verify", body, content_type="text/plain")
    assert response.status_code == 400
    error = assert_error_shape(response.json(), "bad_request")
    assert "nested more than 200 levels" in error["message"]


def test_deeply_nested_snap_body_gets_400(city):
    response = Client().post(
        "/v1.0/transfer-va/inquiry", "[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    error = assert_error_shape(response.json(), "bad_request")
    assert "nested more than 200 levels" in error["message"]


def test_brackets_inside_strings_do_not_count(city):
    body = '{"text": "' + "[" * 300 + '"}'
    response = Client().post(
        "/api/plates/verify", body, content_type="application/json"
    )
    assert response.status_code == 200
