"""Who reaches the command center: every page, fragment and API operation.

Only the command-center, admin and auditor roles have command.view_dashboard.
Every other role, and a user with no role, gets the 403 page or a 403 JSON
error. A visitor who is not signed in goes to the login page, or gets a 401
from the API.
"""

import pytest
from django.test import Client
from django.urls import reverse

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.roles import ROLES

pytestmark = pytest.mark.django_db

ALLOWED = {"command_center", "admin", "auditor"}
PERSONAS = [role.name for role in ROLES] + ["outsider"]

PAGES = [
    "/command/",
    "/command/live/figures/",
    "/command/live/figures/?part=details",
    "/command/live/figures/?part=wall",
    "/command/live/alerts/",
    "/command/wall/",
    "/command/explain/collection_rate/",
]
API = [
    "/api/command/figures",
    "/api/command/kelurahan",
    "/api/command/series/transfers",
    "/api/command/alerts",
]


def test_eleven_roles_are_tried():
    assert len(ROLES) == 11
    assert {role.name for role in ROLES} >= ALLOWED


@pytest.mark.parametrize("persona", PERSONAS)
def test_page_access_by_role(signed_in, persona):
    client = signed_in(persona)

    for url in PAGES:
        response = client.get(url)
        if persona in ALLOWED:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
            templates = [template.name for template in response.templates]
            assert "403.html" in templates, url


@pytest.mark.parametrize("url", PAGES)
def test_page_sends_visitor_to_login(city, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_access_by_role(signed_in, persona):
    client = signed_in(persona)

    for url in API:
        response = client.get(url)
        if persona in ALLOWED:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
            error = response.json()["error"]
            assert error["code"] == "forbidden", url
            assert "command.view_dashboard" in error["message"], url


@pytest.mark.parametrize("url", API)
def test_api_rejects_visitor_with_401(city, url):
    response = Client().get(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("persona", "status"), [("command_center", 200), ("citizen", 403)]
)
def test_api_token_follows_the_role(personas, persona, status):
    token = create_api_token(personas[persona], "wall display").secret

    response = Client().get(
        "/api/command/figures", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == status


def test_unknown_figure_explain_is_404(signed_in):
    response = signed_in("command_center").get("/command/explain/no_such_figure/")

    assert response.status_code == 404
