"""API tokens: creation, use as a bearer token, revocation and the command."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kotacerdas.accounts.api_auth import (
    create_api_token,
    revoke_api_token,
    user_for_token,
)
from kotacerdas.accounts.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db

BUILDINGS = "/api/registry/buildings"


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_token_stored_only_as_hash(personas):
    new = create_api_token(personas["registry_officer"], "dukcapil sync")

    row = ApiToken.objects.get()
    assert new.secret.startswith(f"kc_{row.prefix}_")
    assert row.key_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in str(ApiToken.objects.values().get())


def test_token_creation_is_audited(personas):
    new = create_api_token(
        personas["registry_officer"], "sync", actor=personas["admin"]
    )

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.API_TOKEN_CREATED)
    assert event.user == personas["registry_officer"]
    assert event.actor == personas["admin"]
    assert event.detail == {"token_id": new.token.pk, "prefix": new.token.prefix}


def test_bearer_token_authenticates_api(personas):
    secret = create_api_token(personas["registry_officer"], "sync").secret

    response = Client().get(BUILDINGS, **bearer(secret))

    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer kc_0000000000_wrong", "Bearer nonsense", "Basic dXNlcjpwYXNz", ""],
)
def test_bad_credentials_get_401(personas, header):
    create_api_token(personas["registry_officer"], "sync")

    response = Client().get(BUILDINGS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_wrong_secret_with_right_prefix_fails(personas):
    secret = create_api_token(personas["registry_officer"], "sync").secret

    assert user_for_token(secret[:-2] + "xx") is None
    assert user_for_token(secret) == personas["registry_officer"]


def test_revoked_token_stops_working(personas):
    new = create_api_token(personas["registry_officer"], "sync")

    assert revoke_api_token(new.token) is True
    assert revoke_api_token(new.token) is False
    response = Client().get(BUILDINGS, **bearer(new.secret))

    assert response.status_code == 401
    assert (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.API_TOKEN_REVOKED).count() == 1
    )


def test_inactive_user_token_fails(personas):
    user = personas["registry_officer"]
    secret = create_api_token(user, "sync").secret
    user.is_active = False
    user.save()

    assert user_for_token(secret) is None


def test_token_acts_with_user_permissions(personas):
    secret = create_api_token(personas["collector"], "phone").secret

    response = Client().get(BUILDINGS, **bearer(secret))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_token_writes_need_no_csrf(personas):
    secret = create_api_token(personas["registry_officer"], "sync").secret
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        BUILDINGS, {}, content_type="application/json", **bearer(secret)
    )

    assert response.status_code == 422


def test_session_writes_need_csrf(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["registry_officer"])

    rejected = client.post(BUILDINGS, {}, content_type="application/json")
    client.get("/registry/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        BUILDINGS, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert rejected.status_code == 403
    assert accepted.status_code == 422


def test_session_reads_work_without_csrf(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["registry_officer"])

    assert client.get(BUILDINGS).status_code == 200


def test_empty_token_name_rejected(personas):
    with pytest.raises(ValueError, match="token name is empty"):
        create_api_token(personas["registry_officer"], "  ")


def test_command_creates_lists_and_revokes(personas):
    out, err = StringIO(), StringIO()
    call_command(
        "token", "create", "persona-registry_officer", "gis", stdout=out, stderr=err
    )
    secret = out.getvalue().strip()
    prefix = ApiToken.objects.get().prefix

    assert user_for_token(secret) == personas["registry_officer"]
    assert "cannot be shown again" in err.getvalue()

    listing = StringIO()
    call_command("token", "list", stdout=listing)
    assert prefix in listing.getvalue()
    assert secret not in listing.getvalue()

    call_command("token", "revoke", prefix, stdout=StringIO())
    assert user_for_token(secret) is None


def test_command_names_unknown_user(personas):
    with pytest.raises(CommandError, match="user 'nobody' not found"):
        call_command("token", "create", "nobody", "gis")


def test_admin_shows_token_once(personas, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(superuser)

    response = client.post(
        "/admin/accounts/apitoken/add/",
        {"user": personas["registry_officer"].pk, "name": "gis"},
        follow=True,
    )

    token = ApiToken.objects.get()
    page = response.content.decode()
    secret = page.split(f"kc_{token.prefix}_", 1)[1].split("<", 1)[0].split()[0]
    assert user_for_token(f"kc_{token.prefix}_{secret}") == personas["registry_officer"]
    detail = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert secret not in detail
