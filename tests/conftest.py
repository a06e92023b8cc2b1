"""Fixtures shared by every test package."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from kotacerdas.journal import append_only
from kotacerdas.journal.keys import create_signing_key, node_key
from kotacerdas.journal.models import JournalHead

DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


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
    append_only.install(connection)
    yield
    if transactional:
        append_only.remove(connection)
