"""The merchant's pages: opening a merchant account, its QR codes and takings.

A merchant reaches only the account they hold (`services.merchant_account_for`),
so no URL carries an account id. The static code hangs at the stall. A
dynamic code carries an amount and a bill number for one sale, and its page
polls the server every few seconds for that bill's payment.
"""

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kotacerdas.wallet import display, flows, qr_image, qris, services
from kotacerdas.wallet.forms import (
    MERCHANT_CATEGORIES,
    MERCHANT_CATEGORY_CODES,
    CategoryForm,
    DynamicQrForm,
    MerchantOpenForm,
)
from kotacerdas.wallet.models import Account, Transfer
from kotacerdas.wallet.views_citizen import is_partial, wallet_view

logger = logging.getLogger(__name__)

PAYMENTS_PAGE_SIZE = 20
# Seconds between the pages' requests for new payments.
PAYMENTS_POLL_S = 5
QR_STATUS_POLL_S = 3
# NOTE: the category is kept in the merchant's session because the account
# has no field for it, so another device starts from the default again.
CATEGORY_SESSION_KEY = "wallet_merchant_mcc"


@dataclass(frozen=True)
class PaymentRow:
    """One incoming payment as shown to the merchant, with the payer's name masked."""

    transfer: Transfer
    payer: str
    receipt_url: str


def _payment_rows(transfers: Any) -> list[PaymentRow]:
    return [
        PaymentRow(
            transfer=t,
            payer=display.payee_name(t.debit_account),
            receipt_url=flows.receipt_url(t.reference),
        )
        for t in transfers
    ]


def _category(request: HttpRequest) -> str:
    code = str(request.session.get(CATEGORY_SESSION_KEY, flows.DEFAULT_MCC))
    return code if code in MERCHANT_CATEGORY_CODES else flows.DEFAULT_MCC


def _qr_svg(payload: str, merchant: Account) -> str:
    title = _("QR code for paying %(name)s") % {"name": merchant.label}
    return qr_image.render_svg(payload, title=title)


@wallet_view("wallet.receive_payments")
def merchant_home(request: HttpRequest) -> HttpResponse:
    """Serve the merchant page, or only its payments list to an HTMX request."""
    merchant = services.merchant_account_for(request.user)
    if merchant is None:
        return render(
            request, "wallet/merchant_open.html", {"form": MerchantOpenForm()}
        )
    if "category" in request.GET:
        chosen = CategoryForm(request.GET)
        if chosen.is_valid():
            request.session[CATEGORY_SESSION_KEY] = chosen.cleaned_data["category"]

    payments = flows.incoming_payments(merchant)
    page = Paginator(payments, PAYMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "merchant": merchant,
        "page": page,
        "rows": _payment_rows(page.object_list),
        "today_total": flows.total_today(payments),
        "poll_s": PAYMENTS_POLL_S,
    }
    if is_partial(request):
        return render(request, "wallet/partials/merchant_payments.html", context)

    category = _category(request)
    context.update(
        {
            "number": flows.format_number(merchant.number),
            "category_form": CategoryForm(initial={"category": category}),
            "category_label": dict(MERCHANT_CATEGORIES)[category],
            "qr_form": DynamicQrForm(),
            "payment_blocked": flows.blocked_message("payment"),
        }
    )
    try:
        payload = flows.merchant_payload(merchant, mcc=category)
    except qris.QrisError as error:
        logger.warning(
            "merchant QR not built: %s", error.code, extra={"account_id": merchant.pk}
        )
        context["qr_error"] = error.message
    else:
        context.update({"payload": payload, "qr_svg": _qr_svg(payload, merchant)})
    return render(request, "wallet/merchant.html", context)


