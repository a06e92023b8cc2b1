"""The node's side of witnessing: pushing checkpoints and which ones were co-signed.

A block counts as witnessed once `KOTACERDAS_WITNESS_QUORUM` witnesses have
co-signed its checkpoint. The witnessed checkpoint is the node's signed note
with every stored cosignature line added, in the C2SP signed-note form.

The worker job `witness-push` submits the latest block to each witness in the
C2SP `tlog-witness` form, with a consistency proof from the size that witness
co-signed last. A witness co-signs only the checkpoint it is sent, so the
blocks sealed between two pushes carry no cosignature from it. A receipt
proves inclusion against the latest witnessed block instead.
"""

import base64
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from kotacerdas.journal import services
from kotacerdas.journal.models import Block, Cosignature, Witness, WitnessKey
from kotacerdas.journal.notes import (
    COSIGNATURE_TYPE,
    SIGNATURE_PREFIX,
    NoteError,
    Verifier,
    split_note,
    verify_cosignature,
)
from kotacerdas.verify import history

logger = logging.getLogger(__name__)

# Backoff after failures: the job interval doubled per failure, capped here.
MAX_BACKOFF_S = 300.0
RECENT_BLOCKS = 10
_CHAIN_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_sessions: dict[str, requests.Session] = {}


class WitnessError(RuntimeError):
    """A witness could not be added, or did not co-sign the checkpoint it was sent."""


def quorum() -> int:
    return int(settings.KOTACERDAS_WITNESS_QUORUM)


def witnessed_note(block: Block) -> str:
    """Return the block's signed note with all its cosignature lines."""
    lines = (
        Cosignature.objects.filter(block=block)
        .order_by("witness__name")
        .values_list("line", flat=True)
    )
    return block.note + "".join(lines)


def cosignature_count(block: Block) -> int:
    return Cosignature.objects.filter(block=block).count()


def latest_witnessed_block(min_tree_size: int = 0) -> Block | None:
    """Return the latest block with a quorum of cosignatures covering `min_tree_size`."""
    return (
        Block.objects.filter(tree_size__gte=min_tree_size)
        .annotate(cosigners=Count("cosignatures"))
        .filter(cosigners__gte=quorum())
        .order_by("-height")
        .first()
    )


def cosigner_verifier(witness: Witness) -> Verifier:
    return Verifier.parse(witness.vkey, key_type=COSIGNATURE_TYPE)


def add_witness(name: str, url: str, vkey: str, chain_address: str = "") -> Witness:
    """Register a witness, or update and reactivate one with the same name and key."""
    try:
        verifier = cosigner_verifier(Witness(vkey=vkey))
    except NoteError as error:
        raise WitnessError(
            f"{error}; print it with `kotacerdas witness vkey`"
        ) from None
    if verifier.name != name:
        raise WitnessError(
            f"witness name {name!r} differs from its key's name {verifier.name!r}; "
            "use the key's name, which its cosignature lines carry"
        )
    if not url.startswith(("http://", "https://")):
        raise WitnessError(f"witness URL {url!r} must start with http:// or https://")
    if chain_address and not _CHAIN_ADDRESS.fullmatch(chain_address):
        raise WitnessError(
            f"chain address {chain_address!r} is not 0x and 40 hex digits"
        )
    if WitnessKey.objects.filter(vkey=vkey).exists():
        raise WitnessError(f"the key {vkey!r} is a retired witness key")
    with transaction.atomic():
        witness = Witness.objects.select_for_update().filter(name=name).first()
        if witness is not None and witness.vkey != vkey:
            raise WitnessError(
                f"witness {name!r} is registered with another key; if its partner "
                f"rotated the key, run `kotacerdas ledger witnesses update {name} "
                "--vkey NEW`"
            )
        try:
            witness, created = Witness.objects.update_or_create(
                name=name,
                defaults={
                    "url": url.rstrip("/"),
                    "vkey": vkey,
                    "chain_address": chain_address,
                    "active": True,
                },
            )
        except IntegrityError:
            raise WitnessError(
                f"another witness is registered with the key {vkey!r}"
            ) from None
    logger.info("%s witness %s at %s", "added" if created else "updated", name, url)
    return witness


