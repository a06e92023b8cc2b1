"""Backups of the city and their restore into a fresh database.

Each test takes a real backup of the test database (pg_dump on PostgreSQL, the
sqlite3 online backup API on SQLite). It restores it into a new database of
the same vendor, which is a PostgreSQL database the test creates and drops, or
a new SQLite file. `ledger verify` runs on the restored database in its own process.
Keys are restored into a directory of their own, so the test checks that
keys.enc brings them back.
"""

import json
import logging
import secrets
import shutil
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from kotacerdas.demo import services as demo
from kotacerdas.demo.levies import build_demo_levies
from kotacerdas.demo.wallets import build_demo_wallets
from kotacerdas.journal import services as journal
from kotacerdas.journal.keys import node_key
from kotacerdas.journal.models import Block, JournalHead
from kotacerdas.ops import backup_keys
from kotacerdas.ops.backup_database import Database
from kotacerdas.ops.backup_manifest import file_sha256
from kotacerdas.wallet.models import Account

pytestmark = pytest.mark.django_db(transaction=True)

PASSPHRASE = "kota-cerdas backup drill 2026"
SEED = 5
BALANCE_COLUMNS = (
    "number",
    "debits_posted",
    "credits_posted",
    "debits_pending",
    "credits_pending",
)


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("KOTACERDAS_BACKUP_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("KOTACERDAS_BACKUP_PASSPHRASE_FILE", raising=False)
    return PASSPHRASE


@pytest.fixture
def small_city(city):
    """Registry, wallets and levies of the small demo city, sealed into blocks."""
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    build_demo_wallets(SEED)
    build_demo_levies(SEED)
    journal.seal_pending()
    return city


@pytest.fixture
def target_url(tmp_path):
    """Return the URL of a new, empty database of the test database's vendor."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'kotacerdas.sqlite3'}"
        return
    fields = connection.settings_dict
    name = f"kc_restore_{secrets.token_hex(6)}"
    admin = Database("postgresql", {**fields, "NAME": "postgres"})
    with admin.connect_postgresql() as postgres:
        postgres.autocommit = True
        postgres.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    user = quote(fields.get("USER") or "")
    password = f":{quote(fields['PASSWORD'])}" if fields.get("PASSWORD") else ""
    host = fields.get("HOST") or "127.0.0.1"
    yield f"postgres://{user}{password}@{host}:{fields.get('PORT') or 5432}/{name}"
    with admin.connect_postgresql() as postgres:
        postgres.autocommit = True
        postgres.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@pytest.fixture
def new_server(tmp_path, settings):
    """Return a function that points every key path at an empty directory.

    Called between backup and restore, as when restoring onto a replacement
    server. The function returns the new keys directory and the original key
    files by name.
    """

    def move() -> tuple[Path, dict[str, Path]]:
        keys_dir = Path(settings.KEYS_DIR)
        original = {
            "node-ed25519.pem": Path(settings.KOTACERDAS_SIGNING_KEY_FILE),
            "plate-ed25519.pem": Path(settings.KOTACERDAS_PLATE_KEY_FILE),
            "personal-data-key": keys_dir / "personal-data-key",
            "personal-data-salt": keys_dir / "personal-data-salt",
        }
        original = {name: path for name, path in original.items() if path.exists()}
        keys_dir = tmp_path / "new-server-keys"
        settings.KEYS_DIR = keys_dir
        settings.KOTACERDAS_SIGNING_KEY_FILE = keys_dir / "node-ed25519.pem"
        settings.KOTACERDAS_PLATE_KEY_FILE = keys_dir / "plate-ed25519.pem"
        settings.KOTACERDAS_CHAIN_KEY_FILE = keys_dir / "chain-operator.key"
        settings.MEDIA_ROOT = tmp_path / "new-server-media"
        return keys_dir, original

    yield move
    node_key.cache_clear()


def run_backup(directory: Path) -> str:
    output = StringIO()
    call_command("backup", str(directory), stdout=output)
    return output.getvalue()


def run_restore(directory: Path, *arguments: str) -> str:
    output = StringIO()
    call_command("restore", str(directory), *arguments, stdout=output)
    return output.getvalue()


def read_manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def source_balances() -> dict[str, tuple[int, ...]]:
    rows = Account.objects.values_list(*BALANCE_COLUMNS)
    return {row[0]: tuple(row[1:]) for row in rows}


def restored_balances(url: str) -> dict[str, tuple[int, ...]]:
    rows = Database.from_url(url).query(
        f"SELECT {', '.join(BALANCE_COLUMNS)} FROM wallet_account"
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def assert_empty(url: str) -> None:
    database = Database.from_url(url)
    if database.vendor == "sqlite":
        path = Path(database.name)
        assert not path.exists() or path.stat().st_size == 0
        return
    tables = database.query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    )
    assert tables[0][0] == 0


def test_demo_city_restores_and_verifies(
    city, passphrase, tmp_path, target_url, new_server
):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    journal.seal_pending()
    balances = source_balances()
    head_size = JournalHead.objects.get().size
    latest = Block.objects.order_by("-height").first()
    backup_dir = tmp_path / "backup-2026-12-05"

    backup_output = run_backup(backup_dir)
    keys_dir, original = new_server()
    restore_output = run_restore(backup_dir, "--database-url", target_url)

    assert "Backup written to" in backup_output
    manifest = read_manifest(backup_dir)
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["journal"]["size"] == head_size
    assert manifest["journal"]["latest_block"]["height"] == latest.height
    assert "ledger valid" in restore_output
    restored = Database.from_url(target_url)
    assert restored.query("SELECT size FROM journal_journalhead")[0][0] == head_size
    restored_block = restored.query(
        "SELECT height, tree_size, root_hash FROM journal_block "
        "ORDER BY height DESC LIMIT 1"
    )[0]
    assert restored_block[0] == latest.height
    assert restored_block[1] == latest.tree_size
    assert bytes(restored_block[2]) == bytes(latest.root_hash)
    assert restored_balances(target_url) == balances
    assert len(balances) > 10
    assert {"node-ed25519.pem", "plate-ed25519.pem", "personal-data-key"} <= set(
        original
    )
    for name, path in original.items():
        assert (keys_dir / name).read_bytes() == path.read_bytes(), name
        assert (keys_dir / name).stat().st_mode & 0o077 == 0, name


def test_backup_has_manifest_and_export(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"

    run_backup(backup_dir)

    manifest = read_manifest(backup_dir)
    assert manifest["format"] == "kotacerdas-backup/v1"
    assert manifest["app_version"]
    assert "ledger/manifest.json" in manifest["files"]
    assert "keys.enc" in manifest["files"]
    assert "node-signing-key" in manifest["keys"]["names"]
    for name, entry in manifest["files"].items():
        assert file_sha256(backup_dir / name) == entry["sha256"], name
    ledger = json.loads((backup_dir / "ledger" / "manifest.json").read_text())
    assert ledger["root"] == manifest["journal"]["latest_block"]["root"]
    assert "journal_journalhead" not in (backup_dir / "README.txt").read_text()
    assert not list(tmp_path.glob(".backup.partial-*"))


def test_check_option_writes_nothing(small_city, passphrase, tmp_path, target_url):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)

    output = run_restore(backup_dir, "--check", "--database-url", target_url)

    assert "is complete and readable" in output
    assert "Ledger export: verified offline" in output
    assert_empty(target_url)


def test_tampered_file_is_rejected(small_city, passphrase, tmp_path, target_url):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    chunk = next((backup_dir / "ledger" / "entries").glob("*.jsonl"))
    data = bytearray(chunk.read_bytes())
    data[20] ^= 0x01
    chunk.write_bytes(bytes(data))

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", target_url)

    assert "fails its manifest check" in str(raised.value)
    assert f"ledger/entries/{chunk.name}: SHA-256 does not match" in str(raised.value)
    assert_empty(target_url)


def test_rewritten_manifest_is_rejected(small_city, passphrase, tmp_path, target_url):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    database_file = backup_dir / read_manifest(backup_dir)["database"]["file"]
    with database_file.open("ab") as file:
        file.write(b"\0")
    manifest = read_manifest(backup_dir)
    manifest["files"][database_file.name]["sha256"] = file_sha256(database_file)
    (backup_dir / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", target_url)

    assert "not the one sealed in keys.enc" in str(raised.value)
    assert_empty(target_url)


def test_unlisted_file_is_rejected(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    (backup_dir / "ledger" / "extra.txt").write_text("added later")

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--check")

    assert "ledger/extra.txt: not listed in the manifest" in str(raised.value)


def test_wrong_passphrase_writes_nothing(
    small_city, passphrase, tmp_path, target_url, new_server, monkeypatch
):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    keys_dir, _original = new_server()
    monkeypatch.setenv("KOTACERDAS_BACKUP_PASSPHRASE", "not the passphrase used")

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", target_url)

    assert "the passphrase does not open the keys file" in str(raised.value)
    assert "nothing was restored" in str(raised.value)
    assert_empty(target_url)
    assert not keys_dir.exists()


def test_passphrase_file_is_read(small_city, passphrase, tmp_path, monkeypatch):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    secret_file = tmp_path / "passphrase.txt"
    secret_file.write_text(PASSPHRASE + "\n")
    monkeypatch.delenv("KOTACERDAS_BACKUP_PASSPHRASE")
    monkeypatch.setenv("KOTACERDAS_BACKUP_PASSPHRASE_FILE", str(secret_file))

    output = run_restore(backup_dir, "--check")

    assert "keys decrypted" in output


def test_backup_needs_a_passphrase(small_city, tmp_path, monkeypatch):
    monkeypatch.delenv("KOTACERDAS_BACKUP_PASSPHRASE", raising=False)
    monkeypatch.delenv("KOTACERDAS_BACKUP_PASSPHRASE_FILE", raising=False)

    with pytest.raises(CommandError) as raised:
        run_backup(tmp_path / "backup")

    assert "KOTACERDAS_BACKUP_PASSPHRASE is not set" in str(raised.value)
    assert "never written unencrypted" in str(raised.value)
    assert not (tmp_path / "backup").exists()


def test_short_passphrase_is_rejected(small_city, tmp_path, monkeypatch):
    monkeypatch.setenv("KOTACERDAS_BACKUP_PASSPHRASE", "short")

    with pytest.raises(CommandError) as raised:
        run_backup(tmp_path / "backup")

    assert "5 characters long; use at least 12" in str(raised.value)
    assert not (tmp_path / "backup").exists()


def test_backup_into_nonempty_directory_fails(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("kept")

    with pytest.raises(CommandError) as raised:
        run_backup(backup_dir)

    assert "is not an empty directory" in str(raised.value)
    assert [path.name for path in backup_dir.iterdir()] == ["notes.txt"]


def test_keys_file_hides_every_key(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    sealed = (backup_dir / "keys.enc").read_bytes()
    keys = backup_keys.collect_keys()

    assert {"node-signing-key", "plate-key", "personal-data-key"} <= set(keys)
    for name, value in keys.items():
        for form in secret_forms(value):
            assert form not in sealed.decode(), name
    with pytest.raises(backup_keys.BackupKeyError):
        backup_keys.open_keys(sealed, PASSPHRASE + "x")
    opened, _digest = backup_keys.open_keys(sealed, PASSPHRASE)
    assert opened == keys


def secret_forms(value: bytes) -> list[str]:
    """Return the ways a key could show up in text: raw, hex, base64, PEM body."""
    import base64

    forms = [value.hex(), base64.b64encode(value).decode()]
    text = value.decode("utf-8", errors="ignore")
    forms += [
        line for line in text.splitlines() if len(line) > 20 and "---" not in line
    ]
    if len(text) > 20 and "\n" not in text:
        forms.append(text)
    return forms


def test_no_secret_in_logs_or_output(
    small_city, passphrase, tmp_path, target_url, new_server, caplog
):
    caplog.set_level(logging.DEBUG)
    keys = backup_keys.collect_keys()
    backup_dir = tmp_path / "backup"

    printed = run_backup(backup_dir)
    new_server()
    printed += run_restore(backup_dir, "--database-url", target_url)

    assert "ledger valid" in printed
    logged = caplog.text
    assert "restored node-signing-key" in logged
    assert PASSPHRASE not in logged
    assert PASSPHRASE not in printed
    for name, value in keys.items():
        for form in secret_forms(value):
            assert form not in logged, name
            assert form not in printed, name


def test_nonempty_database_is_rejected(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    source = Database.from_settings(connection.settings_dict)
    if source.vendor == "sqlite":
        source_url = f"sqlite:///{source.name}"
    else:
        fields = connection.settings_dict
        source_url = (
            f"postgres://{quote(fields.get('USER') or '')}@"
            f"{fields.get('HOST') or '127.0.0.1'}:{fields.get('PORT') or 5432}/"
            f"{source.name}"
        )
    count = JournalHead.objects.get().size

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", source_url)

    assert "is not empty" in str(raised.value)
    assert "restore only into a new, empty database" in str(raised.value)
    assert JournalHead.objects.get().size == count


def test_other_vendor_is_rejected(small_city, passphrase, tmp_path):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    other = (
        "postgres://postgres@127.0.0.1:5432/kc_never_created"
        if connection.vendor == "sqlite"
        else f"sqlite:///{tmp_path / 'other.sqlite3'}"
    )

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", other)

    assert f"this is a {connection.vendor} backup" in str(raised.value)
    assert "restoring SQLite into PostgreSQL is not supported" in str(raised.value)


def test_different_key_needs_replace_option(
    small_city, passphrase, tmp_path, target_url, new_server
):
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    keys_dir, original = new_server()
    keys_dir.mkdir()
    other_key = keys_dir / "node-ed25519.pem"
    other_key.write_bytes(b"another node key\n")

    with pytest.raises(CommandError) as raised:
        run_restore(backup_dir, "--database-url", target_url)

    assert "contains another node-signing-key than the backup" in str(raised.value)
    assert "--replace-keys" in str(raised.value)
    assert_empty(target_url)
    assert other_key.read_bytes() == b"another node key\n"

    output = run_restore(backup_dir, "--database-url", target_url, "--replace-keys")

    assert "ledger valid" in output
    assert other_key.read_bytes() == original["node-ed25519.pem"].read_bytes()
    kept = list(keys_dir.glob("node-ed25519.pem.replaced-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == b"another node key\n"


def test_copied_backup_restores_media(
    small_city, passphrase, tmp_path, target_url, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = settings.MEDIA_ROOT / "pickups" / "2026" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    backup_dir = tmp_path / "backup"
    run_backup(backup_dir)
    copy = tmp_path / "offsite" / "backup"
    shutil.copytree(backup_dir, copy)
    settings.MEDIA_ROOT = tmp_path / "restored-media"

    output = run_restore(copy, "--database-url", target_url)

    assert "ledger valid" in output
    assert "Media: 1 files copied." in output
    restored = tmp_path / "restored-media" / "pickups" / "2026" / "photo.jpg"
    assert restored.read_bytes() == photo.read_bytes()
    assert read_manifest(backup_dir)["media_files"] == 1


def test_backup_left_nothing_after_failure(
    small_city, passphrase, tmp_path, monkeypatch
):
    def fail(path, snapshot):
        raise OSError("disk full")

    monkeypatch.setattr("kotacerdas.ops.backup_database.dump_database", fail)

    with pytest.raises(OSError, match="disk full"):
        run_backup(tmp_path / "backup")

    assert list(tmp_path.iterdir()) == []


def test_city_without_blocks_restores(city, passphrase, tmp_path, target_url):
    backup_dir = tmp_path / "backup"

    backup_output = run_backup(backup_dir)
    restore_output = run_restore(backup_dir, "--database-url", target_url)

    assert "Journal not exported: no block has been sealed yet." in backup_output
    manifest = read_manifest(backup_dir)
    assert manifest["ledger_export"] is None
    assert manifest["journal"]["latest_block"] is None
    assert not (backup_dir / "ledger").exists()
    assert "ledger valid" in restore_output
