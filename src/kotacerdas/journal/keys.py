"""The node's Ed25519 signing key and its history of rotated keys.

The private key is a file, created on first run with 0600 permissions and
read again whenever the file is replaced, so a running worker signs with the
new key as soon as `kotacerdas ledger keys rotate` has swapped the file. The
NodeKey rows contain the public keys with the blocks each one signed. A node
that was never rotated has no rows.
"""

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.db import IntegrityError, transaction

from kotacerdas.journal.models import Block, NodeKey
from kotacerdas.journal.notes import NoteError, Verifier, verifier_key, verify_note
from kotacerdas.verify.history import LogKey, LogKeys

logger = logging.getLogger(__name__)


class SigningKeyError(RuntimeError):
    """The node's signing key is missing, unreadable or not Ed25519."""


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a new PKCS#8 PEM key file with mode 0600; raise FileExistsError if present."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())


def create_signing_key(path: Path) -> bool:
    """Create the key file if it does not exist; return True if it was created."""
    if path.exists():
        return False
    try:
        write_private_key(path, Ed25519PrivateKey.generate())
    except FileExistsError:
        return False
    logger.info("created Ed25519 signing key at %s", path)
    return True


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SigningKeyError(
            f"signing key {path} not found; run `kotacerdas run` or "
            "`kotacerdas ledger init-key` to create it"
        ) from None
    except ValueError as error:
        raise SigningKeyError(f"signing key {path} is not a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key")
    return key


class KeyFile:
    """A private key file, loaded again when the file at its path is replaced.

    A rotation replaces the file with os.replace, which gives it a new inode,
    so comparing the file's identity on each call finds the change. The check
    costs one stat() per call.
    """

    def __init__(self, path_of: Callable[[], Path]) -> None:
        self.path_of = path_of
        self._lock = threading.Lock()
        self._stamp: tuple[object, ...] | None = None
        self._key: Ed25519PrivateKey | None = None

    def __call__(self) -> Ed25519PrivateKey:
        path = self.path_of()
        try:
            stat = path.stat()
        except FileNotFoundError:
            return load_private_key(path)  # raises SigningKeyError
        stamp = (str(path), stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._key is None or stamp != self._stamp:
                self._key = load_private_key(path)
                self._stamp = stamp
            return self._key

    def cache_clear(self) -> None:
        with self._lock:
            self._key, self._stamp = None, None


node_key = KeyFile(lambda: Path(settings.KOTACERDAS_SIGNING_KEY_FILE))


def node_verifier_key() -> str:
    """Return the verifier key of the key file, the key that signs the next block."""
    return verifier_key(settings.KOTACERDAS_LEDGER_ORIGIN, node_key().public_key())


def node_verifier() -> Verifier:
    return Verifier.parse(node_verifier_key())


def sealing_key() -> Ed25519PrivateKey:
    """Return the key file's key after checking that it is the node's newest key.

    A process that holds an old copy of the key file, such as a second server
    that the rotation did not reach, would otherwise sign blocks that
    `ledger verify` rejects. Raise SigningKeyError in that case; the sealer
    (services.seal_pending) then seals nothing until the key file is copied.
    """
    key = node_key()
    newest = NodeKey.objects.order_by("-id").values_list("vkey", flat=True).first()
    if newest is not None and newest != node_verifier_key():
        raise SigningKeyError(
            f"the key file {settings.KOTACERDAS_SIGNING_KEY_FILE} is not the node's "
            f"newest key ({newest.split('+')[1]}); copy the key file from the host "
            "where `kotacerdas ledger keys rotate` ran"
        )
    return key


def node_key_rows(record: bool = False) -> list[NodeKey]:
    """Return the NodeKey rows in rotation order, with a pending key's first block.

    While the newest key is pending, each call looks for its first block
    again (one query over the blocks sealed since the rotation). With
    `record`, a found block is stored, which a read-only transaction, such as
    the backup's snapshot, cannot do.
    """
    rows = list(NodeKey.objects.order_by("id"))
    if rows and rows[-1].first_height is None:
        find_first_block(rows[-1], record)
    return rows


def node_key_history(record: bool = False) -> LogKeys:
    """Return the node's keys with the tree sizes each signs, for verifying checkpoints.

    `record` stores a pending key's first block, as in node_key_rows.
    """
    rows = node_key_rows(record)
    if not rows:
        return LogKeys.single(node_verifier())
    return history_of(rows)


def history_of(rows: list[NodeKey]) -> LogKeys:
    """Return the key history the NodeKey rows describe.

    A key's range ends at the tree size of the block before the next key's
    first block, so a checkpoint of a size between the two was never signed
    by either and is rejected. The oldest key covers every size from 0,
    because no checkpoint precedes its first block.
    """
    keys = []
    for index, row in enumerate(rows):
        later = [other.first_height for other in rows[index + 1 :]]
        next_first = later[0] if later else None
        first = row.first_size
        if index == 0 and first is not None:
            first = 0
        last = None
        if first is not None and next_first is not None:
            last = Block.objects.values_list("tree_size", flat=True).get(
                height=next_first - 1
            )
        keys.append(LogKey(Verifier.parse(row.vkey), first, last))
    return LogKeys(settings.KOTACERDAS_LEDGER_ORIGIN, tuple(keys))


def latest_log_key(history: LogKeys) -> LogKey:
    """Return the key that signed the latest checkpoint, or the only key there is."""
    signing = [key for key in history.keys if key.first_size is not None]
    return signing[-1] if signing else history.keys[-1]


def find_first_block(row: NodeKey, record: bool) -> None:
    """Set the first block a pending key signed on `row`, if one was sealed.

    Blocks sealed with the previous key after the rotation (by a process that
    read the key file just before it was replaced) are skipped. With `record`,
    the first block is stored, or else `after_height` moves past the skipped
    blocks so the next search starts later.
    """
    verifier = Verifier.parse(row.vkey)
    start = row.after_height if row.after_height is not None else -1
    blocks = (
        Block.objects.filter(height__gt=start)
        .order_by("height")
        .values_list("height", "tree_size", "note")
    )
    skipped = None
    for height, tree_size, note in blocks.iterator(chunk_size=20):
        try:
            verify_note(note, verifier)
        except NoteError:
            skipped = height
            continue
        row.first_height, row.first_size = height, tree_size
        if record:
            record_first_block(row, verifier)
        return
    if skipped is not None and record:
        NodeKey.objects.filter(pk=row.pk, first_height__isnull=True).update(
            after_height=skipped
        )
        row.after_height = skipped
        logger.warning(
            "block %s, sealed after node key %s was installed, is not signed by "
            "it; a process may still use the old key file",
            skipped,
            verifier.key_id.hex(),
        )


def record_first_block(row: NodeKey, verifier: Verifier) -> None:
    try:
        with transaction.atomic():
            NodeKey.objects.filter(pk=row.pk, first_height__isnull=True).update(
                first_height=row.first_height, first_size=row.first_size
            )
    except IntegrityError:
        logger.error(
            "block %s is signed by node key %s, but another key is recorded "
            "as starting there; run `kotacerdas ledger verify`",
            row.first_height,
            verifier.key_id.hex(),
        )
        return
    logger.info(
        "node key %s signed its first block %s at tree size %s",
        verifier.key_id.hex(),
        row.first_height,
        row.first_size,
    )
