"""The journal's tables: entries, Merkle tree nodes, sealed blocks.

Rows here are written only by `journal.services`, inserted once and never
updated or deleted. Database triggers (see `journal.append_only`) reject an
UPDATE or DELETE on entries, Merkle nodes and blocks.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class JournalHead(models.Model):
    """The single row that hands out sequence numbers.

    `size` is the number of entries appended. An append locks this row, takes
    `size` as its sequence number and increments it in the same transaction, so
    numbers are gapless: a rolled-back append rolls back its increment too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(_("size"), default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="journal_head_single_row"),
            models.CheckConstraint(
                condition=Q(size__gte=0), name="journal_head_size_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"journal head at size {self.size}"


class Entry(models.Model):
    """One business event; `seq` is its leaf index in the Merkle tree.

    `body` is the RFC 8785 canonical JSON of the envelope (seq, type, version,
    time, actor, payload) and is exactly the byte string the leaf hash covers.
    """

    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    event_type = models.CharField(_("event type"), max_length=100, db_index=True)
    body = models.BinaryField(_("body"))
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=0), name="entry_seq_gte_0")
        ]

    def __str__(self) -> str:
        return f"entry {self.seq} ({self.event_type})"


class MerkleNode(models.Model):
    """A perfect subtree's hash; `key` packs (level, index), see merkle.node_key.

    Level 0 nodes are leaf hashes. Nodes are written by the sealer as soon as
    their subtree is complete and never change afterwards.
    """

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(_("hash"), max_length=32)

    def __str__(self) -> str:
        return f"Merkle node level {self.key >> 48}, index {self.key & ((1 << 48) - 1)}"


class Block(models.Model):
    """A signed checkpoint: tree size and root, chained to the previous block.

    `note` is the full C2SP signed note (checkpoint body plus signature lines);
    `block_hash` is SHA-256 of the note body, which the next block names as its
    previous hash.
    """

    height = models.BigIntegerField(_("height"), primary_key=True)
    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    prev_hash = models.BinaryField(_("previous block hash"), max_length=32)
    block_hash = models.BinaryField(_("block hash"), max_length=32, unique=True)
    sealed_at = models.DateTimeField(_("sealed at"))
    note = models.TextField(_("signed checkpoint"))

    class Meta:
        ordering = ["height"]
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(tree_size__gt=0), name="block_tree_size_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(height__gte=0), name="block_height_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(tree_size__gte=F("height") + 1),
                name="block_grows_every_height",
            ),
        ]

    def __str__(self) -> str:
        return f"block {self.height} at tree size {self.tree_size}"


class VerifyRun(models.Model):
    """The outcome of one `ledger verify` run, shown on the auditor page."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    from_block = models.BigIntegerField(_("from block"), default=0)
    entries_checked = models.BigIntegerField(_("entries checked"))
    blocks_checked = models.BigIntegerField(_("blocks checked"))
    ok = models.BooleanField(_("valid"))
    first_problem = models.TextField(_("first problem"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")

    def __str__(self) -> str:
        return f"verify run {self.started_at:%Y-%m-%d %H:%M}: {'valid' if self.ok else 'invalid'}"
