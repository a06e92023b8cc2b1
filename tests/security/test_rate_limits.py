"""Scan and pickup rate limits: pages return 429 with a message, the API its error format.

Login attempts are limited by django-axes (tests/accounts) and payment PIN
tries by the PIN lock (tests/wallet/test_pages_citizen.py, test_api.py).
"""

import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from kotacerdas.accounts.api_auth import create_api_token

pytestmark = pytest.mark.django_db

SCAN = "/scan/"
SCAN_RESOLVE = "/scan/resolve"
PLATE_VERIFY = "/api/plates/verify"
PICKUPS = "/api/waste/pickups"
LIMIT = 3


@pytest.fixture(autouse=True)
def low_limits(settings):
    settings.KOTACERDAS_SCAN_LIMIT_PER_MIN = LIMIT
    settings.KOTACERDAS_PICKUP_LIMIT_PER_MIN = LIMIT
    cache.clear()
    yield
    cache.clear()


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_scan_page_throttled_after_limit(signed_in):
    client = english(signed_in("collector"))

    allowed = [client.get(SCAN, {"code": f"X{n}"}) for n in range(LIMIT)]
    refused = client.get(SCAN, {"code": "X-last"})

    assert [response.status_code for response in allowed] == [200] * LIMIT
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many scans in a short time. Wait" in refused.content.decode()


def test_empty_scan_page_not_counted(signed_in):
    client = signed_in("collector")

    pages = [client.get(SCAN) for _ in range(LIMIT + 2)]

    assert [response.status_code for response in pages] == [200] * (LIMIT + 2)


def test_scan_resolve_throttled_after_limit(signed_in):
    client = english(signed_in("citizen"))

    for n in range(LIMIT):
        assert client.post(SCAN_RESOLVE, {"text": f"X{n}"}).status_code == 200
    refused = client.post(SCAN_RESOLVE, {"text": "X-last"})

    assert refused.status_code == 429
    assert "Too many scans in a short time." in refused.content.decode()


def test_limit_counts_each_user_apart(signed_in):
    first = signed_in("collector")
    second = signed_in("citizen")

    for n in range(LIMIT):
        first.get(SCAN, {"code": f"X{n}"})

    assert first.get(SCAN, {"code": "X"}).status_code == 429
    assert second.get(SCAN, {"code": "X"}).status_code == 200


def test_plate_verify_api_throttled(city):
    client = english(Client())

    for _ in range(LIMIT):
        response = client.post(
            PLATE_VERIFY, {"text": "nonsense"}, content_type="application/json"
        )
        assert response.status_code == 200
    refused = client.post(
        PLATE_VERIFY, {"text": "nonsense"}, content_type="application/json"
    )

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("Too many scans in a short time. Wait ")


def test_plate_verify_counts_each_token_apart(personas):
    """Crews share one carrier address; each token still gets its own limit."""
    tokens = [
        create_api_token(personas[name], "crew phone").secret
        for name in ("collector", "waste_operator")
    ]

    def verify(token: str) -> int:
        response = english(Client()).post(
            PLATE_VERIFY,
            {"text": "nonsense"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        return response.status_code

    first = [verify(tokens[0]) for _ in range(LIMIT + 1)]
    second = [verify(tokens[1]) for _ in range(LIMIT)]

    assert first == [200] * LIMIT + [429]
    assert second == [200] * LIMIT


def pickup_form() -> dict[str, str]:
    """A well-formed pickup naming no real plate, which the service rejects."""
    return {
        "client_id": str(uuid.uuid4()),
        "plate": "NOPLATE1",
        "outcome": "collected",
        "scanned_at": timezone.now().replace(microsecond=0).isoformat(),
        "category": "organic",
        "lat": "-0.465100",
        "lng": "100.400200",
        "accuracy_m": "12.5",
        "weight_kg": "2,5",
    }


def test_pickup_api_throttled(signed_in):
    client = english(signed_in("collector"))

    for _ in range(LIMIT):
        assert client.post(PICKUPS, pickup_form()).status_code == 422
    refused = client.post(PICKUPS, pickup_form())

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert "pickups already sent are kept" in error["message"]


def test_forbidden_pickup_not_counted(signed_in):
    client = signed_in("citizen")

    statuses = [
        client.post(PICKUPS, pickup_form()).status_code for _ in range(LIMIT + 1)
    ]

    assert statuses == [403] * (LIMIT + 1)