def replace_witness_key(name: str, vkey: str) -> WitnessKey:
    """Give a witness the new key its partner rotated to, and retire the old one.

    The old key's cosignatures stay valid on checkpoints up to the largest
    tree size the node stored a cosignature of from this witness, because
    every cosignature since the previous rotation was made with it. The
    witness row is locked, so a push that verified a line with the old key
    cannot store it afterwards (record_cosignature checks the key again).
    Raises WitnessError for an invalid, reused or unchanged key.
    """
    try:
        verifier = cosigner_verifier(Witness(vkey=vkey))
    except NoteError as error:
        raise WitnessError(
            f"{error}; print it with `kotacerdas witness vkey`"
        ) from None
    if verifier.name != name:
        raise WitnessError(
            f"witness name {name!r} differs from its key's name {verifier.name!r}; "
            "the key's name must stay the witness's name"
        )
    with transaction.atomic():
        witness = Witness.objects.select_for_update().filter(name=name).first()
        if witness is None:
            raise WitnessError(
                f"witness {name!r} not found; see `kotacerdas ledger witnesses list`"
            )
        if witness.vkey == vkey:
            raise WitnessError(f"witness {name!r} already has this key")
        if (
            Witness.objects.filter(vkey=vkey).exists()
            or WitnessKey.objects.filter(vkey=vkey).exists()
        ):
            raise WitnessError(
                f"the key {vkey!r} is or was registered; a witness needs a new key"
            )
        retired = WitnessKey.objects.create(
            witness=witness,
            vkey=witness.vkey,
            last_size=last_cosigned_size(witness),
            retired_at=timezone.now(),
        )
        Witness.objects.filter(pk=witness.pk).update(
            vkey=vkey, failures=0, next_attempt_at=None, last_error=""
        )
    logger.info(
        "witness %s now uses key %s; key %s retired after size %s",
        name,
        verifier.key_id.hex(),
        cosigner_verifier(Witness(vkey=retired.vkey)).key_id.hex(),
        retired.last_size,
    )
    return retired


def last_cosigned_size(witness: Witness) -> int:
    """Return the largest tree size the node stored a cosignature of from `witness`."""
    size = (
        Cosignature.objects.filter(witness=witness)
        .order_by("-block__tree_size")
        .values_list("block__tree_size", flat=True)
        .first()
    )
    return int(size or 0)


def witness_keys(witness: Witness) -> list[history.WitnessKey]:
    """Return the witness's current key and its retired keys with their last sizes."""
    keys = [history.WitnessKey(witness.name, cosigner_verifier(witness))]
    for retired in witness.retired_keys.all():
        verifier = Verifier.parse(retired.vkey, key_type=COSIGNATURE_TYPE)
        keys.append(history.WitnessKey(witness.name, verifier, retired.last_size))
    return keys


def check_cosignature(cosignature: Cosignature) -> int:
    """Verify a stored cosignature under the witness key that made it; return its time.

    The key is the one whose key id the line carries, the current key or a
    retired one. A retired key counts only up to its last size. Raises
    NoteError.
    """
    block, witness = cosignature.block, cosignature.witness
    _, lines = split_note(block.note + cosignature.line)
    key_ids = {signer_id for name, signer_id, _ in lines if name == witness.name}
    for key in witness_keys(witness):
        if key.verifier.key_id not in key_ids:
            continue
        timestamp = verify_cosignature(block.note + cosignature.line, key.verifier)
        if not key.covers(block.tree_size):
            raise NoteError(
                f"it is made with key {key.verifier.key_id.hex()}, which was "
                f"retired after the checkpoint of {key.last_size} entries"
            )
        return timestamp
    raise NoteError(f"its key id is none of the keys of witness {witness.name!r}")


