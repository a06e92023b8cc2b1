"""Fixtures for journal tests: appending test events and tampering like an attacker."""

from collections.abc import Callable, Iterator

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_migrate

from kotacerdas.journal import services
from kotacerdas.journal.models import Entry, JournalHead

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


def enable_append_only_triggers() -> None:
    """Restore the triggers that `disable_append_only_triggers` removed."""
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                continue
            for operation in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                    f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'{table} is append-only: {operation} rejected'); END"
                )


@pytest.fixture
def tamper(db: None) -> None:
    """Drop the append-only triggers inside the test's transaction.

    The test's rollback restores them, on SQLite and PostgreSQL alike, because
    both run DDL transactionally.
    """
    disable_append_only_triggers()


def _restore_after_flush(sender: object, **kwargs: object) -> None:
    if getattr(sender, "label", None) != "journal":
        return
    post_migrate.disconnect(dispatch_uid="journal-tests-restore")
    enable_append_only_triggers()
    JournalHead.objects.get_or_create(id=1, defaults={"size": 0})


@pytest.fixture
def committed_journal(transactional_db: None) -> Iterator[None]:
    """Let a test commit journal rows, and leave an empty journal behind.

    pytest-django empties the tables after a transactional test with a flush
    (TRUNCATE on PostgreSQL, DELETE on SQLite), which the append-only triggers
    reject, and the flush also deletes the head row the migration created.
    So the triggers are lifted before the flush and restored, with the head
    row, by the post_migrate signal the flush sends when it is done.
    """
    yield
    disable_append_only_triggers()
    post_migrate.connect(
        _restore_after_flush, weak=False, dispatch_uid="journal-tests-restore"
    )
