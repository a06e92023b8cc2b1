"""Rotating the node's signing key, so that old checkpoints stay verifiable.

`kotacerdas ledger keys rotate` creates a new Ed25519 key, copies the old key
file into `retired/` beside it and replaces the key file, all while the
NodeKey rows record the old key and the new one. The new key signs the next
block. The first block it signs fixes the rotation point, and from there on a
checkpoint signed by the old key is rejected. journal.keys and
kotacerdas.verify.history describe the ranges.

Witnesses trust one key per log, so each partner must trust the new key
(`kotacerdas witness trust --vkey NEW`). Until it does, its witness returns 403
and the node backs off. Afterwards the witness catches up with one consistency
proof. The witnesses that `kotacerdas run` starts for the demo, in
var/witnesses/, are switched to the new key here.
"""

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kotacerdas.journal import services
from kotacerdas.journal.keys import (
    SigningKeyError,
    create_signing_key,
    history_of,
    load_private_key,
    node_key,
    node_key_rows,
    node_verifier_key,
    write_private_key,
)
from kotacerdas.journal.models import Block, NodeKey
from kotacerdas.journal.notes import (
    NoteError,
    Verifier,
    public_bytes,
    verifier_key,
    verify_note,
)

logger = logging.getLogger(__name__)

RETIRED_DIR = "retired"


class RotationError(RuntimeError):
    """A key cannot be rotated in the present state; the message gives the reason."""


@dataclass
class NodeRotation:
    """The outcome of one rotation of the node key."""

    old_vkey: str
    new_vkey: str
    after_height: int | None
    retired_file: Path | None
    first_block: Block | None = None
    demo_witnesses: list[str] = field(default_factory=list)


def key_id_hex(vkey: str) -> str:
    return vkey.split("+")[1]


@contextmanager
def rotation_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on the key file's directory, so rotations never overlap.

    Locking the directory itself leaves no lock file among the keys.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        yield
    finally:
        os.close(directory)  # Closing the descriptor releases the lock.


def retire_key_file(path: Path, key: Ed25519PrivateKey, key_id: str) -> Path:
    """Copy a key into `retired/` beside its file (mode 0600) and return the copy's path."""
    retired = path.parent / RETIRED_DIR / f"{path.stem}-{key_id}{path.suffix}"
    if retired.exists():
        kept = public_bytes(load_private_key(retired).public_key())
        if kept != public_bytes(key.public_key()):
            raise RotationError(
                f"{retired} exists and contains another key; move it away"
            )
        return retired
    write_private_key(retired, key)
    return retired


