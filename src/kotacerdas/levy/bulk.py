"""Paying many bills at once: the demo city, and batch files of payments.

The same checks, transfers and journal events as `services.pay_bill`, in one
transaction: the bills are locked in primary-key order, the money moves
through one `wallet.services.submit_batch`, and the payments are journalled
with one `journal.append_many`. Each payment succeeds or fails on its own,
like the transfers of a wallet batch.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.levy import services
from kotacerdas.levy.models import Bill, Payment
from kotacerdas.levy.services import LevyError
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Channel, TransferKind
from kotacerdas.wallet.services import TransferRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillPayment:
    bill_id: int
    payer_account_number: str
    amount: int
    transfer_id: str
    channel: str = Channel.APP


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment | None
    error: LevyError | None


def pay_bills(
    requests: Sequence[BillPayment], *, actor: Any = None
) -> list[PaymentResult]:
    """Pay bills, each payment on its own; return one result per request, in order.

    A request whose transfer id was already used for the same bill and
    amount returns that payment, as `services.pay_bill` does.
    """
    label = services.actor_label(actor)
    credit = services.revenue_account().number
    results: list[PaymentResult | None] = [None] * len(requests)
    with transaction.atomic():
        bills = {
            bill.pk: bill
            for bill in Bill.objects.select_for_update()
            .filter(pk__in={r.bill_id for r in requests})
            .order_by("pk")
        }
        planned = _plan(requests, bills, results)
        outcomes = wallet.submit_batch(
            [
                _transfer(request, bills[request.bill_id], credit)
                for _i, request in planned
            ],
            actor=label,
        )
        paid = []
        for (position, request), outcome in zip(planned, outcomes, strict=True):
            if outcome.error is not None:
                error = outcome.error
                field = services.TRANSFER_FIELDS.get(error.field, error.field)
                results[position] = PaymentResult(
                    None, services.field_error(field, error.message, error.code)
                )
                continue
            paid.append((position, request, outcome.transfer))
        _record(paid, bills, label, results)
    logger.info("levy batch: %d payments requested", len(requests))
    return [r for r in results if r is not None]


def _plan(
    requests: Sequence[BillPayment],
    bills: dict[int, Bill],
    results: list[PaymentResult | None],
) -> list[tuple[int, BillPayment]]:
    """Check each request against its bill; return those to send to the wallet."""
    owed = {bill.pk: bill.outstanding for bill in bills.values()}
    known = {
        payment.transfer.client_id: payment
        for payment in Payment.objects.select_related("transfer").filter(
            transfer__client_id__in=[r.transfer_id for r in requests]
        )
    }
    planned = []
    for position, request in enumerate(requests):
        bill = bills.get(request.bill_id)
        try:
            if bill is None:
                raise services.field_error(
                    "bill",
                    _("No bill has the id %(id)s.") % {"id": request.bill_id},
                    "not_found",
                )
            reused = services.reuse_payment(
                known.get(request.transfer_id),
                request.transfer_id,
                bill,
                request.amount,
            )
            if reused is not None:
                results[position] = PaymentResult(reused, None)
                continue
            amount = services.whole_rupiah(
                request.amount, "amount", minimum=1, maximum=wallet.MAX_AMOUNT
            )
            services.check_payable(bill, amount, owed[bill.pk])
        except LevyError as error:
            results[position] = PaymentResult(None, error)
            continue
        owed[bill.pk] -= amount
        planned.append((position, replace(request, amount=amount)))
    return planned


def _transfer(request: BillPayment, bill: Bill, credit: str) -> TransferRequest:
    return TransferRequest(
        id=request.transfer_id,
        debit=request.payer_account_number,
        credit=credit,
        amount=request.amount,
        kind=TransferKind.LEVY,
        channel=request.channel,
        memo=bill.number,
    )


def _record(
    paid: list[tuple[int, BillPayment, Any]],
    bills: dict[int, Bill],
    label: str | None,
    results: list[PaymentResult | None],
) -> None:
    """Apply the paid amounts to the bills, journal them and store the payments."""
    events = []
    for _position, request, transfer in paid:
        bill = bills[request.bill_id]
        bill.paid_amount += request.amount
        bill.status = services.bill_status(bill.amount, bill.paid_amount)
        event = services.payment_event(bill, transfer, request.amount, request.channel)
        events.append(("levy.payment.recorded", event))

    entries = journal.append_many(events, actor=label)
    payments = [
        Payment(
            bill_id=request.bill_id,
            transfer=transfer,
            payer_account_id=transfer.debit_account_id,
            amount=request.amount,
            channel=request.channel,
            actor=label or "",
            entry_seq=entry.seq,
        )
        for (_position, request, transfer), entry in zip(paid, entries, strict=True)
    ]
    Payment.objects.bulk_create(payments, batch_size=1000)
    _save_bills([bills[pk] for pk in sorted({r.bill_id for _p, r, _t in paid})])

    for (position, _request, _transfer), payment in zip(paid, payments, strict=True):
        results[position] = PaymentResult(payment, None)


def _save_bills(bills: list[Bill]) -> None:
    # Most bills of a batch end in a few (paid amount, status) pairs, so one
    # update per pair is much faster than a row-by-row bulk_update.
    states: dict[tuple[int, str], list[int]] = {}
    for bill in bills:
        states.setdefault((bill.paid_amount, bill.status), []).append(bill.pk)
    for (paid_amount, status), bill_ids in states.items():
        Bill.objects.filter(pk__in=bill_ids).update(
            paid_amount=paid_amount, status=status
        )
