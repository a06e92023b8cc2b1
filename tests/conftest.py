"""Fixtures shared by every test package."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation
from tests.pii_plugin import PersonalDataCheck
from tests.pii_plugin import enabled as personal_data_check_enabled

from kotacerdas.accounts.roles import ROLES
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.journal import append_only
from kotacerdas.journal.keys import create_signing_key, node_key
from kotacerdas.journal.models import JournalHead
from kotacerdas.waste.models import STANDARD_MATERIALS, Material

DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def pytest_configure(config: pytest.Config) -> None:
    if personal_data_check_enabled():
        config.pluginmanager.register(PersonalDataCheck(), "personal-data-check")


@pytest.fixture(autouse=True)
def _signing_key() -> None:
    """Make sure the node's signing key exists in the test run's var/ directory."""
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    node_key.cache_clear()


@pytest.fixture
def postgres_only() -> None:
    """Skip a test that needs PostgreSQL features when running on SQLite."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across several connections)")


@pytest.fixture(autouse=True)
def _journal_ready(request: pytest.FixtureRequest):
    """Give every database test the journal head row and the append-only triggers.

    Transactional tests (and live_server) end with a flush that empties every
    table, which the triggers would reject and which also removes the head row
    the migration created. So the triggers are dropped just before that flush
    and both are put back at the start of the next test.
    """
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not DB_FIXTURES & names:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & names
    )
    JournalHead.objects.get_or_create(id=1, defaults={"size": 0})
    _standard_materials()
    append_only.install(connection)
    yield
    if transactional:
        append_only.remove(connection)


def _standard_materials() -> None:
    """Put back the materials a migration adds, which a transactional flush removes."""
    if Material.objects.exists():
        return
    with translation.override("id"):
        for code, sipsn, group, label in STANDARD_MATERIALS:
            Material.objects.get_or_create(
                code=code,
                defaults={
                    "name": str(label),
                    "sipsn_category": sipsn,
                    "sorting_group": group,
                },
            )


PASSWORD = "persona-password-1"


@pytest.fixture
def city(db):
    """Return the demo city with its fee schedule emptied.

    Tests that assert exact balances then hold on any day; the fee tests set
    their own schedule.
    """
    city = load_profile("padang-panjang").city
    city.settings = {**city.settings, "fees": []}
    city.save(update_fields=["settings"])
    return city


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
