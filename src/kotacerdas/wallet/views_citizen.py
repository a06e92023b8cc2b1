"""The citizen's wallet pages: balance and history, PIN, transfers and QR payments.

A citizen reaches only their own wallet: no URL carries an account id, and a
done page looks its transfer up among the signed-in user's own transfers.
Every form that moves money carries a transfer id made when it was rendered,
so a double submit or a browser retry returns the first transfer.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kotacerdas import qr_photo
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.qr_photo import MAX_PHOTO_BYTES, PhotoInvalid
from kotacerdas.wallet import display, flows, pins, qris, services
from kotacerdas.wallet import policy as wallet_policy
from kotacerdas.wallet.flows import FlowError
from kotacerdas.wallet.forms import (
    HistoryFilterForm,
    PayForm,
    PinForm,
    TransferConfirmForm,
    TransferForm,
    apply_error,
)
from kotacerdas.wallet.models import Account, Tier, TransferKind
from kotacerdas.wallet.services import TransferRejected, TransferRequest

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]
HISTORY_PAGE_SIZE = 20
# Form fields for the core's request fields on the confirmation forms. The
# amount and payee are hidden fields there, so their errors go above the form.
CONFIRM_FIELDS = {"credit": "", "amount": "", "memo": "", "debit": "", "id": ""}
STATIC_PAY_FIELDS = {**CONFIRM_FIELDS, "amount": "amount"}
# Pages of a citizen's or merchant's own wallet, which run only where the
# wallet service runs. A counter serves customers from every area.
PERSONAL_WALLET = ("wallet.use_wallet", "wallet.receive_payments")


def wallet_view(permission: str) -> Callable[[View], View]:
    """Require sign-in (else the sign-in page) and `permission` (else 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            if permission in PERSONAL_WALLET:
                require_at(Service.WALLET, request.user)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


def refresh_transfer_id(form: Any) -> None:
    """Give a bound form a fresh transfer id, for a new try after an id conflict."""
    form.data = form.data.copy()
    form.data["transfer_id"] = flows.new_transfer_id()


def show_rejection(form: Any, error: TransferRejected, names: dict[str, str]) -> None:
    if error.code == "id_conflict":
        refresh_transfer_id(form)
        form.add_error(
            None,
            _(
                "This form was already sent for another payment. Check your history, then confirm again to make a new one."
            ),
        )
        return
    apply_error(form, error.field, error.message, names)


def _wallet(request: HttpRequest) -> Account:
    account = services.wallet_for(request.user)
    assert account is not None  # wallet_for opens a wallet when there is none
    return account


# Balance and history -------------------------------------------------------------


@wallet_view("wallet.use_wallet")
def home(request: HttpRequest) -> HttpResponse:
    """Serve the wallet page, or only its history to an HTMX request."""
    wallet = _wallet(request)
    form = HistoryFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {"kind": "", "month": None}
    paginator = Paginator(flows.history(wallet, **filters), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": flows.history_rows(wallet, page.object_list),
    }
    if is_partial(request):
        return render(request, "wallet/partials/history.html", context)
    context.update(
        {
            "summary": flows.summarize(wallet),
            "has_pin": pins.has_pin(request.user),
            "bills_url": reverse("levy:my_bills"),
            "transfer_blocked": flows.blocked_message(TransferKind.TRANSFER),
            "payment_blocked": flows.blocked_message(TransferKind.PAYMENT),
            "registered_limits": wallet_policy.current_policy().limits.get(
                Tier.REGISTERED
            ),
        }
    )
    return render(request, "wallet/home.html", context)


@wallet_view("wallet.use_wallet")
def pin_page(request: HttpRequest) -> HttpResponse:
    """Set a first payment PIN, or change it after the current PIN is checked."""
    user = request.user
    has_pin = pins.has_pin(user)
    form = PinForm(request.POST or None, has_pin=has_pin)
    if request.method == "POST" and form.is_valid():
        try:
            if has_pin:
                pins.check_pin(user, form.cleaned_data["current_pin"])
        except pins.PinError as error:
            form.add_error("current_pin", error.message)
        else:
            try:
                pins.set_pin(user, form.cleaned_data["new_pin"])
            except pins.PinError as error:
                form.add_error("new_pin", error.message)
            else:
                messages.success(
                    request,
                    _("Your payment PIN is changed.")
                    if has_pin
                    else _("Your payment PIN is set."),
                )
                return redirect("wallet:home")
    return render(request, "wallet/pin.html", {"form": form, "has_pin": has_pin})


@wallet_view("wallet.use_wallet")
def done(request: HttpRequest, reference: str) -> HttpResponse:
    """Serve the confirmation of one of the citizen's own transfers."""
    wallet = _wallet(request)
    transfer = flows.own_transfer(wallet, reference)
    if transfer is None:
        raise Http404("no such transfer of this wallet")
    incoming = transfer.credit_account_id == wallet.pk
    other = transfer.debit_account if incoming else transfer.credit_account
    context = {
        "transfer": transfer,
        "incoming": incoming,
        "counterparty": flows.counterparty_name(other, transfer),
        "receipt_url": flows.receipt_url(transfer.reference),
        "summary": flows.summarize(wallet),
    }
    return render(request, "wallet/done.html", context)


def _done(transfer: Any) -> HttpResponse:
    return redirect("wallet:done", reference=transfer.reference)


# Transfers ----------------------------------------------------------------------


@wallet_view("wallet.use_wallet")
def transfer(request: HttpRequest) -> HttpResponse:
    """Take a transfer in two steps: the payee and amount, then the PIN."""
    wallet = _wallet(request)
    blocked = flows.blocked_message(TransferKind.TRANSFER)
    if blocked:
        return render(request, "wallet/transfer_form.html", {"blocked": blocked})
    if request.method != "POST":
        return _transfer_form(request, TransferForm())

    review = TransferForm(request.POST)
    if not review.is_valid():
        return _transfer_form(request, review)
    try:
        payee = flows.payee_for_transfer(wallet, review.cleaned_data["number"])
    except FlowError as error:
        apply_error(review, error.field, error.message)
        return _transfer_form(request, review)
    if request.POST.get("step") != "confirm":
        form = TransferConfirmForm(
            initial={**review.cleaned_data, "transfer_id": flows.new_transfer_id()}
        )
        return _transfer_confirm(request, form, payee, review.cleaned_data)
    return _send_transfer(request, wallet, payee, review.cleaned_data)


def _send_transfer(
    request: HttpRequest, wallet: Account, payee: Account, values: dict[str, Any]
) -> HttpResponse:
    form = TransferConfirmForm(request.POST)
    if not form.is_valid():
        return _transfer_confirm(request, form, payee, values)
    data = form.cleaned_data
    transfer_request = flows.transfer_request(
        wallet, payee.number, data["amount"], data["note"], data["transfer_id"]
    )
    stored = flows.already_done(transfer_request)
    if stored is not None:
        return _done(stored)
    try:
        flows.authorize(
            request, request.user, data["amount"], data["pin"], data["password"]
        )
        sent = services.submit(transfer_request, actor=flows.actor_of(request.user))
    except FlowError as error:
        apply_error(form, error.field, error.message)
    except TransferRejected as error:
        show_rejection(form, error, CONFIRM_FIELDS)
    else:
        return _done(sent)
    return _transfer_confirm(request, form, payee, values)


def _transfer_form(request: HttpRequest, form: TransferForm) -> HttpResponse:
    context = {"form": form, "has_pin": pins.has_pin(request.user)}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "wallet/transfer_form.html", context, status=status)


