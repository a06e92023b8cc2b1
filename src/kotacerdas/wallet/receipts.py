"""The public receipt of a transfer: the facts it shows and where its proof is.

A receipt is found by its reference (`TRX-` and ten Crockford base-32
characters, 50 random bits), and anyone who holds the reference may read it.
It therefore shows only what a payer could show anyone. Citizen names are
masked to initials and wallet numbers to their first and last four digits.
Merchants and city accounts appear by their business names. The amount, the
memo and the journal entry that proves the transfer are shown in full. The
cashier of a counter receipt is shown by role, never by name.
"""

import base64
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from kotacerdas.accounts.roles import ROLES, ROLES_BY_NAME
from kotacerdas.journal.models import Block
from kotacerdas.wallet import display
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    Channel,
    Phase,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.wallet.numbers import CROCKFORD, REFERENCE_LENGTH, REFERENCE_PREFIX

REFERENCE = re.compile(
    rf"^{re.escape(REFERENCE_PREFIX)}[{CROCKFORD}]{{{REFERENCE_LENGTH}}}$"
)
# Cash crosses the counter in these kinds of transfer, so their receipts name
# the cashier's role.
COUNTER_KINDS = {TransferKind.TOPUP, TransferKind.WITHDRAWAL, TransferKind.LEVY}
CASHIER_ROLE = "cashier"


@dataclass(frozen=True)
class Party:
    """One side of a transfer as the public may see it."""

    name: str
    number: str  # masked wallet number, or "" for a city account


@dataclass(frozen=True)
class Seal:
    """The first signed checkpoint whose tree contains the transfer's entry."""

    height: int
    tree_size: int
    root_hash_b64: str
    sealed_at: datetime
    proof_url: str


@dataclass(frozen=True)
class Counterpart:
    """The other half of a two-phase transfer: a reservation or its resolution."""

    reference: str
    phase: str
    status: str
    status_label: str
    amount: int
    created_at: datetime


@dataclass(frozen=True)
class Receipt:
    """Everything a receipt page or PDF shows, without personal data."""

    reference: str
    kind: str
    kind_label: str
    amount: int
    created_at: datetime
    channel: str
    channel_label: str
    payer: Party
    payee: Party
    memo: str
    phase: str
    status: str
    status_label: str
    expires_at: datetime | None
    # For a reservation: the post or void that resolved it, if any.
    resolved_by: Counterpart | None
    # For a post or void: the reservation it resolved.
    resolves: Counterpart | None
    entry_seq: int | None
    entry_url: str
    seal: Seal | None
    counter: bool
    cashier_role: str
    # The fee charged with this transfer, and the side that paid it.
    fee: int = 0
    fee_payer: Party | None = None


def clean_reference(text: str) -> str | None:
    """Return the reference in its stored form, or None if it cannot be one."""
    reference = (text or "").strip().upper()
    return reference if REFERENCE.match(reference) else None


def find_receipt(text: str) -> Receipt | None:
    """Return the receipt of the transfer with this reference, or None."""
    reference = clean_reference(text)
    if reference is None:
        return None
    transfer = (
        Transfer.objects.select_related(
            "debit_account__member",
            "debit_account__holder",
            "credit_account__member",
            "credit_account__holder",
            "pending",
        )
        .filter(reference=reference)
        .first()
    )
    if transfer is None:
        return None
    return build_receipt(transfer)


def build_receipt(transfer: Transfer) -> Receipt:
    counter = transfer.channel == Channel.COUNTER and transfer.kind in COUNTER_KINDS
    status = TransferStatus(transfer.status)
    if (
        transfer.phase == Phase.VOID
        and transfer.pending is not None
        and transfer.pending.status == TransferStatus.EXPIRED
    ):
        # The expiry job stores its void as voided, so the receipt shows the
        # reservation's expired status instead.
        status = TransferStatus.EXPIRED
    fee, fee_payer = linked_fee(transfer)
    return Receipt(
        reference=transfer.reference,
        kind=transfer.kind,
        kind_label=transfer.get_kind_display(),
        amount=transfer.amount,
        created_at=transfer.created_at,
        channel=transfer.channel,
        channel_label=transfer.get_channel_display(),
        payer=party(transfer.debit_account, transfer.channel),
        payee=party(transfer.credit_account, transfer.channel),
        memo=transfer.memo,
        phase=transfer.phase,
        status=status.value,
        status_label=str(status.label),
        expires_at=transfer.expires_at,
        resolved_by=_resolution(transfer),
        resolves=_counterpart(transfer.pending) if transfer.pending else None,
        entry_seq=transfer.entry_seq,
        entry_url=reverse("journal:entry", kwargs={"seq": transfer.entry_seq})
        if transfer.entry_seq is not None
        else "",
        seal=find_seal(transfer.entry_seq),
        counter=counter,
        cashier_role=cashier_role(transfer.actor) if counter else "",
        fee=fee,
        fee_payer=fee_payer,
    )


def linked_fee(transfer: Transfer) -> tuple[int, Party | None]:
    """Return the fee posted with a transfer and the side that paid it.

    The fee's parts are the `fee` transfers linked under the transfer's id.
    """
    if transfer.link_group != transfer.client_id:
        return 0, None
    parts = list(
        Transfer.objects.filter(
            link_group=transfer.client_id, kind=TransferKind.FEE
        ).select_related("debit_account__member", "debit_account__holder")
    )
    if not parts:
        return 0, None
    fee_payer = party(parts[0].debit_account, transfer.channel)
    return sum(part.amount for part in parts), fee_payer


