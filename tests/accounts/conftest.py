import pytest
from django.test import Client

from kotacerdas.accounts.roles import ROLES
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile

PASSWORD = "persona-password-1"


@pytest.fixture
def city(db):
    return load_profile("padang-panjang").city


@pytest.fixture
def personas(city):
    """Return one user per role, keyed by role name, plus an `outsider` with none."""
    pasar_usang = Area.objects.get(code="13.74.02.1002")
    users = {
        role.name: create_user(
            f"persona-{role.name}",
            PASSWORD,
            [role.name],
            kelurahan=pasar_usang if role.name == "registry_officer" else None,
        )
        for role in ROLES
    }
    users["outsider"] = create_user("persona-outsider", PASSWORD, [])
    return users


@pytest.fixture
def signed_in(personas):
    """Return a function giving a test client signed in as a persona."""

    def sign_in(persona: str) -> Client:
        client = Client()
        client.force_login(personas[persona])
        return client

    return sign_in
