"""Fixtures shared by every test package."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from kotacerdas.journal.keys import create_signing_key, node_key


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
