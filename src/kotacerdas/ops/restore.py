"""`kotacerdas restore DIR`: check a backup, then restore it into an empty database.

Every check runs before anything is written. The checks cover the manifest's
hashes and the passphrase, which opens keys.enc and the file-list digest sealed
in it. They also check the ledger export against the backed-up node key, the
database vendor and migrations, that the target database is empty, and the
keys and media files already on this machine. Then the database is loaded, the keys and media are written,
and `kotacerdas ledger verify` runs on the restored database in a separate
process, with the restored keys.

A backup restores into a database of its own vendor only. Restoring a SQLite
backup into PostgreSQL is not supported, because moving a city from SQLite to
PostgreSQL is a data migration of its own.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

from kotacerdas.journal.notes import verifier_key
from kotacerdas.ops import backup_keys
from kotacerdas.ops.backup_database import (
    Database,
    check_empty,
    restore_database,
)
from kotacerdas.ops.backup_manifest import (
    KEYS_FILE,
    MEDIA_DIR,
    ManifestError,
    check_files,
    file_sha256,
    files_digest,
    read_manifest,
)
from kotacerdas.verify.bundle import VerificationError, parse_keys
from kotacerdas.verify.export import verify_export

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
MAX_LISTED_PROBLEMS = 10


class RestoreError(Exception):
    """The backup fails a check, or the restore or its verification failed."""


@dataclass
class CheckedBackup:
    """A backup whose files, passphrase and ledger export have passed the checks."""

    directory: Path
    manifest: dict[str, Any]
    keys: dict[str, bytes]


def _problem_list(problems: list[str]) -> str:
    shown = problems[:MAX_LISTED_PROBLEMS]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _check_ledger_export(backup: CheckedBackup) -> None:
    ledger = backup.manifest.get("ledger_export")
    if not ledger:
        return
    directory = backup.directory / ledger

    published = json.loads((directory / "keys.json").read_text(encoding="utf-8"))
    node_key = load_pem_private_key(backup.keys["node-signing-key"], password=None)
    if not isinstance(node_key, Ed25519PrivateKey):
        raise RestoreError("the node-signing-key in keys.enc is not an Ed25519 key")

    expected = verifier_key(published.get("origin", ""), node_key.public_key())
    if published.get("log") != expected:
        raise RestoreError(
            "the ledger export's log key is not the node key in keys.enc; the "
            "export does not belong to this backup"
        )

    try:
        report = verify_export(directory, parse_keys(published))
    except VerificationError as error:
        raise RestoreError(
            f"the ledger export's keys.json is invalid: {error}"
        ) from None
    if not report.ok:
        raise RestoreError(
            f"the ledger export does not verify: {_problem_list(report.problems)}"
        )
    latest = backup.manifest["journal"]["latest_block"]
    if latest and report.latest_height != latest["height"]:
        raise RestoreError(
            f"the ledger export ends at block {report.latest_height}, but the manifest "
            f"names block {latest['height']}"
        )


def check_backup(directory: Path, passphrase: str, output: Output) -> CheckedBackup:
    """Check a backup without writing anything; raise RestoreError on a problem."""
    try:
        manifest = read_manifest(directory)
    except ManifestError as error:
        raise RestoreError(str(error)) from None

    problems = check_files(directory, manifest)
    if problems:
        raise RestoreError(
            f"the backup in {directory} fails its manifest check, so nothing was "
            f"restored: {_problem_list(problems)}"
        )
    output(f"Manifest: {len(manifest['files'])} files match their SHA-256.")

    try:
        keys, sealed_digest = backup_keys.open_keys(
            (directory / KEYS_FILE).read_bytes(), passphrase
        )
    except backup_keys.BackupKeyError as error:
        raise RestoreError(f"{error}; nothing was restored") from None
    if sealed_digest != files_digest(manifest["files"]):
        raise RestoreError(
            "the manifest is not the one sealed in keys.enc: the backup was changed "
            "after it was taken; nothing was restored"
        )
    output(
        f"Keys: {len(keys)} keys decrypted; the manifest is the one sealed with them."
    )

    backup = CheckedBackup(directory, manifest, keys)
    _check_ledger_export(backup)
    if manifest.get("ledger_export"):
        output("Ledger export: verified offline against the backed-up node key.")
    return backup


def _check_vendor(manifest: dict[str, Any], database: Database) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != database.vendor:
        raise RestoreError(
            f"this is a {vendor} backup and the target is a {database.label()}; a "
            f"backup restores only into a database of its own vendor (restoring "
            f"SQLite into PostgreSQL is not supported)"
        )


def _pending_migrations(manifest: dict[str, Any]) -> bool:
    """Raise if the backup has migrations this code lacks; return if code has more."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = {f"{app}.{name}" for app, name in loader.disk_migrations}
    applied = set(manifest.get("migrations") or [])
    unknown = sorted(applied - on_disk)
    if unknown:
        raise RestoreError(
            f"the backup was taken by a newer version ({manifest.get('app_version')}) "
            f"with migrations this installation lacks ({', '.join(unknown[:5])}); "
            "install that version first, then restore"
        )
    return bool(on_disk - applied)