def _transfer_confirm(
    request: HttpRequest,
    form: TransferConfirmForm,
    payee: Account,
    values: dict[str, Any],
) -> HttpResponse:
    context = {
        "form": form,
        "payee_name": display.payee_name(payee),
        "payee_number": flows.format_number(payee.number),
        "amount": values["amount"],
        "note": values["note"],
        "step_up": flows.needs_step_up(values["amount"]),
        "step_up_amount": wallet_policy.current_policy().step_up_amount,
        "has_pin": pins.has_pin(request.user),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "wallet/transfer_confirm.html", context, status=status)


# Paying a merchant's QR code -------------------------------------------------------


@wallet_view("wallet.use_wallet")
def pay(request: HttpRequest) -> HttpResponse:
    """Serve the scan page, or decode a POSTed photo and open its code."""
    blocked = flows.blocked_message(TransferKind.PAYMENT)
    if blocked or request.method != "POST":
        return _scan_page(request, blocked=blocked or "")
    photo = request.FILES.get("photo")
    if photo is None:
        return _scan_page(
            request, _("Choose a photo or screenshot of the QR code."), status=400
        )
    try:
        text = decode_photo(photo)
    except PhotoInvalid as error:
        logger.info(
            "rejected a payment QR photo: %s",
            error.reason,
            extra={"user_id": request.user.pk},
        )
        return _scan_page(request, error.message, status=400)
    return redirect(f"{reverse('wallet:pay_confirm')}?{urlencode({'qr': text})}")


