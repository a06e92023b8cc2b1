"""Fixtures for journal tests: appending test events and tampering like an attacker."""

from collections.abc import Callable

import pytest
from django.db import connection, transaction

from kotacerdas.journal import services
from kotacerdas.journal.models import Entry

APPEND_ONLY_TABLES = ["journal_entry", "journal_merklenode", "journal_block"]


def append_roles_changed(user_id: int) -> Entry:
    """Append one `accounts.roles.changed` event for `user_id`."""
    payload = {"user_id": user_id, "roles": ["citizen"], "actor_id": None}
    return services.append("accounts.roles.changed", payload)


@pytest.fixture
def append_entries(db: None) -> Callable[[int], list[Entry]]:
    """Return a function that appends `count` events, each in its own atomic block."""

    def append(count: int) -> list[Entry]:
        entries = []
        for _ in range(count):
            with transaction.atomic():
                entries.append(append_roles_changed(user_id=len(entries) + 1))
        return entries

    return append


def disable_append_only_triggers() -> None:
    """Remove the append-only guard as an attacker with database rights would."""
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


@pytest.fixture
def tamper(db: None) -> None:
    """Drop the append-only triggers inside the test's transaction.

    The test's rollback restores them, on SQLite and PostgreSQL alike, because
    both run DDL transactionally.
    """
    disable_append_only_triggers()
