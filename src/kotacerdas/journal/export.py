"""`kotacerdas ledger export DIR` and `kotacerdas ledger keys`.

The export is the whole sealed log in a portable layout that
`python -m kotacerdas.verify --export DIR` checks end to end (the layout is
described in kotacerdas.verify.export and in the README.txt it writes). It
streams entries from the database, so memory stays flat for any log size.
"""

import base64
import hashlib
import json
import logging
import sys
import time
from argparse import _SubParsersAction
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from kotacerdas.journal import bundles
from kotacerdas.journal.cli_extensions import CheckReport
from kotacerdas.journal.keys import SigningKeyError
from kotacerdas.journal.models import Anchor, Block, Cosignature, Entry
from kotacerdas.verify.export import (
    CHECKPOINTS_DIR,
    ENTRIES_DIR,
    EXPORT_FORMAT,
    MANIFEST,
    checkpoint_name,
    chunk_name,
)

logger = logging.getLogger(__name__)

CHUNK_ENTRIES = 100_000

README = """Kota Cerdas ledger export ({format})

Origin: {origin}
Entries: {entries} (seq 0 to {last_seq}), blocks: {blocks}, exported at {created_at}.

Files
  manifest.json           format, origin, counts, and the SHA-256 and size of
                          every other file
  keys.json               the published keys (kotacerdas-keys/v1): the log's
                          Ed25519 verifier key, the witnesses' cosigner keys and
                          the quorum; compare them with the keys the city
                          publishes elsewhere
  entries/NNNNNNNN.jsonl  entry bodies in seq order, {chunk} per file, the file
                          named by its first seq; each line is one entry's
                          canonical JSON (RFC 8785) and the Merkle leaf hash is
                          SHA-256(0x00 || the line's bytes without the newline)
  checkpoints/HHHHHHHH.txt  each block's checkpoint (C2SP tlog-checkpoint with
                          prev and time lines) as a signed note, with the
                          node's signature and every witness cosignature/v1
  anchors.json            the chain transactions that attested a block's root

Check it offline:
  pip install cryptography base45   (and the kotacerdas package)
  python -m kotacerdas.verify --export . --keys PUBLISHED-keys.json
"""


def add_parsers(verbs: "_SubParsersAction[Any]") -> None:
    export = verbs.add_parser(
        "export", help="write the sealed log and its checkpoints to a directory"
    )
    export.add_argument(
        "directory", type=Path, help="a new or empty directory to write into"
    )
    export.add_argument(
        "--chunk",
        type=int,
        default=CHUNK_ENTRIES,
        help=f"entries per entries/*.jsonl file (default {CHUNK_ENTRIES})",
    )
    keys = verbs.add_parser(
        "keys",
        help="print the published keys as JSON, or rotate or list the node keys",
    )
    actions = keys.add_subparsers(dest="keys_action")
    rotate = actions.add_parser(
        "rotate", help="create a new node signing key; the next block uses it"
    )
    rotate.add_argument(
        "--no-seal",
        action="store_true",
        help="do not seal waiting entries right away; the worker seals them",
    )
    rotate.add_argument(
        "--lost-key",
        default="",
        metavar="VKEY",
        help=(
            "the published verifier key whose private key is lost; the key file's "
            "key (created if missing) replaces it instead of a new one"
        ),
    )
    actions.add_parser(
        "history", help="list the node keys and the blocks each one signed"
    )


def handle(verb: str, options: dict[str, Any], stdout: TextIO) -> bool:
    if verb == "keys":
        handle_keys(options, stdout)
        return True
    if verb == "export":
        if options["chunk"] < 1:
            raise CommandError("--chunk must be 1 or more")
        manifest = export_ledger(options["directory"], options["chunk"])
        stdout.write(
            f"exported {manifest['entries']} entries and {manifest['blocks']} "
            f"blocks to {options['directory']}\n"
        )
        return True
    return False


def handle_keys(options: dict[str, Any], stdout: TextIO) -> None:
    from kotacerdas.ops import keyring

    action = options.get("keys_action")
    if action is None:
        stdout.write(json.dumps(bundles.published_keys(), indent=2) + "\n")
        return
    try:
        if action == "history":
            stdout.write("".join(f"{line}\n" for line in keyring.describe_history()))
            return
        rotation = keyring.rotate_node_key(
            seal=not options["no_seal"], lost_vkey=options["lost_key"]
        )
    except (keyring.RotationError, SigningKeyError) as error:
        raise CommandError(str(error)) from error
    stdout.write("".join(f"{line}\n" for line in keyring.rotation_report(rotation)))


def extra_checks() -> list[CheckReport]:
    return []


