"""Receipt bundles: one entry with the proof that it is in a witnessed checkpoint.

A bundle (format kotacerdas-bundle/v1, see docs/receipts.md) contains the entry
body, its inclusion proof, the witnessed checkpoint note and the chain anchor
of that checkpoint if one is confirmed. With the published keys, anyone can
verify it offline with `python -m kotacerdas.verify`. Bundles contain only
journal entries, which the journal keeps free of personal data on append.
"""

import base64
from typing import Any

from django.conf import settings
from django.db.models import Count

from kotacerdas.journal import services, witnessing
from kotacerdas.journal.keys import latest_log_key, node_key_history
from kotacerdas.journal.models import Anchor, Block, ChainDeployment, Entry, Witness
from kotacerdas.verify.bundle import BUNDLE_FORMAT, KEYS_FORMAT
from kotacerdas.verify.payload import (
    MAX_QR_PAYLOAD,
    PayloadError,
    decode_payload,
    encode_payload,
)

__all__ = [
    "BundleNotReady",
    "PayloadError",
    "build_bundle",
    "bundle_qr_payload",
    "decode_qr_payload",
    "published_keys",
]


class BundleNotReady(services.JournalError):
    """The entry exists but no checkpoint covers it yet."""


def checkpoint_block(seq: int) -> Block | None:
    """Return the block a bundle of entry `seq` proves against, or None.

    The first choice is the latest block that contains the entry and has both a
    quorum of cosignatures and a confirmed anchor. The next is the latest
    witnessed block, and the last the latest block, if its tree contains the
    entry. The anchor job
    runs less often than blocks are sealed, so the latest witnessed block
    usually has no anchor yet, while a slightly older one does.
    """
    anchored = (
        Block.objects.filter(
            tree_size__gt=seq,
            height__in=Anchor.objects.filter(status=Anchor.Status.CONFIRMED).values(
                "block_id"
            ),
        )
        .annotate(cosigners=Count("cosignatures", distinct=True))
        .filter(cosigners__gte=witnessing.quorum())
        .order_by("-height")
        .first()
    )
    if anchored is not None:
        return anchored
    witnessed = witnessing.latest_witnessed_block(seq + 1)
    if witnessed is not None:
        return witnessed
    latest = services.latest_block()
    return latest if latest is not None and latest.tree_size > seq else None


def anchor_of(block: Block) -> dict[str, Any] | None:
    """Return the block's confirmed anchor in bundle form, the final one first."""
    anchor = (
        Anchor.objects.filter(block=block, status=Anchor.Status.CONFIRMED)
        .select_related("deployment")
        .order_by("-final", "confirmed_at")
        .first()
    )
    if anchor is None:
        return None
    return {
        "chain_id": anchor.deployment.chain_id,
        "contract": anchor.deployment.address,
        "tx": anchor.tx_hash,
        "block_number": anchor.chain_block_number,
        "final": anchor.final,
    }


def build_bundle(seq: int) -> dict[str, Any]:
    """Return the bundle of entry `seq`; raise JournalError if it cannot exist yet."""
    body = Entry.objects.filter(seq=seq).values_list("body", flat=True).first()
    if body is None:
        raise services.JournalError(f"entry {seq} not found")
    block = checkpoint_block(seq)
    if block is None:
        raise BundleNotReady(
            f"entry {seq} is not in a sealed checkpoint yet; "
            "wait for the next checkpoint and try again"
        )
    proof = services.inclusion_proof(seq, block.tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "origin": settings.KOTACERDAS_LEDGER_ORIGIN,
        "entry": {"index": seq, "body": bytes(body).decode()},
        "proof": [base64.b64encode(node).decode() for node in proof.path],
        "checkpoint": witnessing.witnessed_note(block),
        "anchor": anchor_of(block),
    }


def bundle_qr_payload(
    bundle: dict[str, Any], seq: int, limit: int = MAX_QR_PAYLOAD
) -> str:
    """Return the KCB1 payload of a bundle, or the verify page URL if it is too long."""
    payload = encode_payload(bundle)
    if len(payload) <= limit:
        return payload
    return f"{settings.KOTACERDAS_PUBLIC_URL.rstrip('/')}/verify/?entry={seq}"


def decode_qr_payload(text: str) -> dict[str, Any]:
    """Return the bundle in a KCB1 payload; raise PayloadError for anything else."""
    return decode_payload(text)


def published_keys() -> dict[str, Any]:
    """Return the keys a verifier needs: the log keys, the active witnesses, the quorum.

    `log` is the key of the latest checkpoint, which verifiers that predate
    key rotation read. `log_keys` is the whole history with the tree sizes
    each key signs, including a newly installed key that has signed nothing
    yet. A witness's `retired_keys` are its replaced keys with the largest
    tree size each co-signed.
    """
    deployment = ChainDeployment.objects.order_by("-deployed_at").first()
    history = node_key_history()
    return {
        "format": KEYS_FORMAT,
        "origin": settings.KOTACERDAS_LEDGER_ORIGIN,
        "log": latest_log_key(history).vkey,
        "log_keys": [key.to_json() for key in history.keys],
        "witnesses": [
            witness_keys(witness)
            for witness in Witness.objects.filter(active=True)
            .order_by("name")
            .prefetch_related("retired_keys")
        ],
        "quorum": witnessing.quorum(),
        "chain": (
            {"chain_id": deployment.chain_id, "contract": deployment.address}
            if deployment
            else None
        ),
    }


def witness_keys(witness: Witness) -> dict[str, Any]:
    """Return one witness as an item of the keys file's `witnesses`."""
    item: dict[str, Any] = {"name": witness.name, "vkey": witness.vkey}
    retired = [
        {"vkey": key.vkey, "last_size": key.last_size}
        for key in witness.retired_keys.all()
    ]
    if retired:
        item["retired_keys"] = retired
    return item


def entry_qr_payload(seq: int) -> str | None:
    """Return the QR payload of entry `seq`'s bundle, or None before it is sealed."""
    try:
        return bundle_qr_payload(build_bundle(seq), seq)
    except BundleNotReady:
        return None
