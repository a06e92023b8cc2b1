"""The manifest of a backup directory: what it contains and the SHA-256 of each file.

A backup directory (`kotacerdas backup DIR`) contains these files:

    manifest.json        format, time, app version, database vendor, journal size,
                         latest block, applied migrations, SHA-256 of every file
    database.pgdump      PostgreSQL: `pg_dump --format=custom`
    database.sqlite3     SQLite: a copy made with the online backup API
    ledger/              the journal in the `kotacerdas ledger export` layout
    keys.enc             the keys, encrypted under the backup passphrase
    media/               uploaded photos (pickups, citizen reports)
    README.txt           this layout and how to check and restore it

The manifest protects against damage and mistakes. keys.enc also seals a digest
of the manifest's file list, so someone who changes a file and rewrites the
manifest is caught by anyone holding the passphrase.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BACKUP_FORMAT = "kotacerdas-backup/v1"
MANIFEST = "manifest.json"
KEYS_FILE = "keys.enc"
LEDGER_DIR = "ledger"
MEDIA_DIR = "media"
README = "README.txt"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
READ_BLOCK_BYTES = 1024 * 1024


class ManifestError(Exception):
    """The manifest is missing or unreadable, or a file does not match it."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(READ_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _files_under(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() or path.is_symlink():
            yield path


def index_files(directory: Path) -> dict[str, dict[str, Any]]:
    """Return {relative path: {sha256, bytes}} for every file except the manifest."""
    files = {}
    for path in _files_under(directory):
        name = path.relative_to(directory).as_posix()
        if name != MANIFEST:
            files[name] = {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    return files


def files_digest(files: dict[str, dict[str, Any]]) -> str:
    """Return the SHA-256 over the file list without keys.enc, for keys.enc to seal."""
    listed = {
        name: entry["sha256"] for name, entry in files.items() if name != KEYS_FILE
    }
    canonical = json.dumps(listed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (directory / MANIFEST).write_text(text, encoding="utf-8")


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{path} not found; {directory} is not a backup directory, or the "
            "backup did not finish"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise ManifestError(f"{path} is not a {BACKUP_FORMAT} manifest")
    if not isinstance(manifest.get("files"), dict):
        raise ManifestError(f"{path} has no file list")
    return manifest


def check_files(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """Return one problem per file that is missing, changed or not listed."""
    listed: dict[str, Any] = manifest["files"]
    problems = []
    for name, entry in sorted(listed.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif file_sha256(path) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest")
    for path in _files_under(directory):
        name = path.relative_to(directory).as_posix()
        if name != MANIFEST and name not in listed:
            problems.append(f"{name}: not listed in the manifest")
    return problems
