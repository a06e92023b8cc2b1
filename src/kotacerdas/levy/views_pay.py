"""Paying levy bills: citizens from their wallet, cashiers in cash at a counter.

A citizen (`wallet.use_wallet`) lists and pays only the bills of the household
her registry member belongs to; any other bill is "not found". The payment
PIN is checked before the payment's transaction, so a wrong try counts even
though nothing is paid. A cashier (`wallet.operate_counter`) finds bills by
bill number or plate code and takes cash for any of them.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kotacerdas.levy import queries, services
from kotacerdas.levy.forms import (
    CounterPayForm,
    CounterSearchForm,
    PayForm,
    apply_errors,
)
from kotacerdas.levy.models import Bill, Payment
from kotacerdas.levy.services import FieldError, LevyError
from kotacerdas.levy.views import levy_page
from kotacerdas.pilot.areas import enabled_at, require_at
from kotacerdas.pilot.services import Service
from kotacerdas.registry.models import Member
from kotacerdas.wallet import pins
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.display import mask_name, rupiah

CITIZEN = "wallet.use_wallet"
COUNTER = "wallet.operate_counter"
COUNTER_PROBLEMS = {
    "malformed": gettext_lazy(
        "This is neither a bill number nor a plate code. Check what you typed."
    ),
    "forged": gettext_lazy("This QR code is not a genuine plate of the city."),
    "unknown": gettext_lazy("No bill or building has this number or code."),
}


def _paid_message(payment: Payment) -> str:
    bill = payment.bill
    if bill.status == Bill.Status.PAID:
        return _(
            "Paid %(amount)s on bill %(number)s; the bill is now paid in full."
        ) % {
            "amount": rupiah(payment.amount),
            "number": bill.number,
        }
    return _("Paid %(amount)s on bill %(number)s; %(left)s is still owed.") % {
        "amount": rupiah(payment.amount),
        "number": bill.number,
        "left": rupiah(bill.outstanding),
    }


def _paid_with_receipt(payment: Payment) -> str:
    """Return the paid message with a link to the payment's public receipt."""
    url = reverse("wallet:receipt", kwargs={"reference": payment.transfer.reference})
    return format_html(
        '{} <a href="{}" data-testid="receipt-link">{}</a>',
        _paid_message(payment),
        url,
        _("Open the receipt"),
    )


# Citizens ----------------------------------------------------------------------------


@levy_page(CITIZEN)
def my_bills(request: HttpRequest) -> HttpResponse:
    bills = queries.bills_of_user(request.user).order_by("-month", "number")
    bills = bills.select_related("building")
    unpaid = [bill for bill in bills if bill.status in queries.UNPAID]
    # login_required makes request.user a User.
    active = Member.objects.filter(status=Member.Status.ACTIVE)
    linked = active.filter(user=request.user).exists()  # type: ignore[misc]
    context = {
        "linked": linked,
        "unpaid": unpaid,
        "settled": [bill for bill in bills if bill.status not in queries.UNPAID],
        "owed": sum(bill.outstanding for bill in unpaid),
    }
    return render(request, "levy/my_bills.html", context)


@levy_page(CITIZEN)
def pay_bill(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = get_object_or_404(queries.bills_of_user(request.user), pk=bill_id)
    # The bill and its payments stay readable; only paying by wallet stops.
    if request.method == "POST":
        require_at(Service.LEVY_WALLET, bill)
    account = wallet.wallet_for(request.user)
    form = PayForm(
        request.POST if request.method == "POST" else None,
        initial={"amount": bill.outstanding},
    )
    if form.is_valid() and _pin_ok(request, form):
        try:
            payment = services.pay_from_wallet(
                bill,
                request.user,
                amount=form.cleaned_data["amount"],
                transfer_id=form.cleaned_data["transfer_id"],
            )
        except LevyError as error:
            apply_errors(form, error.errors)
        else:
            messages.success(request, _paid_with_receipt(payment))
            return redirect("levy:my_bills")
    context = {
        "bill": bill,
        "form": form,
        "account": account,
        "payable": bill.status in queries.UNPAID
        and enabled_at(Service.LEVY_WALLET, bill),
    }
    return render(request, "levy/pay_bill.html", context)


def _pin_ok(request: HttpRequest, form: PayForm) -> bool:
    try:
        pins.check_pin(request.user, form.cleaned_data["pin"])
    except pins.PinError as error:
        apply_errors(form, [FieldError("pin", error.message)])
        return False
    return True


# Cashiers ----------------------------------------------------------------------------


@levy_page(COUNTER)
def counter(request: HttpRequest) -> HttpResponse:
    form = CounterSearchForm(request.GET or None)
    lookup = None
    if form.is_valid():
        lookup = queries.find_for_counter(form.cleaned_data["q"])
        if lookup.problem:
            form.add_error("q", COUNTER_PROBLEMS[lookup.problem])
    heads = _heads(lookup.bills) if lookup else {}
    context = {
        "form": form,
        "lookup": lookup,
        "rows": [
            (bill, heads.get(bill.household_id or 0, ""))
            for bill in (lookup.bills if lookup else [])
        ],
    }
    return render(request, "levy/counter.html", context)


def _heads(bills: list[Bill]) -> dict[int, str]:
    """Return the masked name of each bill's household head, for the payer to confirm."""
    ids = {bill.household_id for bill in bills if bill.household_id}
    heads = Member.objects.filter(
        household_id__in=ids,
        relation=Member.Relation.HEAD,
        status=Member.Status.ACTIVE,
    ).values_list("household_id", "full_name")
    return {household_id: mask_name(name) for household_id, name in heads}


@levy_page(COUNTER)
def counter_pay(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = get_object_or_404(queries.with_payer(Bill.objects.all()), pk=bill_id)
    form = CounterPayForm(
        request.POST if request.method == "POST" else None,
        initial={"amount": bill.outstanding},
    )
    if form.is_valid():
        try:
            payment = services.pay_at_counter(
                bill,
                amount=form.cleaned_data["amount"],
                transfer_id=form.cleaned_data["transfer_id"],
                actor=request.user,
            )
        except LevyError as error:
            apply_errors(form, error.errors)
        else:
            return redirect("levy:counter_receipt", payment_id=payment.pk)
    context: dict[str, Any] = {
        "bill": bill,
        "form": form,
        "head": _heads([bill]).get(bill.household_id or 0, ""),
        "payable": bill.status in queries.UNPAID,
    }
    return render(request, "levy/counter_pay.html", context)


@levy_page(COUNTER)
def counter_receipt(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(
        Payment.objects.select_related("bill__building", "transfer"), pk=payment_id
    )
    context = {
        "payment": payment,
        "bill": payment.bill,
        "message": _paid_message(payment),
    }
    return render(request, "levy/counter_receipt.html", context)
