"""The node's side of witnessing: which checkpoints the witnesses co-signed.

A block counts as witnessed once `KOTACERDAS_WITNESS_QUORUM` witnesses have
co-signed its checkpoint. The witnessed checkpoint is the node's signed note
with every stored cosignature line added, in the C2SP signed-note form.
"""

from typing import Any

from django.conf import settings
from django.db.models import Count

from kotacerdas.journal.models import Block, Cosignature, Witness


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


def status_context(latest: Block | None) -> dict[str, Any]:
    """Return what the ledger page shows about witnesses and their lag."""
    return {
        "witnesses": list(Witness.objects.filter(active=True)),
        "witness_quorum": quorum(),
        "latest_cosigners": cosignature_count(latest) if latest else 0,
    }
