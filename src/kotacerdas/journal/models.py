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


class Witness(models.Model):
    """A partner's witness, which the node requests to co-sign each new checkpoint.

    `vkey` is the witness's cosigner verifier key (C2SP signed-note vkey with
    signature type 0x04). `last_size` is the tree size the witness last
    co-signed for us, as far as the node knows; the witness's own state is the
    authority, and a 409 answer corrects this value.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    url = models.URLField(_("submission URL prefix"), max_length=500)
    vkey = models.CharField(_("verifier key"), max_length=400, unique=True)
    chain_address = models.CharField(
        _("chain address"), max_length=42, blank=True, default=""
    )
    active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    last_size = models.BigIntegerField(_("last co-signed size"), default=0)
    last_cosigned_at = models.DateTimeField(
        _("last co-signed at"), null=True, blank=True
    )
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        ordering = ["name"]
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_size__gte=0), name="witness_last_size_gte_0"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """One witness's C2SP `cosignature/v1` line on one block's checkpoint."""

    block = models.ForeignKey(
        Block, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.ForeignKey(
        Witness, on_delete=models.PROTECT, related_name="cosignatures"
    )
    timestamp = models.BigIntegerField(_("cosignature time"))
    line = models.TextField(_("signature line"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["block_id", "witness_id"]
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        constraints = [
            models.UniqueConstraint(
                fields=["block", "witness"], name="cosignature_one_per_witness"
            )
        ]

    def __str__(self) -> str:
        return f"cosignature by {self.witness_id} on block {self.block_id}"


class NodeKey(models.Model):
    """One Ed25519 key the node signs checkpoints with, in rotation order.

    Rows exist once the key was first rotated; before that, the key file is
    the only key. A key signs the blocks from `first_height` up to the block
    before the next key's first block. Until its first block is sealed the key
    is pending: `first_height` and `first_size` are null, and its first block
    is searched among the blocks after `after_height`, the latest block when
    the key was installed. Private keys stay in files; this table holds only
    public verifier keys.
    """

    vkey = models.CharField(_("verifier key"), max_length=400, unique=True)
    installed_at = models.DateTimeField(_("installed at"))
    after_height = models.BigIntegerField(
        _("latest block when installed"), null=True, blank=True
    )
    first_height = models.BigIntegerField(
        _("first block signed"), null=True, blank=True, unique=True
    )
    first_size = models.BigIntegerField(
        _("tree size of the first block signed"), null=True, blank=True, unique=True
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("node key")
        verbose_name_plural = _("node keys")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_height__isnull=True, first_size__isnull=True)
                | Q(first_height__gte=0, first_size__gt=0),
                name="node_key_first_block_complete",
            )
        ]

    def __str__(self) -> str:
        return f"node key {self.vkey.split('+')[1] if '+' in self.vkey else self.vkey}"


class WitnessKey(models.Model):
    """A witness's cosigner key that was replaced by a newer one.

    Its cosignatures stay valid on checkpoints up to `last_size`, the largest
    tree size the node stored a cosignature of with this key. The witness's
    current key is `Witness.vkey`.
    """

    witness = models.ForeignKey(
        Witness, on_delete=models.PROTECT, related_name="retired_keys"
    )
    vkey = models.CharField(_("verifier key"), max_length=400, unique=True)
    last_size = models.BigIntegerField(_("last co-signed size with this key"))
    retired_at = models.DateTimeField(_("retired at"))

    class Meta:
        ordering = ["witness_id", "retired_at"]
        verbose_name = _("retired witness key")
        verbose_name_plural = _("retired witness keys")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_size__gte=0), name="witness_key_last_size_gte_0"
            )
        ]

    def __str__(self) -> str:
        return f"retired key of witness {self.witness_id}"


class ChainDeployment(models.Model):
    """The anchor contract as deployed on one chain.

    `genesis_hash` contains the chain's identity (`journal.chain.Chain.identity`:
    the hash of block 1, taken after the deployment). It distinguishes a reset
    chain, such as a restarted in-process chain or a wiped anvil, from the one
    the contract was deployed on. The column keeps its first name, chosen
    before anvil was seen to make a new block 0 on some restarts.
    """

    chain_id = models.BigIntegerField(_("chain id"))
    genesis_hash = models.CharField(
        _("chain identity (hash of block 1)"), max_length=66
    )
    address = models.CharField(_("contract address"), max_length=42)
    deploy_tx = models.CharField(_("deployment transaction"), max_length=66)
    partners = models.JSONField(_("partner addresses"), default=list)
    threshold = models.PositiveSmallIntegerField(_("attestations needed"))
    in_process = models.BooleanField(_("in-process development chain"), default=False)
    deployed_at = models.DateTimeField(_("deployed at"), auto_now_add=True)

    class Meta:
        ordering = ["-deployed_at"]
        verbose_name = _("chain deployment")
        verbose_name_plural = _("chain deployments")
        constraints = [
            models.UniqueConstraint(
                fields=["chain_id", "genesis_hash", "address"],
                name="chain_deployment_unique",
            )
        ]

    def __str__(self) -> str:
        return f"anchor contract {self.address} on chain {self.chain_id}"


class Anchor(models.Model):
    """One `attest(root, size)` transaction for a block, and what became of it."""

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        CONFIRMED = "confirmed", _("confirmed")
        REVERTED = "reverted", _("reverted")
        FAILED = "failed", _("failed")

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="anchors")
    deployment = models.ForeignKey(
        ChainDeployment, on_delete=models.PROTECT, related_name="anchors"
    )
    sender = models.CharField(_("sender address"), max_length=42)
    nonce = models.BigIntegerField(_("nonce"))
    tx_hash = models.CharField(_("transaction hash"), max_length=66, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SENT
    )
    chain_block_number = models.BigIntegerField(
        _("chain block number"), null=True, blank=True
    )
    chain_block_hash = models.CharField(
        _("chain block hash"), max_length=66, blank=True, default=""
    )
    gas_used = models.BigIntegerField(_("gas used"), null=True, blank=True)
    final = models.BooleanField(_("final on the chain"), default=False)
    error = models.TextField(_("error"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(
        _("latency in milliseconds"), null=True, blank=True
    )

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("anchor")
        verbose_name_plural = _("anchors")
        indexes = [models.Index(fields=["block", "status"])]

    def __str__(self) -> str:
        return f"anchor of block {self.block_id} in {self.tx_hash}"
