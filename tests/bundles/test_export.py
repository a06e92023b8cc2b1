"""`ledger export` writes a layout the offline verifier checks end to end."""

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kotacerdas.journal import services
from kotacerdas.journal.models import Anchor, Block, ChainDeployment
from kotacerdas.verify.__main__ import export_lines
from kotacerdas.verify.bundle import parse_keys
from kotacerdas.verify.export import verify_export

pytestmark = pytest.mark.django_db

WITNESS_NAMES = "witness.bank.example, witness.inspectorate.example"
# The blocks of the `exported` fixture: (height, first entry, tree size).
BLOCKS = [(0, 0, 5), (1, 5, 12), (2, 12, 20)]


def anchor_block(block: Block) -> None:
    """Record a confirmed, final anchor transaction for `block`."""
    deployment, _ = ChainDeployment.objects.get_or_create(
        chain_id=31337,
        defaults={
            "genesis_hash": "0x" + "ab" * 32,
            "address": "0x" + "12" * 20,
            "deploy_tx": "0x" + "34" * 32,
            "partners": ["0x" + "12" * 20],
            "threshold": 1,
        },
    )
    Anchor.objects.create(
        block=block,
        deployment=deployment,
        sender="0x" + "12" * 20,
        nonce=block.height,
        tx_hash=f"0x{block.height:064x}",
        status=Anchor.Status.CONFIRMED,
        chain_block_number=100 + block.height,
        final=True,
        sent_at=timezone.now(),
    )


@pytest.fixture
def exported(
    witnessed_block: Callable[[int], Block],
    appender: Callable[[int], None],
    tmp_path: Path,
) -> Path:
    """An export of 3 anchored blocks (5, 12 and 20 entries) in chunks of 4 entries."""
    for count in (5, 7, 8):
        anchor_block(witnessed_block(count))
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
    assert done.stdout.splitlines() == [
        "valid: 20 entries and 3 checkpoints, 11 files match the manifest",
        "latest: block 2, the checkpoint of 20 entries, co-signed by 2 of 3 "
        f"witnesses (quorum 2): {WITNESS_NAMES}",
        "3 anchors listed; their chain transactions are not checked, because "
        "this verifier works offline",
    ]


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


def test_tampered_line_full_output(exported: Path, offline_verifier: Any) -> None:
    _rewrite_line(
        exported / "entries" / "00000008.jsonl",
        1,
        lambda line: line.replace(b'"user_id":', b'"user_id":9'),
    )
    done = offline_verifier("--export", str(exported))
    assert done.returncode == 1, done.stdout
    # Blocks 1 and 2, their anchors and the manifest's counts fail only because
    # of the edit, so the report names them as not verified instead of wrong.
    assert done.stdout.splitlines() == [
        "invalid: block 1: the root of entries 0 to 11 does not match the "
        "checkpoint, so one of entries 5 to 11 was changed",
        "also: entries/00000008.jsonl: SHA-256 does not match manifest.json",
        "not verified, because the check stops at the first problem: the blocks "
        "from block 1 on, 2 of the 3 anchors, the entry and block counts in "
        "manifest.json",
        "last verified: block 0, the checkpoint of 5 entries, co-signed by 2 of 3 "
        f"witnesses (quorum 2): {WITNESS_NAMES}",
        "3 anchors listed; their chain transactions are not checked, because "
        "this verifier works offline",
    ]


def test_every_edited_entry_reported_truly(exported: Path, tmp_path: Path) -> None:
    keys = parse_keys(json.loads((exported / "keys.json").read_text()))
    for height, first, size in BLOCKS:
        for seq in range(first, size):
            copy = tmp_path / f"edited-{seq}"
            shutil.copytree(exported, copy)
            chunk = copy / "entries" / f"{seq // 4 * 4:08d}.jsonl"
            _rewrite_line(
                chunk, seq % 4, lambda line: line.replace(b'"user_id":', b'"user_id":9')
            )

            lines = export_lines(verify_export(copy, keys), keys, False)

            assert lines[0] == (
                f"invalid: block {height}: the root of entries 0 to {size - 1} does "
                f"not match the checkpoint, so one of entries {first} to {size - 1} "
                "was changed"
            ), seq
            assert lines[1] == (
                f"also: entries/{seq // 4 * 4:08d}.jsonl: SHA-256 does not match "
                "manifest.json"
            ), seq
            assert lines[2].startswith(
                "not verified, because the check stops at the first problem: the "
                f"blocks from block {height} on, {3 - height} of the 3 anchors, "
            ), seq
            if height == 0:
                assert lines[3] == "no checkpoint verified", seq
            else:
                assert lines[3].startswith(
                    f"last verified: block {height - 1}, the checkpoint of {first} "
                    "entries, co-signed by 2 of 3"
                ), seq
            assert len(lines) == 5, (seq, lines)


def test_unwitnessed_export_require_quorum(
    appender: Callable[[int], None],
    witnesses: list[Any],
    cosigner: Callable[[Block, list[Any]], None],
    tmp_path: Path,
    offline_verifier: Any,
) -> None:
    appender(3)
    block = services.seal_pending()
    assert block is not None
    cosigner(block, witnesses[:1])
    directory = tmp_path / "export"
    call_command("ledger", "export", str(directory), stdout=io.StringIO())

    done = offline_verifier("--export", str(directory), "--require-quorum")

    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[:2] == [
        "invalid: the latest checkpoint is not witnessed: 1 of the 2 cosignatures "
        "needed",
        "latest: block 0, the checkpoint of 3 entries, co-signed by 1 of 3 "
        "witnesses (quorum 2): witness.bank.example",
    ]


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
