"""The wallet's JSON API at /api/wallet: wallets, payments, QR codes and counters.

This module contains the operations on the caller's own wallet, QR codes and
merchant accounts. `api_services` adds those of counters, staff and service
integrations to the same router, and `api_common` holds what both share.

Callers authenticate with an API token (`Authorization: Bearer kc_...`) or,
from the city's own pages, with their session and a CSRF token on writes.
Each operation needs one permission:

- `wallet.use_wallet`: the caller's own wallet (`/me`), payee look-up,
  transfers and QR payments. The paying account is always the caller's own
  wallet, so no request names an account to debit.
- `wallet.receive_payments`: the caller's merchant account and its QR codes.
- `wallet.operate_counter`: cash-in and cash-out at a counter, and the service
  operations (two-phase reservations and batches). A service integration gets
  a user with this permission and an API token. These operations debit the
  settlement account, or a citizen or merchant account with its holder's
  payment PIN (a batch never does), so a counter cannot spend a wallet
  without its holder. The city's revenue, fee and waste bank accounts are
  never debited here.
- `wallet.view_all_accounts`: staff views of every account and transfer.

Every request that moves money carries a client `id`. The first request
with an id gets 201. Sending the same id with the same body again returns the
original transfer with 200, and the same id with another body gets 409
`id_conflict`.
Errors use the API's shape, `{"error": {"code", "message", "field"}}`:
403 for a missing permission (`forbidden`), a wrong PIN (`wrong_pin`) or a
missing or wrong step-up password (`step_up_required`, `wrong_password`);
404 for an unknown payee, account, transfer or reservation; 409 for a reused
id, a resolved reservation or a missing PIN (`no_pin`); 422 for an invalid
value or a transfer the ledger rejects (the services' codes, such as
`exceeds_balance`); 423 while a PIN or password is locked.
"""

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Status

from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.wallet import (
    api_services,  # noqa: F401  (adds its operations)
    display,
    flows,
    pins,
    qris,
    services,
)
from kotacerdas.wallet.api_common import (
    ERRORS,
    HELD_KINDS,
    OPERATE_COUNTER,
    RECEIVE_PAYMENTS,
    USE_WALLET,
    Refusal,
    Reply,
    Viewer,
    account_out,
    actor_of,
    check_pin_or_stored,
    replies,
    require,
    router,
    transfer_page,
    transfer_reply,
)
from kotacerdas.wallet.api_schemas import (
    ErrorOut,
    HistoryQuery,
    InvalidValue,
    MerchantOut,
    MerchantQrIn,
    MerchantQrOut,
    PayeeOut,
    PaymentsQuery,
    QrOut,
    QrParseIn,
    QrPayIn,
    TransferIn,
    TransferOut,
    TransferPage,
    WalletOut,
    clean_amount,
    clean_choice,
    clean_client_id,
    clean_optional_amount,
    clean_password,
    clean_pin,
    clean_text,
    clean_wallet_number,
)
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountMonth,
    AccountStatus,
    Channel,
    Phase,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.wallet.numbers import format_wallet_number
from kotacerdas.wallet.policy import WalletPolicy, current_policy, month_of
from kotacerdas.wallet.services import TransferRequest

PAYER_KINDS = [TransferKind.TRANSFER.value, TransferKind.PAYMENT.value]

# Rows of a holder's lists: moves of money and reservations still pending. A
# resolved reservation is left out, because its post is a row of its own.
HOLDER_VISIBLE = Q(phase__in=[Phase.SINGLE, Phase.POST]) | Q(
    phase=Phase.PENDING, status=TransferStatus.PENDING
)


# The caller's wallet --------------------------------------------------------------


def _wallet_out(account: Account, policy: WalletPolicy, user: Any) -> dict[str, Any]:
    month = month_of(timezone.localdate())
    credits_in = next(
        iter(
            AccountMonth.objects.filter(account=account, month=month).values_list(
                "credits", flat=True
            )
        ),
        0,
    )
    limits = policy.limits.get(account.tier)
    return {
        **account_out(account, display.holder_name(account)),
        "limits": None
        if limits is None
        else {
            "balance_max": limits.balance_max,
            "monthly_in_max": limits.monthly_in_max,
        },
        "month": {
            "month": f"{month:%Y-%m}",
            "credits_in": credits_in,
            "credits_left": None
            if limits is None
            else max(0, limits.monthly_in_max - credits_in),
        },
        "has_pin": pins.has_pin(user),
        "step_up_amount": policy.step_up_amount,
    }