def _scan_page(
    request: HttpRequest, error: str = "", *, blocked: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "error": error,
        "blocked": blocked,
        "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        "scan_texts": scan_texts(),
        "has_pin": pins.has_pin(request.user),
    }
    return render(request, "wallet/pay_scan.html", context, status=status)


def scan_texts() -> dict[str, str]:
    """Messages wallet-scan.js shows while the camera runs."""
    return {
        "camera_denied": _(
            "The camera could not be opened. Allow camera access for this site, or choose a photo or paste the code below."
        ),
        "no_camera": _(
            "This browser has no camera access. Choose a photo or paste the code below."
        ),
        "looking": _("Point the camera at the merchant's QR code."),
        "opening": _("QR code read. Opening the payment…"),
    }


@wallet_view("wallet.use_wallet")
def pay_confirm(request: HttpRequest) -> HttpResponse:
    """Show a scanned code's merchant and amount, and pay it with the PIN."""
    blocked = flows.blocked_message(TransferKind.PAYMENT)
    if blocked:
        return _scan_page(request, blocked=blocked)
    source = request.POST if request.method == "POST" else request.GET
    payload = source.get("qr", "")
    if not payload.strip():
        return _scan_page(
            request, _("Scan the merchant's QR code, choose a photo of it or paste it.")
        )
    try:
        code = flows.read_code(payload)
    except FlowError as error:
        return _scan_page(request, error.message, status=400)
    has_pin = pins.has_pin(request.user)
    try:
        merchant = flows.merchant_of(code)
    except FlowError as error:
        if error.code != "external_issuer":
            return _scan_page(request, error.message, status=400)
        # Another issuer's code is shown so that the payer can check whom it
        # names, but without a form, because nothing can be paid to it.
        context = {
            **_code_context(code, None, has_pin),
            "external_message": error.message,
        }
        return render(request, "wallet/pay_confirm.html", context)

    form = PayForm(
        request.POST if request.method == "POST" else None,
        static=code.amount is None,
        initial={"qr": payload, "transfer_id": flows.new_transfer_id()},
    )
    if form.is_bound and form.is_valid():
        response = _pay(request, form, code, merchant)
        if response is not None:
            return response
    context = {**_code_context(code, merchant, has_pin), "form": form}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "wallet/pay_confirm.html", context, status=status)


def _pay(
    request: HttpRequest, form: PayForm, code: qris.MerchantQr, merchant: Account
) -> HttpResponse | None:
    """Pay the code and return the redirect to the done page, or None after an error."""
    data = form.cleaned_data
    amount = code.amount if code.amount is not None else data["amount"]
    payment: TransferRequest = flows.payment_request(
        _wallet(request), merchant, code, amount, data["transfer_id"]
    )
    stored = flows.already_done(payment)
    if stored is not None:
        return _done(stored)
    names = CONFIRM_FIELDS if code.amount is not None else STATIC_PAY_FIELDS
    try:
        flows.authorize(request, request.user, amount, data["pin"], data["password"])
        paid = flows.pay_merchant(payment, code, flows.actor_of(request.user))
    except FlowError as error:
        apply_error(form, error.field, error.message, names)
    except TransferRejected as error:
        show_rejection(form, error, names)
    else:
        return _done(paid)
    return None


def _code_context(
    code: qris.MerchantQr, merchant: Account | None, has_pin: bool
) -> dict[str, Any]:
    return {
        "code": code,
        "external": merchant is None,
        "merchant_name": display.holder_name(merchant)
        if merchant
        else code.merchant_name,
        "merchant_city": code.merchant_city,
        "issuers": ", ".join(account.gui for account in code.merchant_accounts),
        "amount": code.amount,
        "step_up": flows.needs_step_up(code.amount),
        "step_up_amount": wallet_policy.current_policy().step_up_amount,
        "static_amount": merchant is not None and code.amount is None,
        "has_pin": has_pin,
    }


# Photos of QR codes ---------------------------------------------------------------


def decode_photo(photo: UploadedFile) -> str:
    """Return the text of the QR code in a photo, preferring a payment code.

    Raises PhotoInvalid.
    """
    return qr_photo.decode_photo(
        photo,
        # An EMVCo payload starts with its payload format indicator.
        prefer=lambda text: text.startswith("000201"),
        not_a_picture=_(
            "This file is not a picture. Choose a photo or screenshot (JPEG, PNG or WebP) of the QR code."
        ),
        no_qr_code=_(
            "No QR code was found in this picture. Take it again with the whole QR code in view, or paste the code below."
        ),
    )