def deactivate_witness(name: str) -> bool:
    """Stop pushing to a witness; its cosignatures stay. Return False if unknown."""
    changed = Witness.objects.filter(name=name, active=True).update(active=False)
    if changed:
        logger.info("deactivated witness %s", name)
    return bool(changed) or Witness.objects.filter(name=name).exists()


def push_to_witnesses(now: datetime | None = None) -> int:
    """Submit the latest block to every due witness; return how many co-signed.

    The worker runs this every KOTACERDAS_WITNESS_INTERVAL_S. A witness that
    fails waits longer each time (up to MAX_BACKOFF_S) and never stops the
    others. A caller can pass a later `now` to skip that wait.
    """
    latest = services.latest_block()
    if latest is None:
        return 0
    now = now or timezone.now()
    due = Witness.objects.filter(active=True).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    cosigned = 0
    for witness in due:
        if (
            witness.last_size == latest.tree_size
            and witness.cosignatures.filter(block=latest).exists()
        ):
            continue
        try:
            push_checkpoint(witness, latest)
        except (WitnessError, NoteError, services.JournalError) as error:
            record_failure(witness, str(error), now)
        except requests.RequestException as error:
            record_failure(witness, f"request to {witness.url} failed: {error}", now)
        else:
            cosigned += 1
    return cosigned


def push_checkpoint(witness: Witness, block: Block) -> Cosignature:
    """Submit `block` to `witness`, verify the cosignature it returns and store it.

    On a 409 the witness states the size it last co-signed; the node takes
    that size and retries once. The same size back means the witness stored a
    different root for it, which is a fork, so the node does not retry.
    """
    verifier = cosigner_verifier(witness)
    old_size = witness.last_size
    response = submit(witness, old_size, block)
    if response.status_code == 409:
        witness_size = parse_size(witness, response)
        if witness_size == old_size:
            raise WitnessError(
                f"witness {witness.name} co-signed a different root at size "
                f"{witness_size}; compare its evidence with this ledger"
            )
        if witness_size > block.tree_size:
            raise WitnessError(
                f"witness {witness.name} co-signed size {witness_size}, beyond this "
                f"ledger's latest block at size {block.tree_size}"
            )
        logger.info(
            "witness %s co-signed size %s, not %s; resubmitting block %s",
            witness.name,
            witness_size,
            old_size,
            block.height,
        )
        response = submit(witness, witness_size, block)
    if response.status_code != 200:
        raise WitnessError(
            f"witness {witness.name} responded with status {response.status_code}: "
            f"{response.text.strip()[:200]}"
        )
    line, timestamp = verified_line(response.text, block, verifier)
    return record_cosignature(witness, block, line, timestamp)


def submit(witness: Witness, old_size: int, block: Block) -> requests.Response:
    """POST the block's checkpoint with a consistency proof from `old_size`."""
    proof: list[bytes] = []
    if 0 < old_size < block.tree_size:
        proof = services.consistency_proof(old_size, block.tree_size).path
    body = "".join(
        [
            f"old {old_size}\n",
            *(f"{base64.b64encode(node).decode()}\n" for node in proof),
            "\n",
        ]
    )
    session = _sessions.setdefault(witness.url, requests.Session())
    return session.post(
        f"{witness.url}/add-checkpoint",
        data=(body + block.note).encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
        timeout=settings.KOTACERDAS_WITNESS_TIMEOUT_S,
    )


def parse_size(witness: Witness, response: requests.Response) -> int:
    text = response.text
    if (
        response.headers.get("Content-Type", "").split(";")[0] != "text/x.tlog.size"
        or not text.endswith("\n")
        or not text[:-1].isdigit()
    ):
        raise WitnessError(
            f"witness {witness.name} responded 409 without a text/x.tlog.size body"
        )
    return int(text[:-1])


