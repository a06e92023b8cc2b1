"""End-to-end verification of a `kotacerdas ledger export` directory.

Layout (written by kotacerdas.journal.export):

    manifest.json            format, origin, counts, SHA-256 and size of every file
    keys.json                the published keys at export time
    entries/<first>.jsonl    entry bodies in seq order, one canonical JSON per line
    checkpoints/<height>.txt each block's witnessed checkpoint note
    anchors.json             the chain anchors recorded for the blocks
    README.txt               this layout in prose

The check streams the entries once, rebuilding the Merkle tree with a compact
range, so memory stays O(log n) in the entries and O(number of blocks).
"""

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kotacerdas.journal import merkle
from kotacerdas.journal.notes import Checkpoint
from kotacerdas.verify.bundle import Keys, VerificationError, check_signatures

EXPORT_FORMAT = "kotacerdas-export/v1"
MANIFEST = "manifest.json"
ENTRIES_DIR = "entries"
CHECKPOINTS_DIR = "checkpoints"


def chunk_name(first_seq: int) -> str:
    return f"{ENTRIES_DIR}/{first_seq:08d}.jsonl"


def checkpoint_name(height: int) -> str:
    return f"{CHECKPOINTS_DIR}/{height:08d}.txt"


@dataclass
class ExportReport:
    """The findings of an export check; `problems` lists the first problem first.

    The walk over entries and checkpoints stops at its first problem, because
    every later root would fail only because of it. `checkpoints`,
    `latest_height`, `latest_size` and `latest_cosigners` then describe the
    blocks verified before the problem, and `stopped` is true. `anchors` is
    the number of anchors listed, or None when anchors.json was not read.
    """

    entries: int = 0
    checkpoints: int = 0
    files: int = 0
    latest_height: int | None = None
    latest_size: int = 0
    latest_cosigners: list[str] = field(default_factory=list)
    quorum: int = 0
    last_height: int | None = None
    stopped: bool = False
    anchors: int | None = None
    anchors_unchecked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def blocks_complete(self) -> bool:
        """Whether every exported checkpoint was verified."""
        return self.last_height is not None and self.checkpoints > self.last_height

    @property
    def witnessed(self) -> bool:
        return len(self.latest_cosigners) >= self.quorum


class ExportProblem(Exception):
    """A problem that stops the walk over entries and checkpoints."""


def _noop(level: int, index: int, value: bytes) -> None:
    return None