@wallet_view("wallet.receive_payments")
@require_POST
def merchant_open(request: HttpRequest) -> HttpResponse:
    """Open the user's merchant account under the business name typed."""
    if services.merchant_account_for(request.user) is not None:
        return redirect("wallet:merchant")
    form = MerchantOpenForm(request.POST)
    if not form.is_valid():
        return render(request, "wallet/merchant_open.html", {"form": form}, status=400)
    services.open_merchant(
        request.user,
        form.cleaned_data["business_name"],
        actor=flows.actor_of(request.user),
    )
    return redirect("wallet:merchant")


@wallet_view("wallet.receive_payments")
def merchant_qr(request: HttpRequest) -> HttpResponse:
    """Show a dynamic code for one amount, large, and watch for its payment."""
    merchant = services.merchant_account_for(request.user)
    if merchant is None:
        return redirect("wallet:merchant")
    form = DynamicQrForm(request.GET)
    if not form.is_valid():
        return render(request, "wallet/merchant_qr.html", {"form": form}, status=400)
    amount, bill = form.cleaned_data["amount"], form.cleaned_data["bill"]
    if not bill:
        # A bill number of its own makes each code distinct, so the payer's
        # wallet can tell a second payment of the same code. The redirect
        # keeps that number when the page is reloaded.
        query = urlencode({"amount": amount, "bill": flows.new_bill_number()})
        return redirect(f"{reverse('wallet:merchant_qr')}?{query}")
    try:
        payload = flows.merchant_payload(
            merchant, mcc=_category(request), amount=amount, bill_number=bill
        )
    except qris.QrisError as error:
        form.add_error("bill" if error.tag.startswith("62") else None, error.message)
        return render(request, "wallet/merchant_qr.html", {"form": form}, status=400)
    context = {
        "form": form,
        "merchant": merchant,
        "amount": amount,
        "bill": bill,
        "payload": payload,
        "qr_svg": _qr_svg(payload, merchant),
        "status_url": _status_url(bill),
        "poll_s": QR_STATUS_POLL_S,
        **_bill_status(merchant, bill),
    }
    return render(request, "wallet/merchant_qr.html", context)


@wallet_view("wallet.receive_payments")
def merchant_qr_status(request: HttpRequest) -> HttpResponse:
    """Return whether a dynamic code's bill was paid (polled by its page)."""
    merchant = services.merchant_account_for(request.user)
    bill = request.GET.get("bill", "")[: qris.MAX_ADDITIONAL_DATA_CHARS]
    context = {
        "status_url": _status_url(bill),
        "poll_s": QR_STATUS_POLL_S,
        **_bill_status(merchant, bill),
    }
    return render(request, "wallet/partials/qr_status.html", context)


def _status_url(bill: str) -> str:
    return f"{reverse('wallet:merchant_qr_status')}?{urlencode({'bill': bill})}"


def _bill_status(merchant: Account | None, bill: str) -> dict[str, Any]:
    paid = flows.payment_for_bill(merchant, bill) if merchant and bill else None
    return {
        "paid": paid,
        "payer": display.payee_name(paid.debit_account) if paid else "",
        "receipt_url": flows.receipt_url(paid.reference) if paid else "",
    }


@wallet_view("wallet.receive_payments")
def merchant_print(request: HttpRequest) -> HttpResponse:
    """Serve the static code as an A6 sticker with the business name, to print."""
    merchant = services.merchant_account_for(request.user)
    if merchant is None:
        return redirect("wallet:merchant")
    try:
        payload = flows.merchant_payload(merchant, mcc=_category(request))
    except qris.QrisError as error:
        return render(
            request,
            "wallet/merchant_print.html",
            {"qr_error": error.message},
            status=400,
        )
    # Level Q restores about a quarter of the modules, for a sticker that
    # gets dirty or scratched at a stall.
    svg = qr_image.render_svg(
        payload,
        title=_("QR code for paying %(name)s") % {"name": merchant.label},
        error_correction="Q",
    )
    context = {
        "merchant": merchant,
        "qr_svg": svg,
        "number": flows.format_number(merchant.number),
        "city": flows.wallet_policy.current_policy().merchant_city,
    }
    return render(request, "wallet/merchant_print.html", context)
