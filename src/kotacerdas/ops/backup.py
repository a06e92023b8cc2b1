"""`kotacerdas backup DIR`: one consistent backup of the running city.

The database dump, the journal facts in the manifest and the ledger export are
all read inside one database snapshot (see backup_database). A backup taken
while the web server and the worker write therefore shows one moment. The
layout is described in backup_manifest. The backup is written into a hidden
directory beside DIR and renamed to DIR at the end, so a DIR with a manifest is
always a finished backup.
"""

import base64
import importlib.metadata
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from kotacerdas.journal.export import export_ledger
from kotacerdas.journal.models import Block, JournalHead
from kotacerdas.ops import backup_database, backup_keys
from kotacerdas.ops.backup_manifest import (
    BACKUP_FORMAT,
    DATABASE_FILES,
    KEYS_FILE,
    LEDGER_DIR,
    MEDIA_DIR,
    README,
    file_sha256,
    files_digest,
    index_files,
    write_manifest,
)

logger = logging.getLogger(__name__)

Output = Callable[[str], None]

README_TEXT = """Kota Cerdas backup ({format}), taken at {created_at}

manifest.json      what this backup contains, with the SHA-256 of every file
{database_file:<18} the database ({vendor})
ledger/            the journal in the `kotacerdas ledger export` layout
keys.enc           the city's keys, encrypted with the backup passphrase
media/             uploaded photos

Keep this directory and the passphrase in different places.

Check it:    kotacerdas restore --check {name}
Verify the journal offline:
             python -m kotacerdas.verify --export {name}/ledger
Restore:     kotacerdas restore {name} --database-url URL-OF-AN-EMPTY-DATABASE
"""


class BackupError(Exception):
    """The backup cannot be taken; nothing was left in the target directory."""


def _check_target(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(
            f"{directory} exists and is not an empty directory; give a new or "
            "empty directory, for example one named by the date"
        )
    if not directory.parent.is_dir():
        raise BackupError(f"{directory.parent} does not exist; create it first")


def _journal_facts() -> dict[str, Any]:
    size = JournalHead.objects.values_list("size", flat=True).first() or 0
    block = Block.objects.order_by("-height").first()
    latest = None
    if block is not None:
        latest = {
            "height": block.height,
            "tree_size": block.tree_size,
            "root": base64.b64encode(bytes(block.root_hash)).decode(),
            "block_hash": base64.b64encode(bytes(block.block_hash)).decode(),
        }
    return {"size": size, "latest_block": latest}


def _dump_in_snapshot(work: Path, output: Output) -> dict[str, Any]:
    """Dump the database and export the ledger from one snapshot; return the facts."""
    with backup_database.consistent_snapshot() as snapshot:
        vendor = "postgresql" if snapshot is not None else "sqlite"
        journal = _journal_facts()
        migrations = backup_database.applied_migrations()
        started = time.monotonic()
        database_file = work / DATABASE_FILES[vendor]
        backup_database.dump_database(database_file, snapshot)
        output(
            f"Database dumped: {database_file.stat().st_size / 1e6:.1f} MB in "
            f"{time.monotonic() - started:.1f} s."
        )
        ledger_dir = None
        if journal["latest_block"] is not None:
            exported = export_ledger(work / LEDGER_DIR)
            ledger_dir = LEDGER_DIR
            output(
                f"Journal exported: {exported['entries']} entries, "
                f"{exported['blocks']} blocks."
            )
        else:
            output("Journal not exported: no block has been sealed yet.")
        database = {
            "vendor": vendor,
            "file": database_file.name,
            "server_version": backup_database.server_version(),
            "dump_tool": backup_database.tool_version("pg_dump")
            if vendor == "postgresql"
            else "sqlite3 online backup API",
        }
    return {
        "database": database,
        "journal": journal,
        "ledger_export": ledger_dir,
        "migrations": migrations,
    }


def _copy_media(work: Path) -> int:
    """Copy uploaded files; run after the snapshot, so every file it names exists."""
    media_root = Path(settings.MEDIA_ROOT)
    if not media_root.is_dir():
        return 0
    count = 0
    for path in sorted(media_root.rglob("*")):
        if path.is_file():
            target = work / MEDIA_DIR / path.relative_to(media_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            count += 1
    return count


def _write_keys(
    work: Path, keys: dict[str, bytes], passphrase: str, files: dict[str, Any]
) -> None:
    sealed = backup_keys.seal_keys(
        keys, passphrase, files_digest(files), timezone.now().isoformat()
    )
    path = work / KEYS_FILE
    path.touch(mode=0o600)
    path.write_bytes(sealed)
    files[KEYS_FILE] = {"sha256": file_sha256(path), "bytes": len(sealed)}


def _write_backup(work: Path, name: str, passphrase: str, output: Output) -> dict:
    keys = backup_keys.collect_keys()
    created_at = timezone.now().isoformat(timespec="seconds")
    facts = _dump_in_snapshot(work, output)
    media_files = _copy_media(work)
    output(f"Media copied: {media_files} files.")
    readme = README_TEXT.format(
        format=BACKUP_FORMAT,
        created_at=created_at,
        database_file=facts["database"]["file"],
        vendor=facts["database"]["vendor"],
        name=name,
    )
    (work / README).write_text(readme, encoding="utf-8")
    files = index_files(work)
    _write_keys(work, keys, passphrase, files)
    output(f"Keys encrypted: {len(keys)} keys in {KEYS_FILE}.")
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": created_at,
        "app_version": importlib.metadata.version("kotacerdas"),
        "origin": settings.KOTACERDAS_LEDGER_ORIGIN,
        **facts,
        "keys": {"file": KEYS_FILE, "names": sorted(keys)},
        "media_files": media_files,
        "files": dict(sorted(files.items())),
    }
    write_manifest(work, manifest)
    return manifest


def take_backup(directory: Path, passphrase: str, output: Output) -> dict[str, Any]:
    """Write a backup of the configured database and keys to `directory`.

    Raises BackupError (or the CommandError of the ledger export) and leaves
    `directory` as it was when any step fails.
    """
    _check_target(directory)
    work = directory.parent / f".{directory.name}.partial-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    logger.info("backup to %s started", directory)
    try:
        manifest = _write_backup(work, directory.name, passphrase, output)
        if directory.exists():
            directory.rmdir()
        work.rename(directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        logger.exception("backup to %s failed; nothing was written there", directory)
        raise
    logger.info(
        "backup to %s finished: journal size %s, %s files",
        directory,
        manifest["journal"]["size"],
        len(manifest["files"]),
    )
    return manifest
