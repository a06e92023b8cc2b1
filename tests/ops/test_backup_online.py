"""A backup taken while the city writes shows the city as of one moment.

A writer thread keeps posting wallet top-ups and sealing blocks, as the web
server and the worker do. The backup is held at two points, before the dump
and before the ledger export, until the writer has committed more work, so
writes certainly land between the snapshot and each step. The restored copy
must then pass `ledger verify`, and its journal must end at the manifest's
size, before the writes that came later.
"""

import json
import threading
import time
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from kotacerdas.demo import services as demo
from kotacerdas.demo.wallets import build_demo_wallets
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import JournalHead
from kotacerdas.ops import backup, backup_database
from kotacerdas.ops.backup_database import Database
from kotacerdas.wallet import services as wallet

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 5
MAX_WRITES = 400
WRITES_PER_STEP = 5
WAIT_S = 60.0


class Writer(threading.Thread):
    """Top up one wallet and seal now and then, until stopped."""

    def __init__(self, wallet_number: str) -> None:
        super().__init__(daemon=True)
        self.wallet_number = wallet_number
        self.stopped = threading.Event()
        self.committed = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopped.is_set() and self.committed < MAX_WRITES:
                # A counter, not a UUID: a UUID's digit groups can read as a
                # 16-digit NIK, which the personal-data guard rejects.
                wallet.top_up(
                    self.wallet_number,
                    1_000,
                    transfer_id=f"online-backup-{self.committed}",
                )
                if self.committed % 3 == 0:
                    journal.seal_pending()
                self.committed += 1
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()

    def wait_for_more(self) -> None:
        """Block until the writer has committed WRITES_PER_STEP more writes."""
        target = self.committed + WRITES_PER_STEP
        deadline = time.monotonic() + WAIT_S
        while self.committed < target:
            assert self.error is None, f"writer failed: {self.error!r}"
            assert self.is_alive(), "writer stopped before the backup step"
            assert time.monotonic() < deadline, "writer made no progress"
            time.sleep(0.02)


@pytest.fixture
def writing_city(city, monkeypatch):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    build_demo_wallets(SEED)
    journal.seal_pending()
    number = demo.demo_citizen_wallet()
    assert number is not None
    writer = Writer(number)

    real_dump, real_export = backup_database.dump_database, backup.export_ledger

    def dump_while_writing(path, snapshot):
        writer.wait_for_more()
        real_dump(path, snapshot)

    def export_while_writing(directory):
        writer.wait_for_more()
        return real_export(directory)

    monkeypatch.setattr(backup_database, "dump_database", dump_while_writing)
    monkeypatch.setattr(backup, "export_ledger", export_while_writing)
    writer.start()
    yield writer
    writer.stopped.set()
    writer.join(timeout=WAIT_S)


@pytest.fixture
def target_url(tmp_path):
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    from psycopg import sql

    fields = connection.settings_dict
    name = f"kc_online_{uuid.uuid4().hex[:12]}"
    admin = Database("postgresql", {**fields, "NAME": "postgres"})
    with admin.connect_postgresql() as postgres:
        postgres.autocommit = True
        postgres.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    host = fields.get("HOST") or "127.0.0.1"
    yield f"postgres://{fields.get('USER') or ''}@{host}:{fields.get('PORT') or 5432}/{name}"
    with admin.connect_postgresql() as postgres:
        postgres.autocommit = True
        postgres.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def test_backup_during_writes_is_consistent(
    writing_city, tmp_path, target_url, monkeypatch
):
    monkeypatch.setenv("KOTACERDAS_BACKUP_PASSPHRASE", "online backup drill 2026")
    backup_dir = tmp_path / "backup"
    writes_before = writing_city.committed

    call_command("backup", str(backup_dir), stdout=StringIO())
    writes_during = writing_city.committed - writes_before
    writing_city.wait_for_more()
    writing_city.stopped.set()
    writing_city.join(timeout=WAIT_S)
    output = StringIO()
    call_command(
        "restore", str(backup_dir), "--database-url", target_url, stdout=output
    )

    assert writing_city.error is None
    assert writes_during >= 2 * WRITES_PER_STEP
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    backed_up_size = manifest["journal"]["size"]
    assert JournalHead.objects.get().size > backed_up_size
    assert "ledger valid" in output.getvalue()
    restored = Database.from_url(target_url)
    assert restored.query("SELECT size FROM journal_journalhead")[0][0] == (
        backed_up_size
    )
    exported = json.loads(Path(backup_dir / "ledger" / "manifest.json").read_text())
    assert exported["entries"] == manifest["journal"]["latest_block"]["tree_size"]
    assert exported["entries"] <= backed_up_size
