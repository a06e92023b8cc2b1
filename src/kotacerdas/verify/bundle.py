"""Verification of one receipt bundle against the published keys.

The steps follow the bundle format v1 (docs/receipts.md): the checkpoint is
signed by the log's key, the entry's leaf is in the checkpoint's tree by the
RFC 9162 inclusion proof, and the known witnesses' cosignatures are counted
against the quorum. The anchor is reported as given, because checking it
needs the chain and this module uses no network.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from kotacerdas.journal import merkle
from kotacerdas.journal.notes import (
    Checkpoint,
    NoteError,
    Verifier,
    split_note,
    verify_cosignature,
)
from kotacerdas.verify.history import LogKeys, WitnessKey, parse_witness_keys

BUNDLE_FORMAT = "kotacerdas-bundle/v1"
KEYS_FORMAT = "kotacerdas-keys/v1"


class VerificationError(ValueError):
    """A bundle or keys file fails a check; `code` names which one."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Keys:
    """The published keys: the log's signing keys, the witnesses and the quorum.

    `log` is the key of the latest checkpoint and `log_keys` the whole key
    history (just `log` when the keys file has no `log_keys`). `witnesses`
    has one item per witness key, retired keys included.
    """

    origin: str
    log: Verifier
    witnesses: list[WitnessKey]
    quorum: int
    chain: dict[str, Any] | None
    log_keys: LogKeys

    @property
    def witness_names(self) -> list[str]:
        return list(dict.fromkeys(witness.name for witness in self.witnesses))


@dataclass
class Result:
    """The outcome of verifying one bundle.

    `ok` means the entry is in a checkpoint the log signed; `witnessed` means
    at least `quorum` known witnesses also co-signed that checkpoint. `code`
    and `reason` name the first failed check when `ok` is false.
    """

    ok: bool
    reason: str = ""
    code: str = ""
    tree_size: int | None = None
    index: int | None = None
    event_type: str = ""
    witnesses: list[str] = field(default_factory=list)
    witnesses_known: int = 0
    quorum: int = 0
    witnessed: bool = False
    anchor: dict[str, Any] | None = None
    summary: str = ""

    def inclusion(self) -> str:
        """Return what a valid bundle proves, without the verdict."""
        text = (
            f"included in the checkpoint of {self.tree_size} entries, co-signed by "
            f"{len(self.witnesses)} of {self.witnesses_known} witnesses"
        )
        if self.witnesses:
            text += f" ({', '.join(self.witnesses)})"
        return text

    def passes(self, require_quorum: bool = False) -> bool:
        """Return whether the bundle is valid, counting the quorum if required."""
        return self.ok and (self.witnessed or not require_quorum)

    def lines(self, require_quorum: bool = False) -> list[str]:
        """Return the report in English lines, the verdict first.

        With `require_quorum`, a bundle whose checkpoint lacks the quorum of
        cosignatures is invalid, and the first line gives that verdict.
        """
        if not self.ok:
            return [self.summary]
        if self.passes(require_quorum):
            lines = [self.summary]
        else:
            lines = [
                f"invalid: not witnessed: {len(self.witnesses)} of the "
                f"{self.quorum} cosignatures needed",
                self.inclusion(),
            ]
        lines.append(f"entry {self.index}, event type {self.event_type}")
        if self.witnesses:
            lines.append(f"co-signed by: {', '.join(self.witnesses)}")
        if not self.witnessed:
            lines.append(
                f"not yet witnessed: {len(self.witnesses)} of the {self.quorum} "
                "cosignatures needed; fetch a newer bundle later"
            )
        if self.anchor:
            state = "final" if self.anchor.get("final") else "not yet final"
            lines.append(
                f"anchored on chain {self.anchor.get('chain_id')} in transaction "
                f"{self.anchor.get('tx')} (block {self.anchor.get('block_number')}, "
                f"{state}); not checked, this verifier works offline"
            )
        else:
            lines.append("no chain anchor in this bundle")
        return lines


def parse_keys(keys: Any) -> Keys:
    """Return the published keys, or raise VerificationError with code "keys"."""
    if not isinstance(keys, dict) or keys.get("format") != KEYS_FORMAT:
        raise VerificationError("keys", f"the keys file is not {KEYS_FORMAT}")
    try:
        origin = keys["origin"]
        log = Verifier.parse(keys["log"])
        witnesses = [
            key for item in keys["witnesses"] for key in parse_witness_keys(item)
        ]
        quorum = keys["quorum"]
    except (KeyError, TypeError) as error:
        raise VerificationError(
            "keys", f"the keys file lacks or mangles field {error}"
        ) from None
    except NoteError as error:
        raise VerificationError("keys", f"the keys file is invalid: {error}") from None
    if not isinstance(origin, str) or not isinstance(quorum, int) or quorum < 1:
        raise VerificationError("keys", "the keys file's origin or quorum is invalid")
    if log.name != origin:
        raise VerificationError(
            "keys", f"the log key is named {log.name!r}, not the origin {origin!r}"
        )
    try:
        log_keys = (
            LogKeys.from_json(origin, keys["log_keys"])
            if "log_keys" in keys
            else LogKeys.single(log)
        )
    except NoteError as error:
        raise VerificationError("keys", f"the keys file is invalid: {error}") from None
    if log.key_id not in [key.verifier.key_id for key in log_keys.keys]:
        raise VerificationError("keys", "the log key is missing from log_keys")
    chain = keys.get("chain")
    return Keys(
        origin,
        log,
        witnesses,
        quorum,
        chain if isinstance(chain, dict) else None,
        log_keys,
    )