def _own_wallet(request: HttpRequest) -> Account:
    account = services.wallet_for(request.user)
    assert account is not None  # wallet_for opens one when missing
    require_at(Service.WALLET, account)
    return account


@router.get(
    "/me",
    response={200: WalletOut, ERRORS: ErrorOut},
    summary="The caller's wallet: balance, limits and this month's credits",
)
@replies()
def my_wallet(request: HttpRequest) -> Reply:
    require(request, USE_WALLET)
    own = _own_wallet(request)
    account = Account.objects.select_related("member", "holder").get(pk=own.pk)
    return Status(200, _wallet_out(account, current_policy(), request.user))


@router.get(
    "/me/transfers",
    response={200: TransferPage, ERRORS: ErrorOut},
    summary="The caller's transfers, newest first",
)
@replies()
def my_transfers(request: HttpRequest, query: Query[HistoryQuery]) -> Reply:
    require(request, USE_WALLET)
    account = _own_wallet(request)
    transfers = Transfer.objects.filter(
        Q(debit_account=account) | Q(credit_account=account)
    ).filter(HOLDER_VISIBLE)
    return transfer_page(transfers, query, Viewer(own_ids=frozenset({account.pk})))


@router.get(
    "/payees/{number}",
    response={200: PayeeOut, ERRORS: ErrorOut},
    summary="Look up a wallet before paying it: masked name and whether it is payable",
)
@replies()
def payee(request: HttpRequest, number: str) -> Reply:
    require(request, USE_WALLET, OPERATE_COUNTER)
    cleaned = clean_wallet_number(number, "number")
    account = (
        Account.objects.select_related("member", "holder")
        .filter(number=cleaned, kind__in=HELD_KINDS)
        .first()
    )
    if account is None:
        raise Refusal(
            404,
            "not_found",
            _("No wallet has the number %(number)s. Check the number and try again.")
            % {"number": cleaned},
            "number",
        )
    kind = (
        TransferKind.TRANSFER
        if account.kind == AccountKind.CITIZEN
        else TransferKind.PAYMENT
    )
    own = account.holder_id == request.user.pk and account.kind == AccountKind.CITIZEN
    payable = (
        account.status == AccountStatus.ACTIVE
        and not own
        and current_policy().allows(kind)
    )
    return Status(
        200,
        {
            "number": account.number,
            "number_display": format_wallet_number(account.number),
            "name": display.payee_name(account),
            "kind": account.kind,
            "payable": payable,
        },
    )


# Paying ------------------------------------------------------------------------------


def _check_password(request: HttpRequest, password: str, policy: WalletPolicy) -> None:
    """Check the step-up password through the sign-in backends.

    A wrong password counts as a failed sign-in, so the login throttle
    (django-axes) locks it after the same number of tries.
    """
    user = authenticate(
        request, username=request.user.get_username(), password=password
    )
    if user is not None and user.pk == request.user.pk:
        return
    locked = getattr(request, "axes_locked_out", False)
    # AxesMiddleware would replace the reply with its HTML lockout page.
    request.axes_locked_out = False  # type: ignore[attr-defined]
    if locked:
        raise Refusal(
            423,
            "password_locked",
            _("Too many wrong passwords. Wait a while before you try again."),
            "password",
        )
    raise Refusal(
        403,
        "wrong_password",
        _("The password is wrong. Payments above %(limit)s need your account password.")
        % {"limit": display.rupiah(policy.step_up_amount)},
        "password",
    )


