"""Every page and every API write rejects a signed-in POST without the CSRF token.

Django's CSRF middleware checks a POST before the view runs, so every URL
that is not exempt must return 403 to a client that enforces CSRF checks and
sends no token, whatever the view does with a GET. The exemptions are the
endpoints that authenticate each request by a signature, not by the session
cookie.
"""

import pytest

from .conftest import DemoCity
from .routes import api_operations, page_routes

pytestmark = pytest.mark.django_db

# SNAP (Bank Indonesia's open API standard) requests carry an HMAC or RSA
# signature and a bearer token from the access-token endpoint, no cookie.
CSRF_EXEMPT = {"snap:access_token", "snap:va_inquiry", "snap:va_payment"}
CSRF_FAILURE = "CSRF"


def test_exemptions_exist():
    missing = CSRF_EXEMPT - set(page_routes())

    assert not missing, f"CSRF_EXEMPT names URLs that do not exist: {missing}"


@pytest.mark.parametrize("persona", ["citizen", "registry_officer"])
def test_every_page_post_needs_token(demo_city: DemoCity, persona: str):
    client = demo_city.client(persona, enforce_csrf=True)

    accepted = []
    for key, route in sorted(page_routes().items()):
        if key in CSRF_EXEMPT:
            continue
        try:
            url = route.url(demo_city.objects)
        except KeyError:
            continue  # test_coverage fails for a route without fixture values
        response = client.post(url, {})
        if response.status_code != 403 or CSRF_FAILURE not in response.text:
            accepted.append(f"{key}: {response.status_code}")

    assert not accepted, "POST without CSRF token not rejected:\n" + "\n".join(accepted)


def test_exempt_endpoints_reject_unsigned(demo_city: DemoCity):
    client = demo_city.client("anonymous", enforce_csrf=True)

    for key in sorted(CSRF_EXEMPT):
        response = client.post(page_routes()[key].url(demo_city.objects), {})

        assert response.status_code in (400, 401), key


# Personas that pass each API write's permission check, so that a 403 can
# only come from the missing CSRF token.
API_WRITERS = {
    "/api/wallet/counter/": "cashier",
    "/api/wallet/reservations": "cashier",
    "/api/wallet/batch": "cashier",
    "/api/wallet/merchant/": "merchant",
    "/api/wallet/": "citizen",
    "/api/levy/bills/{bill_id}/payments": "citizen",
    "/api/levy/": "revenue_officer",
    "/api/registry/": "registry_officer",
    "/api/plates/": "collector",
    "/api/waste/pickups": "collector",
    "/api/waste/sensors/": "admin",
}


def writer_for(path: str) -> str:
    for prefix, persona in API_WRITERS.items():
        if path.startswith(prefix):
            return persona
    pytest.fail(f"add the persona that may call {path} to API_WRITERS")


def test_every_api_write_needs_token(demo_city: DemoCity):
    writes = sorted(
        (method, path)
        for method, path in api_operations()
        if method in {"POST", "PUT", "PATCH", "DELETE"}
        # The plate check is public and reads nothing from the session.
        and path != "/api/plates/verify"
    )

    accepted = []
    for method, path in writes:
        client = demo_city.client(writer_for(path), enforce_csrf=True)
        url = path.format(**demo_city.objects)
        response = client.generic(method, url, "{}", content_type="application/json")
        if response.status_code != 403 or CSRF_FAILURE not in response.text:
            accepted.append(f"{method} {path}: {response.status_code}")

    assert not accepted, "API write without CSRF token not rejected:\n" + "\n".join(
        accepted
    )