class HashingWriter:
    """A binary file that records its SHA-256 and size in the manifest on close."""

    def __init__(self, root: Path, name: str, files: dict[str, dict[str, Any]]):
        self.name, self.files = name, files
        self.path = root / name
        self.file: IO[bytes] = self.path.open("xb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self) -> None:
        self.file.close()
        self.files[self.name] = {"sha256": self.digest.hexdigest(), "bytes": self.size}


def _write_file(root: Path, name: str, data: bytes, files: dict[str, Any]) -> None:
    writer = HashingWriter(root, name, files)
    writer.write(data)
    writer.close()


def _prepare(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise CommandError(f"{directory} is not empty; give a new or empty directory")
    (directory / ENTRIES_DIR).mkdir(parents=True, exist_ok=True)
    (directory / CHECKPOINTS_DIR).mkdir(exist_ok=True)


def _progress(done: int, total: int, last: list[float]) -> None:
    if time.monotonic() - last[0] >= 1.0 or done == total:
        last[0] = time.monotonic()
        print(f"exported {done} of {total} entries", file=sys.stderr, flush=True)


def _write_entries(root: Path, size: int, chunk: int, files: dict[str, Any]) -> None:
    writer: HashingWriter | None = None
    last_print = [time.monotonic()]
    bodies = (
        Entry.objects.filter(seq__lt=size).order_by("seq").values_list("seq", "body")
    )
    expected = 0
    for seq, body in bodies.iterator(chunk_size=5000):
        if seq != expected:
            raise CommandError(f"journal entry {expected} is missing; export stopped")
        data = bytes(body)
        if b"\n" in data:
            raise CommandError(f"entry {seq} contains a raw newline; export stopped")
        if seq % chunk == 0:
            if writer:
                writer.close()
            writer = HashingWriter(root, chunk_name(seq), files)
        assert writer is not None
        writer.write(data + b"\n")
        expected += 1
        if expected % 10_000 == 0:
            _progress(expected, size, last_print)
    if writer:
        writer.close()
    if expected != size:
        raise CommandError(f"journal entry {expected} is missing; export stopped")
    _progress(size, size, last_print)


def _cosignature_lines(last_height: int) -> Iterator[tuple[int, str]]:
    return (
        Cosignature.objects.filter(block_id__lte=last_height)
        .order_by("block_id", "witness__name")
        .values_list("block_id", "line")
        .iterator(chunk_size=2000)
    )


def _write_checkpoints(root: Path, last: Block, files: dict[str, Any]) -> int:
    """Write each block's witnessed note, merging in the cosignatures in one pass."""
    lines = _cosignature_lines(last.height)
    pending = next(lines, None)
    count = 0
    blocks = Block.objects.filter(height__lte=last.height).order_by("height")
    for height, note in blocks.values_list("height", "note").iterator(chunk_size=2000):
        cosignatures = []
        while pending is not None and pending[0] <= height:
            if pending[0] == height:
                cosignatures.append(pending[1])
            pending = next(lines, None)
        _write_file(
            root,
            checkpoint_name(height),
            (note + "".join(cosignatures)).encode(),
            files,
        )
        count += 1
    return count


def _anchors(last_height: int) -> list[dict[str, Any]]:
    anchors = (
        Anchor.objects.filter(block_id__lte=last_height)
        .select_related("block", "deployment")
        .order_by("block_id", "sent_at")
    )
    return [
        {
            "height": anchor.block.height,
            "tree_size": anchor.block.tree_size,
            "root": base64.b64encode(bytes(anchor.block.root_hash)).decode(),
            "chain_id": anchor.deployment.chain_id,
            "contract": anchor.deployment.address,
            "tx": anchor.tx_hash,
            "status": anchor.status,
            "block_number": anchor.chain_block_number,
            "final": anchor.final,
        }
        for anchor in anchors
    ]


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def export_ledger(directory: Path, chunk: int = CHUNK_ENTRIES) -> dict[str, Any]:
    """Write the sealed log to `directory` and return the manifest written."""
    last = Block.objects.order_by("-height").first()
    if last is None:
        raise CommandError("no block has been sealed yet; nothing to export")
    _prepare(directory)
    logger.info(
        "export to %s started: %s entries, %s blocks",
        directory,
        last.tree_size,
        last.height + 1,
    )
    files: dict[str, dict[str, Any]] = {}
    created_at = timezone.now().isoformat(timespec="seconds")
    _write_entries(directory, last.tree_size, chunk, files)
    blocks = _write_checkpoints(directory, last, files)
    _write_file(directory, "keys.json", _json_bytes(bundles.published_keys()), files)
    _write_file(directory, "anchors.json", _json_bytes(_anchors(last.height)), files)
    readme = README.format(
        format=EXPORT_FORMAT,
        origin=settings.KOTACERDAS_LEDGER_ORIGIN,
        entries=last.tree_size,
        last_seq=last.tree_size - 1,
        blocks=blocks,
        created_at=created_at,
        chunk=chunk,
    )
    _write_file(directory, "README.txt", readme.encode(), files)
    manifest = {
        "format": EXPORT_FORMAT,
        "origin": settings.KOTACERDAS_LEDGER_ORIGIN,
        "created_at": created_at,
        "entries": last.tree_size,
        "blocks": blocks,
        "root": base64.b64encode(bytes(last.root_hash)).decode(),
        "chunk_entries": chunk,
        "files": dict(sorted(files.items())),
    }
    (directory / MANIFEST).write_bytes(_json_bytes(manifest))
    logger.info("export to %s finished: %s files", directory, len(files))
    return manifest
