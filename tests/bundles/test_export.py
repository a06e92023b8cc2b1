"""`ledger export` writes a layout the offline verifier checks end to end."""

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kotacerdas.journal.models import Block

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(
    witnessed_block: Callable[[int], Block],
    appender: Callable[[int], None],
    tmp_path: Path,
) -> Path:
    """An export of 3 blocks (5, 12 and 20 entries) in chunks of 4 entries."""
    witnessed_block(5)
    witnessed_block(7)
    witnessed_block(8)
    appender(2)  # not sealed, so not exported
    directory = tmp_path / "export"
    output = io.StringIO()
    call_command(
        "ledger",
        "export",
        str(directory),
        "--chunk",
        "4",
        stdout=output,
        stderr=io.StringIO(),
    )
    assert "exported 20 entries and 3 blocks" in output.getvalue()
    return directory


def test_export_layout(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["entries"] == 20
    assert manifest["blocks"] == 3
    chunks = sorted(path.name for path in (exported / "entries").iterdir())
    assert chunks == [f"{first:08d}.jsonl" for first in range(0, 20, 4)]
    checkpoints = sorted(path.name for path in (exported / "checkpoints").iterdir())
    assert checkpoints == ["00000000.txt", "00000001.txt", "00000002.txt"]
    assert set(manifest["files"]) >= {"keys.json", "anchors.json", "README.txt"}
    lines = (exported / "entries" / "00000004.jsonl").read_bytes().split(b"\n")
    assert json.loads(lines[0])["seq"] == 4


def test_export_verifies_offline(exported: Path, offline_verifier: Any) -> None:
    done = offline_verifier(
        "--export", str(exported), "--keys", str(exported / "keys.json")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("valid: 20 entries and 3 checkpoints")
    assert "co-signed by 2 of 3 witnesses (quorum 2)" in done.stdout


def _rewrite_line(
    path: Path, number: int, change: Callable[[bytes], bytes | None]
) -> None:
    lines = path.read_bytes().split(b"\n")[:-1]
    changed = change(lines[number])
    lines[number : number + 1] = [] if changed is None else [changed]
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_tampered_line_named(exported: Path, offline_verifier: Any) -> None:
    _rewrite_line(
        exported / "entries" / "00000008.jsonl",
        1,
        lambda line: line.replace(b'"user_id":', b'"user_id":9'),
    )
    done = offline_verifier("--export", str(exported))
    assert done.returncode == 1, done.stdout
    first = done.stdout.splitlines()[0]
    assert first == (
        "invalid: block 1: the root of entries 0 to 11 does not match the "
        "checkpoint, so one of entries 5 to 11 was changed"
    )
    assert (
        "also: entries/00000008.jsonl: SHA-256 does not match manifest.json"
        in done.stdout
    )


def test_deleted_line_named(exported: Path, offline_verifier: Any) -> None:
    _rewrite_line(exported / "entries" / "00000012.jsonl", 2, lambda line: None)
    done = offline_verifier("--export", str(exported))
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith(
        "invalid: entry 14 (entries/00000012.jsonl line 3): the body has seq 15"
    )


def test_edited_checkpoint_named(exported: Path, offline_verifier: Any) -> None:
    path = exported / "checkpoints" / "00000001.txt"
    lines = path.read_text().split("\n")
    lines[1] = "13"
    path.write_text("\n".join(lines))
    done = offline_verifier("--export", str(exported))
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith(
        "invalid: block 1 (checkpoints/00000001.txt): checkpoint: signature by"
    )


def test_missing_checkpoint_named(exported: Path, offline_verifier: Any) -> None:
    (exported / "checkpoints" / "00000001.txt").unlink()
    done = offline_verifier("--export", str(exported))
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith(
        "invalid: block 1: checkpoints/00000001.txt is missing"
    )


def test_other_keys_rejected(
    exported: Path, tmp_path: Path, offline_verifier: Any
) -> None:
    keys = json.loads((exported / "keys.json").read_text())
    keys["origin"] = "other.example/journal"
    (tmp_path / "other-keys.json").write_text(json.dumps(keys))
    done = offline_verifier(
        "--export", str(exported), "--keys", str(tmp_path / "other-keys.json")
    )
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith("invalid: the log key is named")


def test_export_refuses_non_empty_directory(exported: Path) -> None:
    with pytest.raises(CommandError, match="is not empty"):
        call_command("ledger", "export", str(exported), stdout=io.StringIO())


def test_keys_verb_prints_keys() -> None:
    output = io.StringIO()
    call_command("ledger", "keys", stdout=output)
    keys = json.loads(output.getvalue())
    assert keys["format"] == "kotacerdas-keys/v1"
    assert keys["quorum"] == 2
