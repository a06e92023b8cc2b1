"""Who reads the detailed health report and /metrics: token, permission, loopback.

Requests "from elsewhere" set REMOTE_ADDR to 192.0.2.10 (TEST-NET-1) in the
test client's WSGI environment; no traffic leaves the process.
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kotacerdas.accounts.roles import ROLES
from kotacerdas.accounts.services import create_user
from kotacerdas.journal.models import Witness
from kotacerdas.ops import health

ELSEWHERE = "192.0.2.10"
TOKEN = "monitoring-token-for-tests-7f3a"
WITNESS_NAME = "witness.pemkot.test"


@pytest.fixture
def witness(db) -> Witness:
    return Witness.objects.create(
        name=WITNESS_NAME, url="http://127.0.0.1:9", vkey="pemkot+1+AAAA"
    )


def client_for(user=None, remote_addr: str = ELSEWHERE, **headers: str) -> Client:
    client = Client(REMOTE_ADDR=remote_addr, headers=headers)
    if user is not None:
        client.force_login(user)
    return client


def is_detailed(client: Client) -> bool:
    body = client.get(reverse("ops:health")).json()
    return "checked_at" in body and "message" in body["checks"]["database"]


# Roles without ops.view_monitoring. The admin role has it.
PERSONAS = [
    "registry_officer",
    "waste_operator",
    "collector",
    "waste_bank_teller",
    "revenue_officer",
    "cashier",
    "merchant",
    "citizen",
    "auditor",
    "command_center",
    "outsider",
    "anonymous",
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_get_summary_only(personas, witness, persona):
    user = None if persona == "anonymous" else personas[persona]
    client = client_for(user)

    health_response = client.get(reverse("ops:health"))
    metrics_response = client.get(reverse("ops:metrics"))

    body = health_response.json()
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]["witness"]) == {"status"}
    assert WITNESS_NAME.encode() not in health_response.content
    assert metrics_response.status_code == 401
    assert metrics_response["WWW-Authenticate"] == 'Bearer realm="kotacerdas-metrics"'


def test_persona_list_covers_every_role():
    assert {role.name for role in ROLES} <= {*PERSONAS, "admin"}


@pytest.mark.django_db
def test_admin_role_reads_details(personas, witness):
    client = client_for(personas["admin"])

    response = client.get(reverse("ops:health"))

    assert WITNESS_NAME.encode() in response.content
    assert client.get(reverse("ops:metrics")).status_code == 200


@pytest.mark.django_db
def test_permission_unlocks_details(city, witness):
    user = create_user("monitoring-viewer", "viewer-password-1", [])
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="ops", codename="view_monitoring"
        )
    )
    client = client_for(user)

    response = client.get(reverse("ops:health"))

    assert response.json()["checks"]["witness"]["active_witnesses"] == 1
    assert WITNESS_NAME.encode() in response.content
    assert client.get(reverse("ops:metrics")).status_code == 200


@pytest.mark.django_db
def test_superuser_reads_details(city):
    user = create_user("root-admin", "root-password-1", [])
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])

    assert is_detailed(client_for(user))


@pytest.mark.django_db
def test_token_unlocks_from_elsewhere(settings):
    settings.KOTACERDAS_METRICS_TOKEN = TOKEN
    right = client_for(authorization=f"Bearer {TOKEN}")
    lowercase = client_for(authorization=f"bearer {TOKEN}")
    wrong = client_for(authorization=f"Bearer {TOKEN}x")
    basic = client_for(authorization=f"Basic {TOKEN}")

    assert is_detailed(right)
    assert right.get(reverse("ops:metrics")).status_code == 200
    assert lowercase.get(reverse("ops:metrics")).status_code == 200
    assert not is_detailed(wrong)
    assert wrong.get(reverse("ops:metrics")).status_code == 401
    assert basic.get(reverse("ops:metrics")).status_code == 401


@pytest.mark.django_db
def test_loopback_without_token_reads_details(settings):
    settings.KOTACERDAS_METRICS_TOKEN = ""

    assert is_detailed(client_for(remote_addr="127.0.0.1"))
    assert is_detailed(client_for(remote_addr="::1"))
    metrics = client_for(remote_addr="127.0.0.1").get(reverse("ops:metrics"))
    assert metrics.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        {"x-forwarded-for": "198.51.100.4"},
        {"x-real-ip": "198.51.100.4"},
        {"forwarded": "for=198.51.100.4"},
    ],
)
def test_proxied_loopback_gets_summary(settings, header):
    settings.KOTACERDAS_METRICS_TOKEN = ""
    client = client_for(remote_addr="127.0.0.1", **header)

    assert not is_detailed(client)
    assert client.get(reverse("ops:metrics")).status_code == 401


@pytest.mark.django_db
def test_token_turns_off_loopback_rule(settings):
    settings.KOTACERDAS_METRICS_TOKEN = TOKEN
    client = client_for(remote_addr="127.0.0.1")

    assert not is_detailed(client)
    assert client.get(reverse("ops:metrics")).status_code == 401


@pytest.mark.django_db
def test_summary_keeps_status_code(monkeypatch):
    def failing(now):
        return health.CheckResult("worker", health.FAIL, "no worker")

    monkeypatch.setitem(health.CHECKS, "worker", failing)

    response = client_for().get(reverse("ops:health"))

    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"status": "fail"}


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
@example(f"Bearer {TOKEN[:-1]}")
@example(f"Bearer {TOKEN.upper()}")
@example("Bearer ")
def test_random_authorization_never_matches(header):
    assume(TOKEN not in header)
    request = RequestFactory().get("/metrics", headers={"authorization": header})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(health.settings, "KOTACERDAS_METRICS_TOKEN", TOKEN)
        granted = health.has_metrics_token(request)

    assert not granted


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e7),
    st.floats(min_value=1, max_value=1e6),
    st.floats(min_value=0, max_value=1e6),
)
def test_age_status_follows_limits(age_s, warn_s, extra_s):
    fail_s = warn_s + extra_s
    limits = {"checkpoint": (warn_s, fail_s)}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(health.settings, "KOTACERDAS_HEALTH_AGE_LIMITS_S", limits)
        status = health.age_status(age_s, "checkpoint")

    if age_s > fail_s:
        assert status == "fail"
    elif age_s > warn_s:
        assert status == "warn"
    else:
        assert status == "ok"