def _chunks(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in (directory / ENTRIES_DIR).glob("*.jsonl"):
        if not path.stem.isdigit():
            raise ExportProblem(f"{ENTRIES_DIR}/{path.name}: name is not a number")
        found.append((int(path.stem), path))
    return sorted(found)


def _checkpoints(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in (directory / CHECKPOINTS_DIR).glob("*.txt"):
        if not path.stem.isdigit():
            raise ExportProblem(f"{CHECKPOINTS_DIR}/{path.name}: name is not a number")
        found.append((int(path.stem), path))
    return sorted(found)


def _entry_lines(directory: Path) -> Iterator[tuple[int, bytes, str]]:
    """Yield (expected seq, body, where) over every chunk, in order."""
    expected = 0
    for first, path in _chunks(directory):
        if first != expected:
            raise ExportProblem(
                f"entry {expected}: chunk {ENTRIES_DIR}/{path.name} starts at "
                f"{first}; a chunk is missing or misnamed"
            )
        with path.open("rb") as file:
            for number, line in enumerate(file, 1):
                if not line.endswith(b"\n"):
                    raise ExportProblem(
                        f"entry {expected} ({ENTRIES_DIR}/{path.name} line {number}): "
                        "the line does not end in a newline; the file is cut short"
                    )
                yield expected, line[:-1], f"{ENTRIES_DIR}/{path.name} line {number}"
                expected += 1


def _check_body(seq: int, body: bytes, where: str) -> None:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExportProblem(f"entry {seq} ({where}): not JSON: {error}") from None
    found = envelope.get("seq") if isinstance(envelope, dict) else None
    if found != seq:
        raise ExportProblem(
            f"entry {seq} ({where}): the body has seq {found!r}; "
            "a line is missing, added or out of order"
        )


def _check_checkpoint(
    height: int, path: Path, keys: Keys, previous: Checkpoint | None
) -> tuple[Checkpoint, list[str]]:
    where = f"block {height} ({CHECKPOINTS_DIR}/{path.name})"
    try:
        checkpoint, cosigners = check_signatures(path.read_text("utf-8"), keys)
    except (VerificationError, UnicodeDecodeError) as error:
        raise ExportProblem(f"{where}: {error}") from None
    expected_prev = previous.block_hash() if previous else bytes(merkle.HASH_SIZE)
    if checkpoint.prev_hash != expected_prev:
        raise ExportProblem(
            f"{where}: its prev hash does not name block {height - 1}'s checkpoint"
        )
    if previous and checkpoint.tree_size <= previous.tree_size:
        raise ExportProblem(
            f"{where}: tree size {checkpoint.tree_size} does not grow past "
            f"{previous.tree_size}"
        )
    return checkpoint, cosigners


def _walk(
    directory: Path,
    keys: Keys,
    report: ExportReport,
    by_height: dict[int, Checkpoint],
    progress: Callable[[int], None] | None,
) -> None:
    """Rebuild the tree over all entries and check every checkpoint on the way.

    Each verified checkpoint goes into `by_height` and `report` as soon as it
    passes, so both describe the verified blocks when ExportProblem stops the walk.
    """
    checkpoints = _checkpoints(directory)
    report.last_height = checkpoints[-1][0] if checkpoints else -1
    for position, (height, _path) in enumerate(checkpoints):
        if height != position:
            raise ExportProblem(
                f"block {position}: {checkpoint_name(position)} is missing"
            )
    if not checkpoints:
        raise ExportProblem("the export contains no checkpoint")

    tree = merkle.CompactRange()
    lines = _entry_lines(directory)
    previous: Checkpoint | None = None
    for height, path in checkpoints:
        checkpoint, cosigners = _check_checkpoint(height, path, keys, previous)
        while tree.size < checkpoint.tree_size:
            item = next(lines, None)
            if item is None:
                raise ExportProblem(
                    f"block {height}: the export contains {tree.size} entries, but the "
                    f"checkpoint covers {checkpoint.tree_size}"
                )
            seq, body, where = item
            _check_body(seq, body, where)
            tree.append(merkle.leaf_hash(body), _noop)
            if progress and tree.size % 50_000 == 0:
                progress(tree.size)
        if tree.root() != checkpoint.root_hash:
            first = previous.tree_size if previous else 0
            raise ExportProblem(
                f"block {height}: the root of entries 0 to {tree.size - 1} does not "
                f"match the checkpoint, so one of entries {first} to "
                f"{tree.size - 1} was changed"
            )
        by_height[height] = checkpoint
        previous = checkpoint
        report.checkpoints += 1
        report.latest_height = height
        report.latest_size = checkpoint.tree_size
        report.latest_cosigners = cosigners
    report.entries = tree.size
    extra = next(lines, None)
    if extra is not None:
        raise ExportProblem(
            f"entry {extra[0]} ({extra[2]}): the export contains entries after the "
            "last checkpoint"
        )


def _check_manifest(directory: Path, manifest: dict[str, Any]) -> list[str]:
    problems = []
    files = manifest.get("files")
    if not isinstance(files, dict):
        return ["manifest.json: has no files object"]
    listed = set(files)
    present = {
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    for name in sorted(present - listed):
        problems.append(f"{name}: not listed in manifest.json")
    for name in sorted(listed):
        path = directory / name
        if name not in present:
            problems.append(f"{name}: listed in manifest.json but missing")
            continue
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != files[name].get("sha256"):
            problems.append(f"{name}: SHA-256 does not match manifest.json")
    return problems


def _check_anchors(
    directory: Path, checkpoints: dict[int, Checkpoint], report: ExportReport
) -> list[str]:
    try:
        anchors = json.loads((directory / "anchors.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        return [f"anchors.json: unreadable: {error}"]
    if not isinstance(anchors, list) or not all(
        isinstance(anchor, dict) for anchor in anchors
    ):
        return ["anchors.json: is not a list of anchor objects"]
    report.anchors = len(anchors)
    problems = []
    for anchor in anchors:
        checkpoint = checkpoints.get(anchor.get("height"))
        if checkpoint is None and not report.blocks_complete:
            # The walk stopped before this block, so it is neither verified
            # nor known to be missing.
            report.anchors_unchecked += 1
            continue
        if checkpoint is None:
            problems.append(
                f"anchors.json: block {anchor.get('height')} is not exported"
            )
            continue
        root = base64.b64encode(checkpoint.root_hash).decode()
        if (
            anchor.get("tree_size") != checkpoint.tree_size
            or anchor.get("root") != root
        ):
            problems.append(
                f"anchors.json: the anchor of block {anchor.get('height')} names "
                "another size or root than its checkpoint"
            )
    return problems


def verify_export(
    directory: Path, keys: Keys, progress: Callable[[int], None] | None = None
) -> ExportReport:
    """Check an export directory end to end and return what was found."""
    report = ExportReport(quorum=keys.quorum)
    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as error:
        report.problems.append(f"manifest.json: unreadable: {error}")
        report.stopped = True
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        report.problems.append(f"manifest.json: format is not {EXPORT_FORMAT}")
        report.stopped = True
        return report
    if manifest.get("origin") != keys.origin:
        report.problems.append(
            f"manifest.json: origin {manifest.get('origin')!r} is not {keys.origin!r}"
        )
    checkpoints: dict[int, Checkpoint] = {}
    try:
        _walk(directory, keys, report, checkpoints, progress)
    except ExportProblem as problem:
        report.problems.append(str(problem))
        report.stopped = True
    if not report.stopped:
        for name, counted in (
            ("entries", report.entries),
            ("blocks", report.checkpoints),
        ):
            if manifest.get(name) != counted:
                report.problems.append(
                    f"manifest.json: says {manifest.get(name)} {name}, found {counted}"
                )
    report.problems += _check_anchors(directory, checkpoints, report)
    manifest_problems = _check_manifest(directory, manifest)
    report.files = len(manifest.get("files") or {})
    report.problems += manifest_problems
    return report
