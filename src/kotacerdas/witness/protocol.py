"""The `add-checkpoint` call of C2SP `tlog-witness`, and the witness's read calls.

`Witness.respond(method, path, body)` implements the whole protocol, so the WSGI app
and the HTTP server in `server` are thin wrappers around it. Status codes:

- 200: the body is this witness's `cosignature/v1` line on the checkpoint;
- 400: the body is malformed, the old size exceeds the checkpoint size, or a
  proof came with old size 0;
- 403: no signature by the log's trusted key, or such a signature fails;
- 404: the origin is not a log this witness trusts;
- 409: the old size is not the size this witness last co-signed (the body, of
  type `text/x.tlog.size`, contains that size), or the sizes match but the roots
  differ;
- 413: the body is larger than MAX_BODY_BYTES;
- 422: the consistency proof does not verify.

A 409 for a different root and a 422 are kept as evidence when the log's
signature verified, because together with the checkpoint this witness co-signed
before they show the log signed two histories.
"""

import base64
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature

from kotacerdas.journal import merkle
from kotacerdas.journal.notes import NoteError, Verifier, cosign, split_note
from kotacerdas.witness.store import LogState, WitnessStore

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
MAX_TREE_SIZE = 2**63 - 1
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = TEXT_CONTENT_TYPE


def text_response(status: int, message: str) -> Response:
    return Response(status, (message + "\n").encode())


class MalformedRequest(ValueError):
    """The request body does not follow the add-checkpoint format."""


@dataclass(frozen=True)
class CheckpointHead:
    """The first three lines every C2SP checkpoint starts with."""

    origin: str
    size: int
    root_hash: bytes


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: list[bytes]
    note: str
    text: str
    signatures: list[tuple[str, bytes, bytes]]
    head: CheckpointHead


def parse_decimal(value: str, what: str) -> int:
    if not _DECIMAL.fullmatch(value) or int(value) > MAX_TREE_SIZE:
        raise MalformedRequest(
            f"{what} {value!r} is not a decimal without leading zeros"
        )
    return int(value)