def mask_number(number: str) -> str:
    """Keep a wallet number's first and last four digits: 8800 **** 5674."""
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]} **** {number[-4:]}"


def party(account: Account, channel: str) -> Party:
    """Name one side of a transfer the way a receipt may show it."""
    if account.kind == AccountKind.SETTLEMENT:
        # The settlement account mirrors money outside the wallet: cash in a
        # cashier's drawer or the float at the partner bank.
        if channel == Channel.COUNTER:
            return Party(_("Cash at a counter"), "")
        return Party(_("Partner bank"), "")
    if account.kind in (AccountKind.REVENUE, AccountKind.FEES):
        return Party(account.get_kind_display(), "")
    masked = mask_number(account.number)
    if account.kind == AccountKind.CITIZEN:
        if account.member_id is None and account.holder_id is None:
            return Party(_("Citizen wallet"), masked)
        return Party(display.masked_holder_name(account), masked)
    return Party(display.payee_name(account), masked)


def cashier_role(actor: str) -> str:
    """Name the role of the staff member who wrote a counter transfer."""
    prefix, _sep, user_id = (actor or "").partition(":")
    if prefix == "user" and user_id.isdecimal():
        names = set(
            Group.objects.filter(user__pk=int(user_id)).values_list("name", flat=True)
        )
        if CASHIER_ROLE in names:
            return str(ROLES_BY_NAME[CASHIER_ROLE].label)
        for role in ROLES:
            if role.name in names:
                return str(role.label)
    return _("Counter staff")


def find_seal(seq: int | None) -> Seal | None:
    """Return the first block whose tree holds entry `seq`, or None if none yet.

    The first block is used, not the latest, so the checkpoint a receipt
    names stays the same as more blocks are sealed after it.
    """
    if seq is None:
        return None
    block = Block.objects.filter(tree_size__gt=seq).order_by("tree_size").first()
    if block is None:
        return None
    proof_url = reverse("api:entry", kwargs={"seq": seq})
    return Seal(
        height=block.height,
        tree_size=block.tree_size,
        root_hash_b64=base64.b64encode(bytes(block.root_hash)).decode(),
        sealed_at=block.sealed_at,
        proof_url=f"{proof_url}?tree_size={block.tree_size}",
    )


def public_url(reference: str) -> str:
    """Return the receipt page's absolute address, which the PDF's QR code contains."""
    path = reverse("wallet:receipt", kwargs={"reference": reference})
    return settings.KOTACERDAS_PUBLIC_URL.rstrip("/") + path


def local_time(moment: datetime) -> str:
    """Format a time in the city's time zone with its abbreviation: "1 Mei 2025, 10.05 WIB"."""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} {dateformat.format(local, 'T')}"


def describe_status(receipt: Receipt) -> str:
    """Say in one sentence whether money moved, and what resolved a reservation."""
    if receipt.phase == Phase.SINGLE:
        return _("The money has moved.")
    if receipt.phase == Phase.POST:
        return _("This settles a reservation of Rp%(reserved)s.") % {
            "reserved": _grouped(receipt.resolves.amount if receipt.resolves else 0)
        }
    if receipt.phase == Phase.VOID:
        if receipt.status == TransferStatus.EXPIRED:
            return _(
                "This releases a reservation that was not posted in time; "
                "nothing moved."
            )
        return _("This releases a reservation; nothing moved.")
    return _describe_reservation(receipt)


def _describe_reservation(receipt: Receipt) -> str:
    resolution = receipt.resolved_by
    if receipt.status == TransferStatus.PENDING or resolution is None:
        if receipt.expires_at is None:
            return _("The amount is reserved and waits to be posted or voided.")
        return _(
            "The amount is reserved and waits to be posted or voided; it is "
            "released automatically at %(time)s."
        ) % {"time": local_time(receipt.expires_at)}
    time = local_time(resolution.created_at)
    if receipt.status == TransferStatus.POSTED:
        return _(
            "The amount was reserved, then Rp%(amount)s was posted at %(time)s."
        ) % {"amount": _grouped(resolution.amount), "time": time}
    if receipt.status == TransferStatus.EXPIRED:
        return _(
            "The amount was reserved, then released at %(time)s because it was "
            "not posted in time; nothing moved."
        ) % {"time": time}
    return _("The amount was reserved, then released at %(time)s; nothing moved.") % {
        "time": time
    }


def describe_seal(receipt: Receipt) -> str:
    if receipt.seal is None:
        return _("Waiting to be sealed into a block (usually within a minute).")
    return _("Sealed in block %(height)s, a tree of %(size)s entries.") % {
        "height": receipt.seal.height,
        "size": receipt.seal.tree_size,
    }


def _grouped(amount: int) -> str:
    return number_format(amount, force_grouping=True)


def _resolution(transfer: Transfer) -> Counterpart | None:
    if transfer.phase != Phase.PENDING or transfer.status == TransferStatus.PENDING:
        return None
    row = transfer.resolutions.order_by("created_at", "id").first()
    return _counterpart(row) if row is not None else None


def _counterpart(transfer: Transfer) -> Counterpart:
    return Counterpart(
        reference=transfer.reference,
        phase=transfer.phase,
        status=transfer.status,
        status_label=transfer.get_status_display(),
        amount=transfer.amount,
        created_at=transfer.created_at,
    )