def _pay(
    request: HttpRequest,
    transfer_request: TransferRequest,
    pin: str,
    password: str | None,
    policy: WalletPolicy,
) -> Reply:
    """Check the PIN and, above the step-up amount, the password; then pay."""
    step_up = transfer_request.amount > policy.step_up_amount
    if step_up and password is None:
        raise Refusal(
            403,
            "step_up_required",
            _(
                "Payments above %(limit)s also need your account password. Send it as password."
            )
            % {"limit": display.rupiah(policy.step_up_amount)},
            "password",
        )
    started = timezone.now()
    stored = check_pin_or_stored(request.user, pin, transfer_request)
    if stored is None:
        if step_up:
            assert password is not None
            _check_password(request, password, policy)
        stored = services.submit(transfer_request, actor=actor_of(request))
    viewer = Viewer(own_ids=frozenset({stored.debit_account_id}))
    return transfer_reply(stored, viewer, started)


@router.post(
    "/transfers",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Pay a citizen (transfer) or a merchant (payment) from the caller's wallet",
)
@replies(credit="to", debit="from")
def create_transfer(request: HttpRequest, body: TransferIn) -> Reply:
    require(request, USE_WALLET)
    client_id = clean_client_id(body.id)
    credit = clean_wallet_number(body.to, "to")
    amount = clean_amount(body.amount)
    kind = clean_choice(body.kind, "kind", PAYER_KINDS)
    memo = clean_text(body.memo, "memo")
    pin = clean_pin(body.pin)
    password = clean_password(body.password)
    transfer_request = TransferRequest(
        id=client_id,
        debit=_own_wallet(request).number,
        credit=credit,
        amount=amount,
        kind=kind,
        channel=Channel.APP,
        memo=memo,
    )
    return _pay(request, transfer_request, pin, password, current_policy())


# QR codes --------------------------------------------------------------------------


def _read_qr(
    payload: Any, policy: WalletPolicy
) -> tuple[qris.MerchantQr, Account | None]:
    """Parse a scanned payload; return it and our merchant it names, if any."""
    if not isinstance(payload, str) or not payload.strip():
        raise InvalidValue("payload", _("Send the text of the scanned QR code."))
    code = qris.parse(payload, own_gui=policy.qris_gui)
    merchant = None
    if code.own_account is not None and code.own_account.merchant_id:
        merchant = Account.objects.filter(
            number=code.own_account.merchant_id, kind=AccountKind.MERCHANT
        ).first()
    return code, merchant


def _qr_payable(
    code: qris.MerchantQr, merchant: Account | None, policy: WalletPolicy
) -> bool:
    return (
        merchant is not None
        and merchant.status == AccountStatus.ACTIVE
        and code.currency_is_idr
        and code.tip_indicator is None
        and policy.allows(TransferKind.PAYMENT)
    )


@router.post(
    "/qr/parse",
    response={200: QrOut, ERRORS: ErrorOut},
    summary="Read a scanned QRIS code before paying it",
)
@replies(payload="payload")
def qr_parse(request: HttpRequest, body: QrParseIn) -> Reply:
    require(request, USE_WALLET)
    require_at(Service.WALLET, request.user)
    policy = current_policy()
    code, merchant = _read_qr(body.payload, policy)
    return Status(
        200,
        {
            "merchant_name": display.holder_name(merchant)
            if merchant
            else code.merchant_name,
            "merchant_number": merchant.number if merchant else None,
            "merchant_city": code.merchant_city,
            "amount": code.amount,
            "dynamic": code.dynamic,
            "external": not code.issuer_is_ours,
            "payable": _qr_payable(code, merchant, policy),
            "bill_number": code.bill_number,
            "currency": code.currency,
            "nmid": code.nmid,
        },
    )


def _payable_merchant(code: qris.MerchantQr, merchant: Account | None) -> Account:
    if not code.issuer_is_ours:
        raise Refusal(
            422,
            "external_issuer",
            _(
                "This QR code is from another payment provider, and this wallet pays only the city's own merchants. Pay with the provider's app or another way."
            ),
            "payload",
        )
    code.require_payable()
    if code.tip_indicator is not None:
        raise Refusal(
            422,
            "tip_not_supported",
            _(
                "This QR code asks for a tip or a fee, which this wallet cannot pay. Ask the merchant for a code without one."
            ),
            "payload",
        )
    if merchant is None:
        raise Refusal(
            422,
            "merchant_not_found",
            _(
                "The QR code names no merchant of this wallet. Ask the merchant for a new code."
            ),
            "payload",
        )
    return merchant


