"""Read API of the journal: checkpoints, entries with proofs, consistency proofs."""

import base64
import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from kotacerdas.journal import bundles, services, witnessing
from kotacerdas.journal.models import Entry

router = Router()


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class CheckpointOut(Schema):
    origin: str
    height: int
    tree_size: int
    root_hash: str
    prev_hash: str
    sealed_at: datetime
    note: str
    journal_size: int


class InclusionOut(Schema):
    seq: int
    event_type: str
    body: dict[str, Any]
    leaf_hash: str
    tree_size: int
    proof: list[str]
    checkpoint: str


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    proof: list[str]


@router.get("/checkpoint", response=CheckpointOut, summary="Latest signed checkpoint")
def checkpoint(request: HttpRequest) -> dict[str, Any]:
    block = services.block_for_size(None)
    return {
        "origin": block.note.split("\n", 1)[0],
        "height": block.height,
        "tree_size": block.tree_size,
        "root_hash": b64(bytes(block.root_hash)),
        "prev_hash": b64(bytes(block.prev_hash)),
        "sealed_at": block.sealed_at,
        "note": block.note,
        "journal_size": services.journal_size(),
    }


@router.get("/checkpoint.txt", summary="Latest checkpoint as a signed note")
def checkpoint_text(request: HttpRequest) -> HttpResponse:
    block = services.block_for_size(None)
    return HttpResponse(block.note, content_type="text/plain; charset=utf-8")


@router.get(
    "/checkpoint/witnessed.txt",
    summary="Latest checkpoint co-signed by a quorum of witnesses, as a signed note",
)
def witnessed_checkpoint_text(request: HttpRequest) -> HttpResponse:
    block = witnessing.latest_witnessed_block()
    if block is None:
        raise services.JournalError(
            "no checkpoint has a quorum of witness cosignatures yet"
        )
    note = witnessing.witnessed_note(block)
    return HttpResponse(note, content_type="text/plain; charset=utf-8")


@router.get(
    "/entries/{seq}",
    response={200: InclusionOut},
    summary="An entry with its inclusion proof",
)
def entry(
    request: HttpRequest, seq: int, tree_size: int | None = None
) -> dict[str, Any]:
    row = Entry.objects.filter(seq=seq).first()
    if row is None:
        raise services.JournalError(f"entry {seq} not found")
    proof = services.inclusion_proof(seq, tree_size)
    return {
        "seq": seq,
        "event_type": row.event_type,
        "body": json.loads(bytes(row.body)),
        "leaf_hash": b64(proof.leaf_hash),
        "tree_size": proof.tree_size,
        "proof": [b64(node) for node in proof.path],
        "checkpoint": proof.block.note,
    }


@router.get(
    "/consistency",
    response=ConsistencyOut,
    summary="Consistency proof between two sizes",
)
def consistency(request: HttpRequest, old_size: int, new_size: int) -> dict[str, Any]:
    proof = services.consistency_proof(old_size, new_size)
    return {
        "old_size": proof.old_size,
        "new_size": proof.new_size,
        "proof": [b64(node) for node in proof.path],
    }


@router.get("/entries/{seq}/bundle", summary="An entry's receipt bundle")
def entry_bundle(request: HttpRequest, seq: int) -> dict[str, Any]:
    return bundles.build_bundle(seq)


@router.get("/keys", summary="The published keys that verify bundles")
def keys(request: HttpRequest) -> dict[str, Any]:
    return bundles.published_keys()
