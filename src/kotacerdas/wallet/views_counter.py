"""The cashier's counter: cash-in, cash-out, counter receipts and the day's cash.

Each counter transfer records the cashier as its actor ("user:<id>"), which is
how the day list finds a cashier's own transfers and how a receipt page
refuses another cashier's reference. A cash-out needs the citizen's PIN,
typed by the citizen on the counter's device.
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.pilot.switch import ServiceOff
from kotacerdas.sharing import schedule
from kotacerdas.wallet import display, fees, flows, receipts, services
from kotacerdas.wallet.flows import FlowError
from kotacerdas.wallet.forms import (
    CounterConfirmForm,
    CounterDayForm,
    CounterForm,
    apply_error,
)
from kotacerdas.wallet.models import Account, Channel, Transfer, TransferKind
from kotacerdas.wallet.services import TransferRejected, TransferRequest
from kotacerdas.wallet.views_citizen import show_rejection, wallet_view

# The amount and the wallet number are hidden on the confirmation form, so
# the core's errors on them show above it.
CONFIRM_FIELDS = {"credit": "", "debit": "", "amount": "", "id": ""}


def _row(transfer: Transfer) -> dict[str, Any]:
    account = flows.counter_wallet_of(transfer)
    return {
        "transfer": transfer,
        "number": flows.format_number(account.number),
        "holder": display.payee_name(account),
        "cash_in": transfer.kind != TransferKind.WITHDRAWAL,
    }


@wallet_view("wallet.operate_counter")
def counter_home(request: HttpRequest) -> HttpResponse:
    """Serve the cashier's day: counter transfers and the cash to hand over."""
    form = CounterDayForm(request.GET or None)
    day = timezone.localdate()
    if form.is_bound and form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    summary = flows.counter_day(request.user, day)
    context = {
        "form": form,
        "summary": summary,
        "rows": [_row(t) for t in summary.transfers],
        "is_today": day == timezone.localdate(),
        "withdrawal_blocked": flows.blocked_message(TransferKind.WITHDRAWAL),
    }
    return render(request, "wallet/counter.html", context)


@wallet_view("wallet.operate_counter")
def cash_in(request: HttpRequest) -> HttpResponse:
    return _counter_flow(request, TransferKind.TOPUP)


@wallet_view("wallet.operate_counter")
def cash_out(request: HttpRequest) -> HttpResponse:
    return _counter_flow(request, TransferKind.WITHDRAWAL)


def _counter_flow(request: HttpRequest, kind: str) -> HttpResponse:
    """Take a counter transfer in two steps: the wallet and amount, then confirm."""
    blocked = flows.blocked_message(kind)
    if blocked:
        return _form_page(request, kind, None, blocked=blocked)
    if request.method != "POST":
        return _form_page(request, kind, CounterForm())
    review = CounterForm(request.POST)
    if not review.is_valid():
        return _form_page(request, kind, review)
    try:
        account = flows.counter_wallet(review.cleaned_data["number"])
    except FlowError as error:
        apply_error(review, error.field, error.message)
        return _form_page(request, kind, review)
    try:
        # A counter serves every area, but only for wallets where the service runs.
        require_at(Service.WALLET, account)
    except ServiceOff as error:
        apply_error(review, "number", str(error))
        return _form_page(request, kind, review)

    needs_pin = kind == TransferKind.WITHDRAWAL
    if request.POST.get("step") != "confirm":
        form = CounterConfirmForm(
            initial={**review.cleaned_data, "transfer_id": flows.new_transfer_id()},
            needs_pin=needs_pin,
        )
        return _confirm_page(
            request, kind, form, account, review.cleaned_data["amount"]
        )
    form = CounterConfirmForm(request.POST, needs_pin=needs_pin)
    if form.is_valid():
        try:
            transfer = _carry_out(request, kind, account, form.cleaned_data)
        except FlowError as error:
            apply_error(form, error.field, error.message, CONFIRM_FIELDS)
        except TransferRejected as error:
            show_rejection(form, error, CONFIRM_FIELDS)
        else:
            return redirect("wallet:counter_receipt", reference=transfer.reference)
    return _confirm_page(request, kind, form, account, review.cleaned_data["amount"])


def _carry_out(
    request: HttpRequest, kind: str, account: Account, data: dict[str, Any]
) -> Transfer:
    """Move the cash amount, checking the citizen's PIN first for a cash-out."""
    amount, transfer_id = data["amount"], data["transfer_id"]
    if kind == TransferKind.TOPUP:
        return flows.cash_in(account, amount, transfer_id, request.user)
    withdrawal = flows.cash_out_request(account, amount, transfer_id)
    stored = flows.already_done(withdrawal)
    if stored is not None:
        return stored
    # NOTE: the counter checks the PIN only, not the step-up password,
    # because the cashier sees the citizen and hands over the cash in person.
    flows.check_pin(account.holder, data["pin"])
    return services.submit(withdrawal, actor=flows.actor_of(request.user))


def _form_page(
    request: HttpRequest, kind: str, form: CounterForm | None, *, blocked: str = ""
) -> HttpResponse:
    context = {"form": form, "kind": kind, "blocked": blocked}
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, "wallet/counter_form.html", context, status=status)


def _confirm_page(
    request: HttpRequest,
    kind: str,
    form: CounterConfirmForm,
    account: Account,
    amount: int,
) -> HttpResponse:
    context = {
        "form": form,
        "kind": kind,
        "holder": display.payee_name(account),
        "number": flows.format_number(account.number),
        "amount": amount,
        **_fee_preview(kind, account, amount),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "wallet/counter_confirm.html", context, status=status)


def _fee_preview(kind: str, account: Account, amount: int) -> dict[str, Any]:
    """Return the fee the counter transfer would bear today, for the confirm step.

    Uses `fees.plan_fee`, the function `services.submit` runs, so the page
    shows the fee that the receipt will show unless the schedule changes
    before the cashier confirms.
    """
    if kind == TransferKind.TOPUP:
        request = TransferRequest(
            id="counter-fee-preview",
            debit=services.settlement_account().number,
            credit=account.number,
            amount=amount,
            kind=kind,
            channel=Channel.COUNTER,
        )
    else:
        request = flows.cash_out_request(account, amount, "counter-fee-preview")
    plan = fees.plan_fee(request, timezone.localdate())
    if plan is None:
        return {"fee": 0}
    fee = plan.event.fee_amount
    wallet_pays = plan.bearer.pk == account.pk
    if not wallet_pays:
        payer = _("the city") if plan.fee.bearer == schedule.CITY else _("the merchant")
        return {"fee": fee, "fee_payer": payer}
    if kind == TransferKind.TOPUP:
        return {
            "fee": fee,
            "fee_payer": _("the wallet holder"),
            "total_label": _("The wallet receives"),
            "total": amount - fee,
        }
    return {
        "fee": fee,
        "fee_payer": _("the wallet holder"),
        "total_label": _("Total taken from the wallet"),
        "total": amount + fee,
    }


@wallet_view("wallet.operate_counter")
def counter_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    """Serve the printable receipt of one of this cashier's counter transfers."""
    transfer = flows.counter_transfers(request.user).filter(reference=reference).first()
    if transfer is None:
        raise Http404("no counter transfer of this cashier has this reference")
    context = {
        **_row(transfer),
        "cashier": request.user.get_username(),
        "receipt_url": flows.receipt_url(transfer.reference),
        "fee": receipts.linked_fee(transfer)[0],
    }
    return render(request, "wallet/counter_receipt.html", context)
