"""Key histories: which log key signs which checkpoints, and retired witness keys.

A rotation gives the log a new Ed25519 key, and the old key stays valid for
the checkpoints it signed before. Each log key covers an inclusive range of
tree sizes, `first_size` to `last_size`. A checkpoint is valid only under the
key whose range contains its tree size, so a checkpoint that the old key signs
after the rotation is rejected even when the signature itself verifies.

A witness's retired key keeps only an upper bound: its cosignatures count on
checkpoints up to `last_size`, the largest checkpoint the city stored a
cosignature of with that key.

Like the rest of kotacerdas.verify, this module uses neither Django nor the
network.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kotacerdas.journal.notes import (
    COSIGNATURE_TYPE,
    NoteError,
    Verifier,
    split_note,
    verifier_key,
    verify_note,
)


@dataclass(frozen=True)
class LogKey:
    """One log key and the tree sizes of the checkpoints it may sign.

    `first_size` is None while the key is installed but has signed no
    checkpoint yet; such a key verifies nothing. `last_size` is None for the
    key that signs now.
    """

    verifier: Verifier
    first_size: int | None
    last_size: int | None = None

    @property
    def key_id(self) -> str:
        return self.verifier.key_id.hex()

    def covers(self, tree_size: int) -> bool:
        if self.first_size is None or tree_size < self.first_size:
            return False
        return self.last_size is None or tree_size <= self.last_size

    def describe_range(self) -> str:
        if self.first_size is None:
            return "no checkpoint yet"
        if self.last_size is None:
            return f"checkpoints of {self.first_size} entries or more"
        return f"checkpoints of {self.first_size} to {self.last_size} entries"

    @property
    def vkey(self) -> str:
        return verifier_key(self.verifier.name, self.verifier.public_key)

    def to_json(self) -> dict[str, Any]:
        """Return the key as one item of a keys file's `log_keys`."""
        return {
            "vkey": self.vkey,
            "first_size": self.first_size,
            "last_size": self.last_size,
        }


@dataclass(frozen=True)
class LogKeys:
    """The log's keys in rotation order, the oldest first."""

    origin: str
    keys: tuple[LogKey, ...]

    @classmethod
    def single(cls, verifier: Verifier) -> "LogKeys":
        """Return a history of one key that signs checkpoints of every size."""
        return cls(verifier.name, (LogKey(verifier, 0, None),))

    @classmethod
    def from_json(cls, origin: str, items: Any) -> "LogKeys":
        """Parse the `log_keys` list of a keys file; raise NoteError if invalid."""
        if not isinstance(items, list) or not items:
            raise NoteError("log_keys is not a non-empty list")
        keys = []
        for position, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("vkey"), str):
                raise NoteError(f"log_keys item {position} has no vkey")
            first, last = item.get("first_size"), item.get("last_size")
            if not _is_size_or_none(first) or not _is_size_or_none(last):
                raise NoteError(
                    f"log_keys item {position} has a first_size or last_size that "
                    "is neither a whole number nor null"
                )
            verifier = Verifier.parse(item["vkey"])
            if verifier.name != origin:
                raise NoteError(
                    f"log key {verifier.name!r} is not named after the origin {origin!r}"
                )
            keys.append(LogKey(verifier, first, last))
        history = cls(origin, tuple(keys))
        history.check_order()
        return history

    def check_order(self) -> None:
        """Raise NoteError unless the ranges follow each other without overlap."""
        previous_last = -1
        for key in self.keys:
            if key.first_size is None:
                continue
            if key.first_size <= previous_last:
                raise NoteError(
                    f"log key {key.key_id} starts at size {key.first_size}, inside "
                    "the range of the key before it"
                )
            if key.last_size is not None and key.last_size < key.first_size:
                raise NoteError(
                    f"log key {key.key_id} ends at size {key.last_size}, before it "
                    f"starts at {key.first_size}"
                )
            previous_last = key.last_size if key.last_size is not None else 2**63

    def signers(self, note: str) -> tuple[str, list[LogKey]]:
        """Return the note text and the history's keys whose signatures verify on it.

        A signature line that carries a history key's name and key id but does
        not verify makes the note invalid, as C2SP signed-note requires. Raise
        NoteError for that, and when no line names a key of this history.
        """
        _, signatures = split_note(note)
        present = {(name, signer_id) for name, signer_id, _ in signatures}
        named = [
            key
            for key in self.keys
            if (key.verifier.name, key.verifier.key_id) in present
        ]
        if not named:
            raise NoteError(f"note carries no signature by {self.origin!r}")
        text = ""
        for key in named:
            text = verify_note(note, key.verifier)
        return text, named

    def check_size(self, signers: Iterable[LogKey], tree_size: int) -> LogKey:
        """Return the signer whose range covers `tree_size`, else raise NoteError."""
        signers = list(signers)
        for key in signers:
            if key.covers(tree_size):
                return key
        current = next((key for key in self.keys if key.covers(tree_size)), None)
        signer = signers[0]
        if current is None:
            raise NoteError(
                f"checkpoint of {tree_size} entries is signed by key {signer.key_id}, "
                f"which signs {signer.describe_range()}, and no published key signs "
                "this size yet; fetch the published keys again"
            )
        raise NoteError(
            f"checkpoint of {tree_size} entries is signed by key {signer.key_id}, "
            f"which signs {signer.describe_range()}; checkpoints of this size must "
            f"carry key {current.key_id}"
        )


def _is_size_or_none(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class WitnessKey:
    """One cosigner key of a witness; `last_size` is set once the key is retired."""

    name: str
    verifier: Verifier
    last_size: int | None = None

    def covers(self, tree_size: int) -> bool:
        return self.last_size is None or tree_size <= self.last_size


def parse_witness_keys(item: Any) -> list[WitnessKey]:
    """Parse one `witnesses` item of a keys file: its key and its retired keys.

    Raise KeyError or TypeError for a missing or mangled field, NoteError for
    an invalid key.
    """
    name = item["name"]
    keys = [WitnessKey(name, Verifier.parse(item["vkey"], COSIGNATURE_TYPE))]
    for retired in item.get("retired_keys") or []:
        last_size = retired["last_size"]
        if not _is_size_or_none(last_size) or last_size is None:
            raise TypeError(f"'last_size' of a retired key of {name!r}")
        verifier = Verifier.parse(retired["vkey"], COSIGNATURE_TYPE)
        keys.append(WitnessKey(name, verifier, last_size))
    for key in keys:
        if key.verifier.name != name:
            raise NoteError(
                f"witness key {key.verifier.name!r} is listed under {name!r}"
            )
    return keys