def parse_hash(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise MalformedRequest(f"{what} {value!r} is not base64") from None
    if len(raw) != 32:
        raise MalformedRequest(f"{what} {value!r} is not a 32-byte hash")
    return raw


def parse_checkpoint_head(text: str) -> CheckpointHead:
    """Parse origin, size and root; extension lines after them are allowed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or "" in lines[:-1]:
        raise MalformedRequest("checkpoint needs origin, size and root lines")
    origin, size, root = lines[:3]
    return CheckpointHead(
        origin, parse_decimal(size, "checkpoint size"), parse_hash(root, "root hash")
    )


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("body is not UTF-8") from None
    header, separator, note = text.partition("\n\n")
    if not separator:
        raise MalformedRequest("body lacks the empty line before the checkpoint")
    lines = header.split("\n")
    if not lines[0].startswith("old "):
        raise MalformedRequest("body must start with an 'old <size>' line")
    old_size = parse_decimal(lines[0][4:], "old size")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = [parse_hash(line, "proof line") for line in lines[1:]]
    try:
        checkpoint_text, signatures = split_note(note)
    except NoteError as error:
        raise MalformedRequest(str(error)) from error
    head = parse_checkpoint_head(checkpoint_text)
    return AddCheckpointRequest(
        old_size, proof, note, checkpoint_text, signatures, head
    )


def signed_by(request: AddCheckpointRequest, verifier: Verifier) -> bool:
    """Return True if the note carries a valid signature by `verifier`.

    Lines by other keys are ignored. A line naming the trusted key whose
    signature fails makes the note invalid, as C2SP signed-note requires.
    """
    found = False
    for name, signer_id, signature in request.signatures:
        if name != verifier.name or signer_id != verifier.key_id:
            continue
        try:
            verifier.public_key.verify(signature, request.text.encode())
        except InvalidSignature:
            return False
        found = True
    return found


class Witness:
    """The protocol of one witness directory; safe to call from many threads."""

    def __init__(
        self,
        store: WitnessStore,
        prefix: str = "",
        after_cosign: Callable[[bytes, int], object] | None = None,
    ) -> None:
        self.store = store
        self.prefix = prefix.rstrip("/")
        self.name = store.name()
        store.private_key()  # Fail at start, not on the first request.
        # Runs after each cosignature on one background thread, in order, so a
        # slow chain never delays the response (see witness/attest.py).
        self.after_cosign = after_cosign
        self.background = ThreadPoolExecutor(max_workers=1) if after_cosign else None

    def respond(self, method: str, path: str, body: bytes) -> Response:
        try:
            return self.route(method, path, body)
        except Exception:
            logger.exception("witness %s failed on %s %s", self.name, method, path)
            return text_response(500, "internal error; see the witness log")

    def route(self, method: str, path: str, body: bytes) -> Response:
        if path == "/healthz":
            return text_response(200, "ok")
        if path == f"{self.prefix}/add-checkpoint":
            if method != "POST":
                return text_response(405, "use POST for add-checkpoint")
            if len(body) > MAX_BODY_BYTES:
                return text_response(413, f"body exceeds {MAX_BODY_BYTES} bytes")
            return self.add_checkpoint(body)
        checkpoint_prefix = f"{self.prefix}/checkpoint/"
        if path.startswith(checkpoint_prefix):
            if method != "GET":
                return text_response(405, "use GET for checkpoint")
            return self.latest_checkpoint(unquote(path[len(checkpoint_prefix) :]))
        return text_response(404, f"no such path {path!r}")

    def latest_checkpoint(self, origin: str) -> Response:
        """Return the latest checkpoint co-signed for `origin`, with the cosignature."""
        with self.store.locked():
            state = self.store.log_state(origin)
        if state is None:
            return text_response(404, f"no checkpoint co-signed for {origin!r}")
        return Response(200, (state.checkpoint + state.cosignature).encode())

    def add_checkpoint(self, body: bytes) -> Response:
        try:
            request = parse_add_checkpoint(body)
        except MalformedRequest as error:
            logger.warning(
                "witness %s rejected a malformed request: %s", self.name, error
            )
            return text_response(400, f"malformed request: {error}")
        head = request.head
        verifier = self.store.trusted_logs().get(head.origin)
        if verifier is None:
            logger.warning(
                "witness %s rejected unknown origin %r", self.name, head.origin
            )
            return text_response(404, f"unknown origin {head.origin!r}")
        if not signed_by(request, verifier):
            logger.warning(
                "witness %s rejected checkpoint of %s size %s: no valid log signature",
                self.name,
                head.origin,
                head.size,
            )
            return text_response(403, "no valid signature by the trusted log key")
        if request.old_size > head.size:
            return text_response(
                400, f"old size {request.old_size} exceeds checkpoint size {head.size}"
            )
        if request.old_size == 0 and request.proof:
            return text_response(400, "the proof must be empty when the old size is 0")
        with self.store.locked():
            return self.check_and_cosign(request)

    def check_and_cosign(self, request: AddCheckpointRequest) -> Response:
        """Check the request against the stored state and update it; hold the lock."""
        head = request.head
        state = self.store.log_state(head.origin)
        stored_size = state.size if state else 0
        if request.old_size != stored_size:
            logger.info(
                "witness %s: %s submitted old size %s, but the latest co-signed is %s",
                self.name,
                head.origin,
                request.old_size,
                stored_size,
            )
            return Response(409, f"{stored_size}\n".encode(), SIZE_CONTENT_TYPE)
        if state is not None and head.size == state.size:
            if head.root_hash != state.root_hash:
                self.keep_evidence("root-mismatch", request, state)
                return Response(409, f"{stored_size}\n".encode(), SIZE_CONTENT_TYPE)
            if request.proof:
                return text_response(422, "the proof must be empty for equal sizes")
        elif state is not None and not merkle.verify_consistency(
            state.size, head.size, state.root_hash, head.root_hash, request.proof
        ):
            self.keep_evidence("inconsistent", request, state)
            return text_response(
                422, f"consistency proof from {state.size} to {head.size} is invalid"
            )
        # Read under the lock on every cosignature, so `rotate-key` takes
        # effect without a restart.
        key = self.store.private_key()
        line = cosign(request.text, self.name, key, int(time.time()))
        new_state = LogState(head.size, head.root_hash, request.note, line)
        self.store.save_log_state(head.origin, new_state)
        logger.info(
            "witness %s co-signed %s at size %s (was %s)",
            self.name,
            head.origin,
            head.size,
            stored_size,
        )
        if self.after_cosign is not None and self.background is not None:
            self.background.submit(self.after_cosign, head.root_hash, head.size)
        return Response(200, line.encode())

    def keep_evidence(
        self, reason: str, request: AddCheckpointRequest, state: LogState
    ) -> None:
        record: dict[str, Any] = {
            "witness": self.name,
            "origin": request.head.origin,
            "received_at": datetime.now(UTC).isoformat(),
            "cosigned_checkpoint": state.checkpoint + state.cosignature,
            "submitted_checkpoint": request.note,
            "request": {
                "old_size": request.old_size,
                "proof": [base64.b64encode(node).decode() for node in request.proof],
            },
        }
        path = self.store.keep_evidence(reason, record)
        logger.error(
            "witness %s REJECTED a conflicting checkpoint of %s (%s): co-signed "
            "size %s, submitted size %s; evidence kept in %s",
            self.name,
            request.head.origin,
            reason,
            state.size,
            request.head.size,
            path,
        )