def replace_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Replace the key file in one rename, so a reader sees the old or the new key."""
    staged = path.with_name(f".{path.name}.new")
    staged.unlink(missing_ok=True)
    write_private_key(staged, key)
    os.replace(staged, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def rotate_node_key(seal: bool = True, lost_vkey: str = "") -> NodeRotation:
    """Install a new node signing key; the next block is signed with it.

    Raises RotationError when the key file is not the key that signs now,
    because the history would then name the wrong key. With `seal`, waiting
    entries are sealed right away, so the rotation point is fixed at once.
    With `lost_vkey`, the private key of that verifier key is lost, and the
    key file's key (created if missing) replaces it; see replace_lost_key.
    """
    path = Path(settings.KOTACERDAS_SIGNING_KEY_FILE)
    with rotation_lock(path):
        if lost_vkey:
            rotation = replace_lost_key(path, lost_vkey)
        else:
            rotation = _rotate_locked(path)
    node_key.cache_clear()
    logger.info(
        "rotated node key %s to %s; the latest block was %s",
        key_id_hex(rotation.old_vkey),
        key_id_hex(rotation.new_vkey),
        "none" if rotation.after_height is None else rotation.after_height,
    )
    if seal:
        services.seal_pending()
    rotation.first_block = first_block_of(rotation.new_vkey)
    rotation.demo_witnesses = trust_in_demo_witnesses(rotation.new_vkey)
    return rotation


def _rotate_locked(path: Path) -> NodeRotation:
    try:
        old_key = node_key()
    except SigningKeyError as error:
        raise RotationError(str(error)) from error
    origin = settings.KOTACERDAS_LEDGER_ORIGIN
    old_vkey = verifier_key(origin, old_key.public_key())
    new_key = Ed25519PrivateKey.generate()
    new_vkey = verifier_key(origin, new_key.public_key())
    retired = retire_key_file(path, old_key, key_id_hex(old_vkey))
    replaced = False
    try:
        with transaction.atomic():
            latest = services.latest_block()
            first_rotation = not NodeKey.objects.exists()
            if first_rotation and latest and not signed_by(latest, old_vkey):
                raise RotationError(
                    f"the latest block {latest.height} is not signed by the key "
                    f"file {path}; run `kotacerdas ledger verify` and restore the "
                    "key that signs the ledger"
                )
            record_old_key(
                old_vkey,
                latest,
                f"the key file {path} contains key {key_id_hex(old_vkey)}",
                "restore that key file first",
            )
            NodeKey.objects.create(
                vkey=new_vkey,
                installed_at=timezone.now(),
                after_height=latest.height if latest else None,
            )
            replace_key_file(path, new_key)
            replaced = True
    except BaseException:
        if replaced:
            replace_key_file(path, old_key)
            logger.error("node key rotation rolled back; the old key file is back")
        raise
    return NodeRotation(old_vkey, new_vkey, latest.height if latest else None, retired)


def replace_lost_key(path: Path, lost_vkey: str) -> NodeRotation:
    """Record that the key file's key replaces a node key whose private key is lost.

    The key file is created if it is missing. If a process already sealed
    blocks with it (such as `kotacerdas run`, which creates a missing key file),
    its first such block after the lost key's last block becomes the rotation
    point. Raises RotationError for an invalid or unknown lost key.
    """
    origin = settings.KOTACERDAS_LEDGER_ORIGIN
    try:
        lost = Verifier.parse(lost_vkey)
    except NoteError as error:
        raise RotationError(f"{error}; give the node's published key") from None
    if lost.name != origin:
        raise RotationError(
            f"the lost key is named {lost.name!r}, not this ledger's origin {origin!r}"
        )
    create_signing_key(path)
    node_key.cache_clear()
    new_vkey = node_verifier_key()
    if new_vkey == lost_vkey:
        raise RotationError(
            f"the key file {path} contains the key named as lost; it is not lost, so "
            "run `kotacerdas ledger keys rotate` without --lost-key"
        )
    with transaction.atomic():
        newest = NodeKey.objects.order_by("-id").first()
        last_signed = last_block_signed_by(lost_vkey)
        if newest and newest.vkey == lost_vkey and newest.first_height is None:
            # Lost before it signed a block: the new key takes its place.
            after_height = newest.after_height
        elif last_signed is None and Block.objects.exists():
            raise RotationError(
                f"no block is signed by the lost key {key_id_hex(lost_vkey)}; "
                "give the key that `kotacerdas ledger keys` published"
            )
        else:
            after_height = last_signed.height if last_signed else None
        record_old_key(
            lost_vkey,
            last_signed,
            f"the lost key is {key_id_hex(lost_vkey)}",
            "name that key as lost",
        )
        NodeKey.objects.create(
            vkey=new_vkey, installed_at=timezone.now(), after_height=after_height
        )
    return NodeRotation(lost_vkey, new_vkey, after_height, None)


def signed_by(block: Block, vkey: str) -> bool:
    try:
        verify_note(block.note, Verifier.parse(vkey))
    except NoteError:
        return False
    return True


def last_block_signed_by(vkey: str) -> Block | None:
    """Return the latest block the key signed, searching back from the latest block."""
    blocks = Block.objects.order_by("-height").iterator(chunk_size=200)
    return next((block for block in blocks if signed_by(block, vkey)), None)


def record_old_key(
    old_vkey: str, last_signed: Block | None, described: str, hint: str
) -> None:
    """Make sure the NodeKey rows end with the key being replaced.

    The first rotation records that key as the first key; `last_signed` is a
    block it signed, or None when the ledger has no block yet. A newest key
    that never signed a block is dropped, because no checkpoint needs it.
    `described` names the key and `hint` the fix in the error for a key
    that is not the node's newest.
    """
    rows = node_key_rows(record=True)
    if rows:
        newest = rows[-1]
        if newest.vkey != old_vkey:
            raise RotationError(
                f"{described}, but the node's newest key is "
                f"{key_id_hex(newest.vkey)}; {hint}"
            )
        if newest.first_height is None:
            newest.delete()
        return
    if last_signed is None:
        return  # The key signed nothing, so the history starts with the new key.
    first = Block.objects.order_by("height").first()
    assert first is not None
    NodeKey.objects.create(
        vkey=old_vkey,
        installed_at=first.sealed_at,
        first_height=first.height,
        first_size=first.tree_size,
    )


def first_block_of(vkey: str) -> Block | None:
    """Return the first block the key signed, looking for it if still unknown."""
    for row in node_key_rows(record=True):
        if row.vkey == vkey and row.first_height is not None:
            return Block.objects.get(height=row.first_height)
    return None


def trust_in_demo_witnesses(vkey: str) -> list[str]:
    """Make the demo witnesses in var/witnesses/ trust the new key; return their names.

    Only witnesses that already trust this log are changed, and a witness
    directory that cannot be read is logged and skipped.
    """
    from kotacerdas.witness.store import WitnessSetupError, WitnessStore

    origin = Verifier.parse(vkey).name
    root = Path(settings.VAR_DIR) / "witnesses"
    changed = []
    for directory in sorted(root.glob("*")) if root.is_dir() else []:
        store = WitnessStore(directory)
        try:
            if origin not in store.trusted_logs():
                continue
            store.trust(vkey)
            changed.append(store.name())
        except (WitnessSetupError, NoteError, OSError, KeyError) as error:
            logger.warning(
                "witness in %s not switched to the new key: %s", directory, error
            )
    return changed


def describe_history() -> list[str]:
    """Return one line per node key: its key id and the blocks and sizes it signs."""
    rows = node_key_rows(record=True)
    if not rows:
        return [
            f"key {key_id_hex(node_verifier_key())} signs every block (never rotated)"
        ]
    history = history_of(rows)
    lines = []
    for index, (row, key) in enumerate(zip(rows, history.keys, strict=True)):
        later = rows[index + 1] if index + 1 < len(rows) else None
        if row.first_height is None:
            installed = timezone.localtime(row.installed_at).isoformat(
                timespec="seconds"
            )
            lines.append(
                f"key {key.key_id} installed {installed}, signs the next block "
                "(no block signed yet)"
            )
        elif later is None or later.first_height is None:
            lines.append(
                f"key {key.key_id} signs from block {row.first_height} on, "
                f"{key.describe_range()}"
            )
        else:
            lines.append(
                f"key {key.key_id} signed blocks {row.first_height} to "
                f"{later.first_height - 1}, {key.describe_range()}"
            )
    return lines


def rotation_report(rotation: NodeRotation) -> list[str]:
    """Return what `ledger keys rotate` prints: the new key and the next steps."""
    lines = [f"new node key: {rotation.new_vkey}"]
    if rotation.first_block is not None:
        block = rotation.first_block
        lines.append(
            f"the new key signed block {block.height} (tree size {block.tree_size}) "
            "and every block after it"
        )
    else:
        after = rotation.after_height
        lines.append(
            "the new key signs the next block"
            + (f" after block {after}" if after is not None else "")
        )
    if rotation.retired_file is None:
        lines.append(
            f"the lost key {key_id_hex(rotation.old_vkey)} stays valid for the "
            "checkpoints it signed; whoever finds it could sign checkpoints of "
            "that range, so tell the partners and the inspectorate"
        )
    else:
        lines.append(
            f"the old key {key_id_hex(rotation.old_vkey)} is kept in "
            f"{rotation.retired_file}; delete it or move it offline once the last "
            "checkpoint it signed is witnessed"
        )
    if rotation.demo_witnesses:
        lines.append(
            "demo witnesses switched to the new key: "
            + ", ".join(rotation.demo_witnesses)
        )
    lines += [
        "each partner must now trust the new key on its witness:",
        f"  kotacerdas witness trust --dir DIR --vkey '{rotation.new_vkey}'",
        "until then its witness rejects new checkpoints (status 403), and the "
        "ledger page shows the error",
    ]
    return lines