def check_signatures(note: str, keys: Keys) -> tuple[Checkpoint, list[str]]:
    """Check the log's signature and each known witness's cosignature on a note.

    The log's signature must be by the key whose range in the key history
    covers the checkpoint's tree size. Return the parsed checkpoint and the
    names of the witnesses whose cosignature verifies. A cosignature line that
    carries a known witness's name and key id but does not verify, or that a
    retired witness key made on a checkpoint after its retirement, is a
    forgery or damage, and raises. Lines of unknown keys are ignored, as the
    signed-note format requires.
    """
    try:
        text, signers = keys.log_keys.signers(note)
    except NoteError as error:
        raise VerificationError("signature", f"checkpoint: {error}") from None
    try:
        checkpoint = Checkpoint.parse(text)
    except NoteError as error:
        raise VerificationError("checkpoint", f"checkpoint: {error}") from None
    try:
        keys.log_keys.check_size(signers, checkpoint.tree_size)
    except NoteError as error:
        raise VerificationError("signature", f"checkpoint: {error}") from None
    if checkpoint.origin != keys.origin:
        raise VerificationError(
            "origin",
            f"checkpoint origin {checkpoint.origin!r} is not {keys.origin!r}",
        )
    _, signatures = split_note(note)
    present = {(name, signer_id) for name, signer_id, _ in signatures}
    cosigners: list[str] = []
    for witness in keys.witnesses:
        if (witness.verifier.name, witness.verifier.key_id) not in present:
            continue
        try:
            verify_cosignature(note, witness.verifier)
        except NoteError as error:
            raise VerificationError("cosignature", f"checkpoint: {error}") from None
        if not witness.covers(checkpoint.tree_size):
            raise VerificationError(
                "cosignature",
                f"checkpoint: cosignature by {witness.name!r} is made with key "
                f"{witness.verifier.key_id.hex()}, which was retired after the "
                f"checkpoint of {witness.last_size} entries",
            )
        if witness.name not in cosigners:
            cosigners.append(witness.name)
    return checkpoint, cosigners


def _decode_proof(proof: Any) -> list[bytes]:
    if not isinstance(proof, list):
        raise VerificationError("proof", "the inclusion proof is not a list")
    hashes = []
    for position, item in enumerate(proof):
        try:
            value = base64.b64decode(item, validate=True)
        except (binascii.Error, TypeError, ValueError):
            value = b""
        if len(value) != merkle.HASH_SIZE:
            raise VerificationError(
                "proof", f"proof hash {position} is not a base64 SHA-256 hash"
            )
        hashes.append(value)
    return hashes


def _check_entry(bundle: dict[str, Any], size: int) -> tuple[int, str, str]:
    entry = bundle.get("entry")
    if not isinstance(entry, dict):
        raise VerificationError("entry", "the bundle has no entry object")
    index, body = entry.get("index"), entry.get("body")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise VerificationError("index", f"entry index {index!r} is not a number")
    if not isinstance(body, str):
        raise VerificationError("body", "the entry body is not a string")
    if index >= size:
        raise VerificationError(
            "index", f"entry index {index} is outside the checkpoint's {size} entries"
        )
    try:
        envelope = json.loads(body)
    except json.JSONDecodeError as error:
        raise VerificationError(
            "body", f"the entry body is not JSON: {error}"
        ) from None
    if not isinstance(envelope, dict) or envelope.get("seq") != index:
        seq = envelope.get("seq") if isinstance(envelope, dict) else None
        raise VerificationError(
            "index",
            f"the entry body has seq {seq!r}, but the bundle says index {index}",
        )
    return index, body, str(envelope.get("type", ""))


def _check(bundle: Any, keys: Keys, result: Result) -> None:
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise VerificationError("format", f"the file is not a {BUNDLE_FORMAT} bundle")
    if bundle.get("origin") != keys.origin:
        raise VerificationError(
            "origin",
            f"bundle origin {bundle.get('origin')!r} is not the keys' origin "
            f"{keys.origin!r}",
        )
    note = bundle.get("checkpoint")
    if not isinstance(note, str):
        raise VerificationError("checkpoint", "the bundle has no checkpoint note")
    try:
        checkpoint, cosigners = check_signatures(note, keys)
    except NoteError as error:
        raise VerificationError("signature", f"checkpoint: {error}") from None
    result.tree_size = checkpoint.tree_size
    result.witnesses = cosigners
    result.witnessed = len(cosigners) >= keys.quorum

    index, body, event_type = _check_entry(bundle, checkpoint.tree_size)
    result.index, result.event_type = index, event_type
    proof = _decode_proof(bundle.get("proof"))
    leaf = merkle.leaf_hash(body.encode())
    if not merkle.verify_inclusion(
        leaf, index, checkpoint.tree_size, proof, checkpoint.root_hash
    ):
        raise VerificationError(
            "proof",
            f"the inclusion proof of entry {index} does not lead to the root of "
            f"the checkpoint of {checkpoint.tree_size} entries",
        )
    anchor = bundle.get("anchor")
    result.anchor = anchor if isinstance(anchor, dict) else None


def verify_bundle(bundle: Any, keys: Any) -> Result:
    """Verify a bundle (parsed JSON) against the published keys (parsed JSON)."""
    result = Result(ok=False)
    try:
        parsed_keys = parse_keys(keys)
        result.quorum = parsed_keys.quorum
        result.witnesses_known = len(parsed_keys.witness_names)
        _check(bundle, parsed_keys, result)
    except VerificationError as error:
        result.ok, result.code, result.reason = False, error.code, str(error)
        result.summary = f"invalid: {error}"
        return result
    result.ok = True
    result.summary = f"valid, {result.inclusion()}"
    return result
