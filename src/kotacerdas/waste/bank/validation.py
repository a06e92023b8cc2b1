"""Validating a deposit's sorting: post the accepted items, or void it.

Partial posting: the teller may reject single items (wet cardboard among
clean PET). The wallet then posts only the accepted items' value out of the
reservation and releases the rest; rejected items are neither paid nor
stocked. Rejecting every item voids the deposit with a reason.
"""

import logging
from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Transfer, TransferStatus
from kotacerdas.waste.bank import events
from kotacerdas.waste.bank.models import Deposit
from kotacerdas.waste.bank.services import (
    actor_of,
    fail,
    require_teller,
    transfer_id_for,
)

logger = logging.getLogger(__name__)


def validate_deposit(
    deposit: Deposit,
    teller: Any,
    *,
    rejected_items: Collection[int] = (),
    reason: str = "",
) -> Deposit:
    """Post a pending deposit's accepted items to the member's wallet.

    `rejected_items` are positions (from 0) in the deposit's item order. When
    every item is rejected, or the accepted ones are worth Rp0, the deposit is
    voided with `reason` instead. A hold the wallet already expired marks the
    deposit voided with reason "expired" and raises BankError.
    """
    require_teller(teller, deposit.unit)
    items = list(deposit.items.order_by("id"))
    rejected = set(rejected_items)
    if not rejected <= set(range(len(items))):
        raise fail("rejected_items", _("Reject only items of this deposit."))
    accepted_value = sum(
        item.value for position, item in enumerate(items) if position not in rejected
    )
    if accepted_value == 0:
        return void_deposit(deposit, teller, reason=reason)

    try:
        with transaction.atomic():
            locked = _lock_pending(deposit)
            posted = wallet.post_pending(
                id=transfer_id_for(locked.client_id, "post"),
                pending_id=locked.pending_transfer.client_id,
                amount=accepted_value,
                actor=actor_of(teller),
            )
            for position, item in enumerate(items):
                if position in rejected:
                    item.accepted = False
                    item.save(update_fields=["accepted"])
            _finish(locked, Deposit.Status.POSTED, posted, teller, accepted_value)
            journal.append(
                "wastebank.deposit.posted",
                events.DepositPosted(
                    deposit_id=locked.pk,
                    transfer_client_id=posted.client_id,
                    rejected_items=sorted(rejected),
                    posted_value=accepted_value,
                ),
                actor=actor_of(teller),
            )
    except wallet.TransferRejected as error:
        if error.code == "pending_expired":
            close_expired(deposit)
            raise fail(
                "deposit",
                _(
                    "The hold on this deposit timed out, so nothing was credited. "
                    "Weigh the material in again as a new deposit."
                ),
                error.code,
            ) from None
        raise fail("deposit", error.message, error.code) from None
    logger.info("waste bank deposit posted id=%s", deposit.pk)
    return locked


def void_deposit(deposit: Deposit, teller: Any, *, reason: str) -> Deposit:
    """Release a pending deposit's hold: the member gets nothing for it."""
    require_teller(teller, deposit.unit)
    if reason not in Deposit.Reason.values or reason == Deposit.Reason.EXPIRED:
        raise fail(
            "reason",
            _("Choose why the deposit is rejected."),
            "missing_reason",
        )
    try:
        with transaction.atomic():
            locked = _lock_pending(deposit)
            voided = wallet.void_pending(
                id=transfer_id_for(locked.client_id, "void"),
                pending_id=locked.pending_transfer.client_id,
                actor=actor_of(teller),
            )
            locked.reason = reason
            for item in locked.items.all():
                item.accepted = False
                item.save(update_fields=["accepted"])
            _finish(locked, Deposit.Status.VOIDED, voided, teller, 0)
            _journal_void(locked, voided, reason, actor_of(teller))
    except wallet.TransferRejected as error:
        raise fail("deposit", error.message, error.code) from None
    logger.info("waste bank deposit voided id=%s", deposit.pk)
    return locked


def close_expired(deposit: Deposit | None = None, limit: int = 200) -> int:
    """Mark pending deposits whose wallet hold expired as voided; return how many.

    Runs as a worker job; the wallet's own expiry job voids the holds. Without
    `deposit` it looks at up to `limit` deposits.
    """
    due = Deposit.objects.filter(
        status=Deposit.Status.PENDING,
        pending_transfer__status__in=[TransferStatus.EXPIRED, TransferStatus.VOIDED],
    )
    if deposit is not None:
        due = due.filter(pk=deposit.pk)
    closed = 0
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            locked = Deposit.objects.select_for_update().get(pk=pk)
            if locked.status != Deposit.Status.PENDING:
                continue
            expiry = Transfer.objects.filter(pending=locked.pending_transfer).first()
            locked.reason = Deposit.Reason.EXPIRED
            locked.items.update(accepted=False)
            _finish(locked, Deposit.Status.VOIDED, expiry, None, 0)
            _journal_void(locked, expiry, Deposit.Reason.EXPIRED, "system")
            closed += 1
    if closed:
        logger.info("closed %d waste bank deposits whose hold expired", closed)
    return closed


def _lock_pending(deposit: Deposit) -> Deposit:
    locked = (
        Deposit.objects.select_for_update()
        .select_related("pending_transfer")
        .get(pk=deposit.pk)
    )
    if locked.status != Deposit.Status.PENDING:
        raise fail(
            "deposit",
            _("This deposit is already %(status)s.")
            % {"status": locked.get_status_display().lower()},
            "not_pending",
        )
    return locked


def _finish(
    deposit: Deposit,
    status: str,
    transfer: Transfer | None,
    teller: Any,
    posted_value: int,
) -> None:
    deposit.status = status
    deposit.resolution_transfer = transfer
    deposit.posted_value = posted_value
    deposit.validated_at = timezone.now()
    deposit.validated_by = teller
    deposit.save(
        update_fields=[
            "status",
            "resolution_transfer",
            "posted_value",
            "validated_at",
            "validated_by",
            "reason",
        ]
    )


def _journal_void(
    deposit: Deposit, transfer: Transfer | None, reason: str, actor: str | None
) -> None:
    journal.append(
        "wastebank.deposit.voided",
        events.DepositVoided(
            deposit_id=deposit.pk,
            transfer_client_id=transfer.client_id if transfer else "",
            reason=reason,
        ),
        actor=actor,
    )