def verified_line(text: str, block: Block, verifier: Verifier) -> tuple[str, int]:
    """Return the first returned line that is a valid cosignature by `verifier`."""
    for line in text.splitlines(keepends=True):
        if not line.startswith(SIGNATURE_PREFIX) or not line.endswith("\n"):
            continue
        try:
            return line, verify_cosignature(block.note + line, verifier)
        except NoteError:
            continue
    raise WitnessError(
        f"witness {verifier.name} returned no valid cosignature for block {block.height}"
    )


def record_cosignature(
    witness: Witness, block: Block, line: str, timestamp: int
) -> Cosignature:
    now = timezone.now()
    with transaction.atomic():
        current = Witness.objects.select_for_update().get(pk=witness.pk)
        if current.vkey != witness.vkey:
            raise WitnessError(
                f"witness {witness.name} got a new key while its cosignature of "
                f"block {block.height} was checked; the next push uses the new key"
            )
        cosignature, _created = Cosignature.objects.get_or_create(
            block=block,
            witness=witness,
            defaults={"line": line, "timestamp": timestamp},
        )
        Witness.objects.filter(pk=witness.pk).update(
            last_size=block.tree_size,
            last_cosigned_at=now,
            last_attempt_at=now,
            next_attempt_at=None,
            failures=0,
            last_error="",
        )
    if witness.failures:
        logger.info(
            "witness %s responds again (it had failed %s times in a row)",
            witness.name,
            witness.failures,
        )
    logger.info(
        "witness %s co-signed block %s at size %s",
        witness.name,
        block.height,
        block.tree_size,
    )
    return cosignature


def record_failure(witness: Witness, error: str, now: datetime) -> None:
    failures = witness.failures + 1
    delay_s = min(settings.KOTACERDAS_WITNESS_INTERVAL_S * 2**failures, MAX_BACKOFF_S)
    Witness.objects.filter(pk=witness.pk).update(
        failures=failures,
        last_attempt_at=now,
        next_attempt_at=now + timedelta(seconds=delay_s),
        last_error=error[:1000],
    )
    logger.warning(
        "witness %s failed (%s in a row), retrying in %.0f s: %s",
        witness.name,
        failures,
        delay_s,
        error,
    )


def witness_rows(latest: Block | None) -> list[dict[str, Any]]:
    """Return each active witness with its last cosigned block and its lag."""
    rows = []
    for witness in Witness.objects.filter(active=True):
        last = (
            witness.cosignatures.select_related("block")
            .order_by("-block__height")
            .first()
        )
        last_block = last.block if last else None
        lag_entries = lag_s = None
        if latest is not None:
            lag_entries = latest.tree_size - (last_block.tree_size if last_block else 0)
            if last_block is not None:
                lag_s = int((latest.sealed_at - last_block.sealed_at).total_seconds())
        rows.append(
            {
                "witness": witness,
                "key_id": witness.vkey.split("+")[1] if "+" in witness.vkey else "",
                "last_block": last_block,
                "lag_entries": lag_entries,
                "lag_s": lag_s,
            }
        )
    return rows


def recent_signers() -> list[dict[str, Any]]:
    """Return the recent blocks, newest first, with the witnesses that co-signed each."""
    blocks = Block.objects.order_by("-height").prefetch_related(
        "cosignatures__witness"
    )[:RECENT_BLOCKS]
    return [
        {
            "block": block,
            "signers": sorted(c.witness.name for c in block.cosignatures.all()),
        }
        for block in blocks
    ]


def status_context(latest: Block | None) -> dict[str, Any]:
    """Return what the ledger page shows about witnesses and their lag."""
    latest_cosigners = cosignature_count(latest) if latest else 0
    return {
        "witnesses": list(Witness.objects.filter(active=True)),
        "witness_rows": witness_rows(latest),
        "witness_quorum": quorum(),
        "latest_cosigners": latest_cosigners,
        "quorum_met": latest_cosigners >= quorum(),
        "witnessed_block": latest_witnessed_block(),
        "recent_signers": recent_signers(),
    }