def _media_plan(directory: Path) -> list[tuple[Path, Path]]:
    """Return (source, target) for media files to copy; raise on a differing file."""
    source_root = directory / MEDIA_DIR
    media_root = Path(settings.MEDIA_ROOT)
    plan: list[tuple[Path, Path]] = []
    conflicts: list[str] = []
    if not source_root.is_dir():
        return plan
    for source in sorted(source_root.rglob("*")):
        if not source.is_file():
            continue
        target = media_root / source.relative_to(source_root)
        if not target.exists():
            plan.append((source, target))
        elif file_sha256(target) != file_sha256(source):
            conflicts.append(str(target))
    if conflicts:
        raise RestoreError(
            f"{len(conflicts)} media files exist with other content, for example "
            f"{conflicts[0]}; restore into an empty {media_root}"
        )
    return plan


def _child_environment(database_url: str) -> dict[str, str]:
    """Point a child `kotacerdas` process at the restored database and keys."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "kotacerdas.config.settings"
        ),
        "DATABASE_URL": database_url,
        "KOTACERDAS_VAR_DIR": str(settings.VAR_DIR),
        "KOTACERDAS_KEYS_DIR": str(settings.KEYS_DIR),
        "KOTACERDAS_SIGNING_KEY_FILE": str(settings.KOTACERDAS_SIGNING_KEY_FILE),
        "KOTACERDAS_PLATE_KEY_FILE": str(settings.KOTACERDAS_PLATE_KEY_FILE),
        "KOTACERDAS_CHAIN_KEY_FILE": str(settings.KOTACERDAS_CHAIN_KEY_FILE),
        "KOTACERDAS_MEDIA_DIR": str(settings.MEDIA_ROOT),
    }


def run_kotacerdas(arguments: list[str], database_url: str, output: Output) -> None:
    """Run a `kotacerdas` command on the restored database and relay its output.

    Raises RestoreError naming the command and its first problem line (or its
    last line) when it exits with an error.
    """
    command = [sys.executable, "-m", "kotacerdas.config.cli", *arguments]
    problem, last_line = "", ""
    with subprocess.Popen(
        command,
        env=_child_environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            output("  " + line.rstrip("\n"))
            last_line = line.strip() or last_line
            if not problem and ("INVALID" in line or "PROBLEM" in line):
                problem = line.strip()
    if child.returncode != 0:
        raise RestoreError(
            f"`kotacerdas {' '.join(arguments)}` failed on the restored database "
            f"(exit status {child.returncode}): {problem or last_line}"
        )


def _check_journal(database: Database, manifest: dict[str, Any]) -> None:
    journal = manifest["journal"]
    size = database.query("SELECT size FROM journal_journalhead WHERE id = 1")
    if not size or size[0][0] != journal["size"]:
        raise RestoreError(
            f"the restored journal has {size[0][0] if size else 'no'} entries, but "
            f"the manifest lists {journal['size']}"
        )
    latest = database.query("SELECT max(height) FROM journal_block")[0][0]
    expected = (journal["latest_block"] or {}).get("height")
    if latest != expected:
        raise RestoreError(
            f"the restored journal's latest block is {latest}, but the manifest "
            f"names block {expected}"
        )


def restore_backup(
    backup: CheckedBackup,
    database: Database,
    database_url: str,
    replace_keys: bool,
    output: Output,
) -> None:
    """Restore a checked backup into an empty database, then verify the ledger."""
    manifest = backup.manifest
    _check_vendor(manifest, database)
    needs_migrate = _pending_migrations(manifest)
    try:
        check_empty(database)
        actions = backup_keys.plan_key_restore(backup.keys, replace_keys)
    except Exception as error:
        raise RestoreError(f"{error}; nothing was restored") from None
    media = _media_plan(backup.directory)

    logger.info("restore of %s into %s started", backup.directory, database.label())
    restore_database(database, backup.directory / manifest["database"]["file"])
    output(f"Database restored into the {database.label()}.")
    backup_keys.apply_key_restore(actions)
    written = sum(action.action != "keep" for action in actions)
    output(f"Keys: {written} written, {len(actions) - written} already in place.")
    for source, target in media:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    output(f"Media: {len(media)} files copied.")

    if needs_migrate:
        output("The backup predates this version: running migrate.")
        run_kotacerdas(["migrate", "--no-input"], database_url, output)
    _check_journal(database, manifest)
    output(f"Journal: {manifest['journal']['size']} entries, as in the manifest.")
    output("Running ledger verify on the restored database:")
    run_kotacerdas(["ledger", "verify"], database_url, output)
    logger.info("restore of %s into %s finished", backup.directory, database.label())
