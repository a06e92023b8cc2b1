"""ledger verify reads one snapshot, so appends made while it runs are no problem."""

import threading

import pytest
from django.db import connection, transaction

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import seal_pending
from kotacerdas.journal.verify import verify_ledger

from .conftest import append_roles_changed


def _append_in_another_connection(count: int) -> None:
    def work() -> None:
        try:
            for user_id in range(count):
                with transaction.atomic():
                    append_roles_changed(user_id=1000 + user_id)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_appends_during_verify_are_not_tampering(postgres_only):
    # The SQLite test database lives in shared-cache memory, where a reader
    # locks whole tables; only a file database in WAL mode lets the writer in.
    for user_id in range(30):
        with transaction.atomic():
            append_roles_changed(user_id=user_id)
    seal_pending()
    appended: list[int] = []

    def append_between_chunks(done: int, total: int) -> None:
        if not appended:
            _append_in_another_connection(5)
            appended.append(done)

    result = verify_ledger(
        node_verifier(), chunk_size=10, progress=append_between_chunks
    )

    assert appended
    assert result.ok, result.problems
    assert result.entries_checked == 30
    assert Entry.objects.count() == 35
