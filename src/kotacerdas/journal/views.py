"""Ledger pages: the public status page and an entry with its proof.

Checkpoints, hashes and event payloads contain no personal data, so anyone may
read them. That lets a citizen check a receipt without trusting the server.
"""

import base64
import json

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kotacerdas.journal import anchoring, services, witnessing
from kotacerdas.journal.keys import SigningKeyError, node_verifier_key
from kotacerdas.journal.models import Block, Entry, VerifyRun


def ledger_status(request: HttpRequest) -> HttpResponse:
    """Serve the ledger status page, or only its live panel to HTMX polling."""
    block = services.latest_block()
    size = services.journal_size()
    try:
        vkey = node_verifier_key()
    except SigningKeyError:
        vkey = ""
    context = {
        "latest": block,
        "root_b64": base64.b64encode(bytes(block.root_hash)).decode() if block else "",
        "age_s": int((timezone.now() - block.sealed_at).total_seconds())
        if block
        else None,
        "journal_size": size,
        "waiting": size - (block.tree_size if block else 0),
        "recent_blocks": Block.objects.order_by("-height")[:10],
        "last_verify": VerifyRun.objects.first(),
        "event_counts": Entry.objects.values("event_type")
        .annotate(count=Count("seq"))
        .order_by("event_type"),
        "verifier_key": vkey,
        **witnessing.status_context(block),
        **anchoring.status_context(),
    }
    is_htmx = bool(getattr(request, "htmx", False))
    template = "journal/partials/status.html" if is_htmx else "journal/status.html"
    return render(request, template, context)


def entry_detail(request: HttpRequest, seq: int) -> HttpResponse:
    entry = Entry.objects.filter(seq=seq).first()
    if entry is None:
        raise Http404
    proof = None
    block = services.latest_block()
    if block is not None and seq < block.tree_size:
        proof = services.inclusion_proof(seq)
    body = json.loads(bytes(entry.body))
    context = {
        "entry": entry,
        "body_pretty": json.dumps(body, indent=2, ensure_ascii=False),
        "proof": proof,
        "proof_b64": [base64.b64encode(node).decode() for node in proof.path]
        if proof
        else [],
        "leaf_b64": base64.b64encode(proof.leaf_hash).decode() if proof else "",
    }
    return render(request, "journal/entry.html", context)
