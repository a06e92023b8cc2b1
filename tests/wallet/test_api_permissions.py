"""The persona and permission matrix for every operation under /api/wallet.

Each operation has a row naming the personas that get through; every other
signed-in persona must get 403 and an anonymous caller 401. The first test
fails when the router has an operation without a row, or a row names an
operation that does not exist, so a new operation cannot ship without its
expectations. Writes are sent an empty body: an allowed persona gets past the
permission check and then 422 for the missing fields, which proves it got in.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from tests.conftest import PASSWORD
from tests.wallet.conftest import fund

from kotacerdas.accounts.roles import ROLES
from kotacerdas.accounts.services import create_user
from kotacerdas.config.api import api
from kotacerdas.wallet import services

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider", "anonymous"]

# Who has which wallet permission, read off accounts.roles by hand so that a
# change of a role's rights shows up here as a failing row.
USE_WALLET = {"citizen", "waste_bank_teller"}
RECEIVE_PAYMENTS = {"merchant"}
OPERATE_COUNTER = {"cashier"}
VIEW_ALL = {"admin", "revenue_officer", "auditor"}


@dataclass(frozen=True)
class Operation:
    """Who may call one operation, and the status an allowed persona gets."""

    allowed: set[str]
    ok: int = 200


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/wallet/me"): Operation(USE_WALLET),
    ("GET", "/api/wallet/me/transfers"): Operation(USE_WALLET),
    # A cashier confirms the holder before a cash-in, so the look-up is open
    # to counters too.
    ("GET", "/api/wallet/payees/{number}"): Operation(USE_WALLET | OPERATE_COUNTER),
    ("POST", "/api/wallet/transfers"): Operation(USE_WALLET, ok=422),
    ("POST", "/api/wallet/qr/parse"): Operation(USE_WALLET, ok=422),
    ("POST", "/api/wallet/qr/pay"): Operation(USE_WALLET, ok=422),
    ("GET", "/api/wallet/merchant"): Operation(RECEIVE_PAYMENTS),
    # An empty body requests the static code, which needs no field.
    ("POST", "/api/wallet/merchant/qr"): Operation(RECEIVE_PAYMENTS),
    ("GET", "/api/wallet/merchant/payments"): Operation(RECEIVE_PAYMENTS),
    ("POST", "/api/wallet/counter/cash-in"): Operation(OPERATE_COUNTER, ok=422),
    ("POST", "/api/wallet/counter/cash-out"): Operation(OPERATE_COUNTER, ok=422),
    ("GET", "/api/wallet/accounts"): Operation(VIEW_ALL),
    ("GET", "/api/wallet/accounts/{number}"): Operation(VIEW_ALL),
    ("GET", "/api/wallet/transfers"): Operation(VIEW_ALL),
    ("GET", "/api/wallet/transfers/{reference}"): Operation(VIEW_ALL),
    # Service integrations act as a user with the counter permission.
    ("POST", "/api/wallet/reservations"): Operation(OPERATE_COUNTER, ok=422),
    ("POST", "/api/wallet/reservations/{pending_id}/post"): Operation(
        OPERATE_COUNTER, ok=422
    ),
    ("POST", "/api/wallet/reservations/{pending_id}/void"): Operation(
        OPERATE_COUNTER, ok=422
    ),
    ("POST", "/api/wallet/batch"): Operation(OPERATE_COUNTER, ok=422),
}


def wallet_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/wallet/")
        for method in operations
    }


def test_every_operation_has_a_row():
    missing = sorted(wallet_operations() - set(OPERATIONS))
    absent = sorted(set(OPERATIONS) - wallet_operations())

    assert not missing, f"add these API operations to OPERATIONS: {missing}"
    assert not absent, f"these API operations do not exist: {absent}"


@pytest.fixture
def objects(personas) -> dict[str, str]:
    """Path arguments: another citizen's wallet and one of its transfers."""
    services.open_merchant(personas["merchant"], "Warung Contoh")
    holder = create_user("matrix-citizen", PASSWORD, ["citizen"])
    wallet = services.wallet_for(holder)
    fund(wallet, 10_000)
    transfer = wallet.credits.get()
    return {
        "number": wallet.number,
        "reference": transfer.reference,
        "pending_id": "no-such-reservation",
    }


def client_for(persona: str, personas) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(personas[persona])
    return client


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_api_matrix(method, path, personas, objects):
    operation = OPERATIONS[(method, path)]
    url = path.format(**objects)

    wrong = []
    for persona in PERSONAS:
        client = client_for(persona, personas)
        response = client.generic(method, url, "{}", content_type="application/json")
        if persona == "anonymous":
            expected = 401
        else:
            expected = operation.ok if persona in operation.allowed else 403
        if response.status_code != expected:
            wrong.append(
                f"{method} {path} as {persona}: {response.status_code}, "
                f"expected {expected}"
            )
        elif expected == 403:
            assert response.json()["error"]["code"] == "forbidden"

    assert not wrong, "\n".join(wrong)


def test_bearer_token_gets_the_same_answer(personas, objects):
    from kotacerdas.accounts.api_auth import create_api_token

    for persona, expected in (("auditor", 200), ("citizen", 403)):
        secret = create_api_token(personas[persona], "matrix").secret
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

        response = client.get(f"/api/wallet/accounts/{objects['number']}")

        assert response.status_code == expected, persona
