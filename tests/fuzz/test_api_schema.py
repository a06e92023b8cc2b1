"""Fuzz every operation of the JSON API from its own OpenAPI schema.

schemathesis generates valid and invalid requests for each operation and sends
them through the WSGI application with an API token of a role that may use the
operation. Every response must be below 500, and every error response must be
in the documented shape `{"error": {"code", "message", "field"}}`.
"""

from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.services import create_user
from kotacerdas.config.api import api

APPLICATION = get_wsgi_application()

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    # Hypothesis draws NUL bytes, which Django rejects in URLs before any
    # view runs; they test Django, not this API.
    allow_x00=False,
)

# Examples per operation, besides the explicit ones of schemathesis's coverage
# phase. About 55 operations at 20 examples each took 2 to 4 minutes per
# database on a shared 2-core machine.
MAX_EXAMPLES = 20

# The role whose token calls each operation, by method and path prefix. The
# first match wins, None calls without a token (public operations), and an
# operation under a prefix not listed here is called as the admin.
ROLE_BY_PATH: list[tuple[str, str, str | None]] = [
    ("*", "/api/journal/", None),
    ("*", "/api/plates/", None),
    ("*", "/api/registry/", "registry_officer"),
    ("*", "/api/levy/", "revenue_officer"),
    ("*", "/api/wallet/counter/", "cashier"),
    ("*", "/api/wallet/reservations", "cashier"),
    ("*", "/api/wallet/batch", "cashier"),
    ("POST", "/api/wallet/transfers", "citizen"),
    ("*", "/api/wallet/transfers", "revenue_officer"),
    ("*", "/api/wallet/accounts", "revenue_officer"),
    ("*", "/api/wallet/merchant", "merchant"),
    ("*", "/api/wallet/", "citizen"),
    ("*", "/api/waste/sensors/", "sensor_gateway"),
    ("*", "/api/waste/pickups", "collector"),
    ("*", "/api/command/", "command_center"),
]


def role_for(method: str, path: str) -> str | None:
    for rule_method, prefix, role in ROLE_BY_PATH:
        if rule_method in ("*", method.upper()) and path.startswith(prefix):
            return role
    return "admin"


@pytest.fixture
def api_tokens(personas) -> dict[str, str]:
    """Return an API token secret for every role, and for a sensor gateway."""
    gateway = create_user("fuzz-sensor-gateway", None, [])
    gateway.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="waste", codename="send_sensor_data"
        )
    )
    users = {**personas, "sensor_gateway": gateway}
    return {
        name: create_api_token(user, f"fuzz {name}").secret
        for name, user in users.items()
    }


@pytest.fixture
def _connection_kept_open():
    """Keep the test's database connection open across WSGI requests.

    Django closes connections when a request ends, which would end the test's
    transaction; its own test client disconnects the same signal handlers.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def error_shape_problem(body: Any) -> str | None:
    """Return what is wrong with an error body, or None when it has the shape.

    An operation may add documented keys beside `error`, such as `errors`
    (every invalid field, each in the same shape) or the per-reading
    `results` of a sensor batch.
    """
    if not isinstance(body, dict) or "error" not in body:
        return "the body is not an object with the key 'error'"
    problem = detail_problem(body["error"], "error")
    if problem is None and "errors" in body:
        if not isinstance(body["errors"], list) or not body["errors"]:
            return "'errors' is not a non-empty list"
        for index, detail in enumerate(body["errors"]):
            problem = problem or detail_problem(detail, f"errors[{index}]")
    return problem


def detail_problem(detail: Any, name: str) -> str | None:
    if not isinstance(detail, dict):
        return f"'{name}' is not an object"
    for key in ("code", "message"):
        if not isinstance(detail.get(key), str) or not detail[key]:
            return f"'{name}.{key}' is missing or empty"
    if "field" not in detail or not isinstance(detail["field"], str | None):
        return f"'{name}.field' is neither a string nor null"
    return None


def test_every_role_rule_matches_an_operation():
    operations = [operation.ok() for operation in schema.get_all_operations()]
    for method, prefix, _role in ROLE_BY_PATH:
        matching = [
            op
            for op in operations
            if method in ("*", op.method.upper()) and op.path.startswith(prefix)
        ]
        assert matching, f"no operation matches {method} {prefix}; update ROLE_BY_PATH"


@pytest.mark.django_db
def test_fuzz_tokens_authenticate(api_tokens):
    client = Client()
    for name, secret in api_tokens.items():
        response = client.get("/api/wallet/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code != 401, f"the token of {name} was rejected"


@pytest.mark.django_db
@pytest.mark.usefixtures("_connection_kept_open")
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_operation_fuzz(case, api_tokens):
    role = role_for(case.method, case.operation.path)
    headers = {"Authorization": f"Bearer {api_tokens[role]}"} if role else {}

    response = case.call(app=APPLICATION, headers=headers)

    request = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (
        f"{request} returned {response.status_code}: {response.text[:500]}"
    )
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            pytest.fail(f"{request} returned {response.status_code} without JSON")
        problem = error_shape_problem(body)
        assert problem is None, f"{request} {response.status_code}: {problem}: {body}"