def _qr_amount(code: qris.MerchantQr, sent: Any) -> int:
    if code.amount is None:
        return clean_amount(sent)
    amount = clean_optional_amount(sent)
    if amount is not None and amount != code.amount:
        raise InvalidValue(
            "amount",
            _(
                "This QR code asks for %(amount)s. Send that amount, or leave the amount out."
            )
            % {"amount": display.rupiah(code.amount)},
            "amount_mismatch",
        )
    return code.amount


@router.post(
    "/qr/pay",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Pay one of the city's merchants by their QR code",
)
@replies(credit="payload", memo="payload", payload="payload")
def qr_pay(request: HttpRequest, body: QrPayIn) -> Reply:
    require(request, USE_WALLET)
    client_id = clean_client_id(body.id)
    policy = current_policy()
    code, found = _read_qr(body.payload, policy)
    merchant = _payable_merchant(code, found)
    amount = _qr_amount(code, body.amount)
    pin = clean_pin(body.pin)
    password = clean_password(body.password)
    transfer_request = TransferRequest(
        id=client_id,
        debit=_own_wallet(request).number,
        credit=merchant.number,
        amount=amount,
        kind=TransferKind.PAYMENT,
        channel=Channel.QRIS,
        memo=code.bill_number or "",
    )
    return _pay(request, transfer_request, pin, password, policy)


# Merchants -------------------------------------------------------------------------


def _own_merchant(request: HttpRequest) -> Account:
    account = services.merchant_account_for(request.user)
    if account is None:
        raise Refusal(
            404,
            "no_merchant_account",
            _(
                "You have no merchant account yet. Ask the city's wallet office to open one."
            ),
        )
    require_at(Service.WALLET, account)
    return account


@router.get(
    "/merchant",
    response={200: MerchantOut, ERRORS: ErrorOut},
    summary="The caller's merchant account and its static QR code",
)
@replies()
def my_merchant(request: HttpRequest) -> Reply:
    require(request, RECEIVE_PAYMENTS)
    account = _own_merchant(request)
    return Status(
        200,
        {
            "account": account_out(account, display.holder_name(account)),
            # The same code as the merchant pages show and print.
            "qr_payload": flows.merchant_payload(account),
        },
    )


@router.post(
    "/merchant/qr",
    response={200: MerchantQrOut, ERRORS: ErrorOut},
    summary="Make a QR code with an amount (dynamic) or a bill number",
)
@replies(**{"54": "amount", "62.01": "bill_number"})
def merchant_qr(request: HttpRequest, body: MerchantQrIn) -> Reply:
    require(request, RECEIVE_PAYMENTS)
    account = _own_merchant(request)
    amount = clean_optional_amount(body.amount)
    bill_number = clean_text(
        body.bill_number, "bill_number", qris.MAX_ADDITIONAL_DATA_CHARS
    )
    try:
        reject_personal_data(bill_number, "bill_number")
    except PersonalDataError:
        raise InvalidValue(
            "bill_number",
            _(
                "A bill number must not contain a NIK, KK number or other personal data."
            ),
        ) from None
    payload = flows.merchant_payload(account, amount=amount, bill_number=bill_number)
    return Status(
        200,
        {
            "payload": payload,
            "dynamic": amount is not None,
            "amount": amount,
            "bill_number": bill_number or None,
        },
    )


@router.get(
    "/merchant/payments",
    response={200: TransferPage, ERRORS: ErrorOut},
    summary="Payments the caller's merchant account received, newest first",
)
@replies()
def merchant_payments(request: HttpRequest, query: Query[PaymentsQuery]) -> Reply:
    require(request, RECEIVE_PAYMENTS)
    account = _own_merchant(request)
    transfers = Transfer.objects.filter(credit_account=account).filter(HOLDER_VISIBLE)
    bill_number = clean_text(query.bill_number, "bill_number")
    if bill_number:
        transfers = transfers.filter(memo=bill_number)
    return transfer_page(transfers, query, Viewer(own_ids=frozenset({account.pk})))
