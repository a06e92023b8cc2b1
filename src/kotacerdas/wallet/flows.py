"""What the wallet's web pages do, composed from the core services.

One page action is several core steps. A payment checks the PIN (committed
on its own, so a wrong try counts even though the payment fails), requires
the account password above the step-up amount, then submits one transfer. The
reading helpers (a wallet's summary and history, a merchant's takings, a
cashier's day) live here too, so the views only parse input and render.
"""

import base64
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.wallet import display, pins, qris, services
from kotacerdas.wallet import policy as wallet_policy
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountMonth,
    AccountStatus,
    BillPayment,
    Channel,
    Phase,
    Tier,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.wallet.numbers import CROCKFORD, format_wallet_number
from kotacerdas.wallet.services import TransferRequest

logger = logging.getLogger(__name__)

# Our codes carry the QRIS merchant criteria of a micro business (usaha mikro).
MERCHANT_CRITERIA = "UMI"
DEFAULT_MCC = "5499"
# NOTE: the merchant account template carries the wallet number as merchant
# ID (26.02) and no PAN (26.01): a PAN starts with the issuer's NNS, which
# Bank Indonesia assigns to a licensed issuer and this platform does not have.
BILL_PREFIX = "QR-"
BILL_RANDOM_CHARS = 8


class FlowError(Exception):
    """A page action that was not carried out, and the form field at fault."""

    def __init__(self, code: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


def receipt_url(reference: str) -> str:
    """Return the public receipt page of a transfer."""
    return reverse("wallet:receipt", kwargs={"reference": reference})


def actor_of(user: Any) -> str:
    return f"user:{user.pk}"


def new_transfer_id() -> str:
    """Return a fresh client transfer id, rendered into each form that moves money."""
    # Base32, not hex: about one in a hundred 32-character hex strings holds 16
    # digits in a row, which the journal's guard rejects as a possible NIK.
    return "web-" + base64.b32encode(secrets.token_bytes(15)).decode()


def new_bill_number() -> str:
    """Return a bill number for a dynamic QR code whose merchant typed none."""
    return BILL_PREFIX + "".join(
        secrets.choice(CROCKFORD) for _ in range(BILL_RANDOM_CHARS)
    )


def closed_loop_message(kind: str) -> str:
    """Return why a kind of transfer is unavailable in a closed-loop city credit."""
    return _(
        "This city's wallet is a closed-loop city credit for levy payments and "
        "waste bank rewards, so %(flow)s is not available."
    ) % {"flow": TransferKind(kind).label.lower()}


def blocked_message(kind: str) -> str | None:
    """Return the mode message when the city's policy does not allow `kind`."""
    if wallet_policy.current_policy().allows(kind):
        return None
    return closed_loop_message(kind)


# Reading ----------------------------------------------------------------------


@dataclass(frozen=True)
class WalletSummary:
    """A wallet's balances and how much of its tier's limits it has used."""

    account: Account
    number_display: str
    balance: int
    available: int
    pending_out: int
    pending_in: int
    tier: str
    tier_label: str
    balance_max: int | None
    monthly_in_max: int | None
    month_in: int

    @property
    def unregistered(self) -> bool:
        return self.tier == Tier.UNREGISTERED

    @property
    def active(self) -> bool:
        return self.account.status == AccountStatus.ACTIVE

    @property
    def month_left(self) -> int | None:
        if self.monthly_in_max is None:
            return None
        return max(0, self.monthly_in_max - self.month_in)


def summarize(account: Account) -> WalletSummary:
    limits = wallet_policy.current_policy().limits.get(account.tier)
    month = wallet_policy.month_of(timezone.localdate())
    month_in = (
        AccountMonth.objects.filter(account=account, month=month)
        .values_list("credits", flat=True)
        .first()
    )
    return WalletSummary(
        account=account,
        number_display=format_number(account.number),
        balance=account.balance,
        available=account.available,
        pending_out=account.debits_pending,
        pending_in=account.credits_pending,
        tier=account.tier,
        tier_label=str(Tier(account.tier).label),
        balance_max=limits.balance_max if limits else None,
        monthly_in_max=limits.monthly_in_max if limits else None,
        month_in=month_in or 0,
    )


def format_number(number: str) -> str:
    return format_wallet_number(number)


def visible_transfers(account: Account) -> QuerySet[Transfer]:
    """Return the rows a holder is shown: moves of money and open reservations.

    The post or void of a reservation is its own row, so a reservation that
    was resolved is left out, because its amount would otherwise show twice.
    """
    return (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .filter(
            Q(phase__in=[Phase.SINGLE, Phase.POST])
            | Q(phase=Phase.PENDING, status=TransferStatus.PENDING)
        )
        .select_related(
            "debit_account__member",
            "debit_account__holder",
            "credit_account__member",
            "credit_account__holder",
        )
    )


def history(
    account: Account, *, kind: str = "", month: date | None = None
) -> QuerySet[Transfer]:
    rows = visible_transfers(account)
    if kind:
        rows = rows.filter(kind=kind)
    if month is not None:
        start, end = _local_bounds(month, _next_month(month))
        rows = rows.filter(created_at__gte=start, created_at__lt=end)
    return rows


@dataclass(frozen=True)
class HistoryRow:
    """One transfer as shown to its holder: direction and the other party.

    A fee row stands for all the fee parts of one payment: `amount` is their
    sum and `receipts` lists each part's reference and receipt URL.
    """

    transfer: Transfer
    incoming: bool
    counterparty: str
    receipt_url: str
    amount: int
    receipts: tuple[tuple[str, str], ...]
    is_fee: bool = False


def history_rows(account: Account, transfers: Iterable[Transfer]) -> list[HistoryRow]:
    """Return the rows of a history page, with each payment's fee on one row.

    The fee of a payment is split into linked `fee` transfers (the city's and
    the partner's parts). The history shows the payer one row per fee, on the
    page of the part with the lowest id, and leaves the other parts out.
    """
    transfers = list(transfers)
    fee_parts = _fee_parts(account, transfers)
    rows = []
    for transfer in transfers:
        incoming = transfer.credit_account_id == account.pk
        other = transfer.debit_account if incoming else transfer.credit_account
        parts = fee_parts.get(transfer.link_group or "") if not incoming else None
        if transfer.kind == TransferKind.FEE and parts:
            if parts[0].pk != transfer.pk:
                continue
            rows.append(
                HistoryRow(
                    transfer=transfer,
                    incoming=False,
                    counterparty=transfer.memo,
                    receipt_url=receipt_url(transfer.reference),
                    amount=sum(part.amount for part in parts),
                    receipts=tuple(
                        (part.reference, receipt_url(part.reference)) for part in parts
                    ),
                    is_fee=True,
                )
            )
            continue
        rows.append(
            HistoryRow(
                transfer=transfer,
                incoming=incoming,
                counterparty=counterparty_name(other, transfer),
                receipt_url=receipt_url(transfer.reference),
                amount=transfer.amount,
                receipts=((transfer.reference, receipt_url(transfer.reference)),),
            )
        )
    return rows


def _fee_parts(
    account: Account, transfers: list[Transfer]
) -> dict[str, list[Transfer]]:
    """Return the fee parts the account paid in the page's link groups, in id order.

    NOTE: parts are grouped across pages, so a page whose fee part is not the
    group's first shows one row fewer than the page size.
    """
    groups = {
        transfer.link_group
        for transfer in transfers
        if transfer.kind == TransferKind.FEE
        and transfer.link_group
        and transfer.debit_account_id == account.pk
    }
    parts: dict[str, list[Transfer]] = {}
    if not groups:
        return parts
    for part in Transfer.objects.filter(
        link_group__in=groups, kind=TransferKind.FEE, debit_account=account
    ).order_by("id"):
        parts.setdefault(part.link_group or "", []).append(part)
    return parts


def counterparty_name(other: Account, transfer: Transfer) -> str:
    """Return the other side of a transfer as a holder may see it.

    Another person's name is masked. Money from or to the settlement
    account is cash or a bank transfer, so the channel names it.
    """
    if other.kind == AccountKind.SETTLEMENT:
        return str(Channel(transfer.channel).label)
    return display.payee_name(other)


def own_transfer(account: Account, reference: str) -> Transfer | None:
    """Return a transfer by its receipt reference if it touches this account."""
    return (
        Transfer.objects.filter(reference=reference)
        .filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related("debit_account", "credit_account")
        .first()
    )


def already_done(request: TransferRequest) -> Transfer | None:
    """Return the stored transfer of a repeated submit of the same request.

    A double click or a browser retry sends the same form, so the same
    transfer id and body. Such a repeat is shown as done without a second PIN
    check. The same id with another body is left to the core, which rejects it.
    """
    stored = Transfer.objects.filter(client_id=request.id).first()
    if stored is not None and stored.request_hash in request.known_hashes():
        return stored
    return None


# Confirming a payer -----------------------------------------------------------


def needs_step_up(amount: int | None) -> bool:
    return amount is not None and amount > wallet_policy.current_policy().step_up_amount


def authorize(
    request: HttpRequest, user: Any, amount: int, pin: str, password: str = ""
) -> None:
    """Check the payer's PIN and, above the step-up amount, their password.

    `user` is the wallet's holder: the signed-in citizen, or at a counter the
    citizen who types their PIN on the cashier's device. Raises FlowError.
    """
    check_pin(user, pin)
    if needs_step_up(amount):
        check_password(request, user, password)


def check_pin(user: Any, pin: str) -> None:
    """Check a wallet holder's PIN, raising FlowError on the `pin` field."""
    if user is None:
        raise FlowError(
            "no_pin",
            "pin",
            _(
                "This wallet has no payment PIN yet. Its holder sets one on their wallet page first."
            ),
        )
    try:
        pins.check_pin(user, pin)
    except pins.PinError as error:
        raise FlowError(error.code, "pin", error.message) from None


def check_password(request: HttpRequest, user: Any, password: str) -> None:
    """Check the account password of a step-up through Django's backends.

    Going through `authenticate` lets django-axes count the wrong tries and
    lock the account after the same number of failures as at sign-in.
    """
    limit = display.rupiah(wallet_policy.current_policy().step_up_amount)
    if not password:
        raise FlowError(
            "step_up_required",
            "password",
            _(
                "Payments above %(limit)s also need your account password. Enter it to confirm."
            )
            % {"limit": limit},
        )
    found = authenticate(request, username=user.get_username(), password=password)
    if found is None or found.pk != user.pk:
        logger.info("step-up password rejected", extra={"user_id": user.pk})
        raise FlowError(
            "wrong_password",
            "password",
            _(
                "The account password is wrong. Payments above %(limit)s need the password you sign in with."
            )
            % {"limit": limit},
        )


# Moving money -------------------------------------------------------------------


def transfer_request(
    wallet: Account, payee_number: str, amount: int, note: str, transfer_id: str
) -> TransferRequest:
    return TransferRequest(
        id=transfer_id,
        debit=wallet.number,
        credit=payee_number,
        amount=amount,
        kind=TransferKind.TRANSFER,
        channel=Channel.APP,
        memo=note,
    )


def payee_for_transfer(wallet: Account, number: str) -> Account:
    """Return the citizen wallet a transfer goes to, or raise FlowError."""
    payee = services.find_account(number)
    if payee is None:
        raise FlowError(
            "account_not_found",
            "number",
            _("No wallet has the number %(number)s. Check the number and try again.")
            % {"number": format_number(number)},
        )
    if payee.pk == wallet.pk:
        raise FlowError(
            "same_account",
            "number",
            _("This is your own wallet number. Enter the wallet number of the payee."),
        )
    if payee.kind != AccountKind.CITIZEN:
        raise FlowError(
            "not_a_wallet",
            "number",
            _(
                "The number %(number)s belongs to a merchant or city account, not a citizen wallet. Pay a merchant by scanning its QR code."
            )
            % {"number": format_number(number)},
        )
    return payee


def payment_request(
    wallet: Account, merchant: Account, code: qris.MerchantQr, amount: int, id: str
) -> TransferRequest:
    return TransferRequest(
        id=id,
        debit=wallet.number,
        credit=merchant.number,
        amount=amount,
        kind=TransferKind.PAYMENT,
        channel=Channel.QRIS,
        memo=code.bill_number or "",
    )


def pay_merchant(
    request: TransferRequest, code: qris.MerchantQr, actor: str
) -> Transfer:
    """Pay a merchant's QR code, paying a dynamic code with a bill number once.

    Raises FlowError("already_paid") when the merchant already received a
    payment for the code's bill number, and TransferRejected from the core.
    """
    if not (code.dynamic and code.bill_number):
        return services.submit(request, actor=actor)
    already_paid = FlowError(
        "already_paid",
        None,
        _(
            "This QR code for bill %(bill)s was already paid. Ask the merchant for a new QR code if you are paying for something else."
        )
        % {"bill": code.bill_number},
    )
    with transaction.atomic():
        paid = (
            Transfer.objects.filter(
                credit_account__number=request.credit,
                kind=TransferKind.PAYMENT,
                memo=code.bill_number,
                status=TransferStatus.POSTED,
            )
            .exclude(client_id=request.id)
            .exists()
        )
        if paid:
            raise already_paid
        transfer = services.submit(request, actor=actor)
        # The check above reads without a lock, so two payers who confirm the
        # same code at once both get here. The unique bill claim admits one.
        try:
            with transaction.atomic():
                BillPayment.objects.create(
                    merchant_id=transfer.credit_account_id,
                    bill_number=code.bill_number,
                    transfer=transfer,
                )
        except IntegrityError:
            claim = BillPayment.objects.filter(
                merchant_id=transfer.credit_account_id, bill_number=code.bill_number
            ).first()
            if claim is None or claim.transfer_id != transfer.pk:
                logger.info(
                    "bill %s of merchant %s was paid by another payer first",
                    code.bill_number,
                    transfer.credit_account_id,
                )
                raise already_paid from None
        return transfer


def cash_in(account: Account, amount: int, transfer_id: str, cashier: Any) -> Transfer:
    return services.top_up(
        account.number,
        amount,
        transfer_id=transfer_id,
        channel=Channel.COUNTER,
        actor=actor_of(cashier),
    )


def cash_out_request(
    account: Account, amount: int, transfer_id: str
) -> TransferRequest:
    return TransferRequest(
        id=transfer_id,
        debit=account.number,
        credit=services.settlement_account().number,
        amount=amount,
        kind=TransferKind.WITHDRAWAL,
        channel=Channel.COUNTER,
    )


def counter_wallet(number: str) -> Account:
    """Return the citizen wallet a cashier serves, or raise FlowError."""
    account = services.find_account(number)
    if account is None or account.kind != AccountKind.CITIZEN:
        raise FlowError(
            "account_not_found",
            "number",
            _(
                "No citizen wallet has the number %(number)s. Check the number on the citizen's wallet page."
            )
            % {"number": format_number(number)},
        )
    return account


# Merchants ------------------------------------------------------------------------


def merchant_payload(
    account: Account,
    *,
    mcc: str = DEFAULT_MCC,
    amount: int | None = None,
    bill_number: str | None = None,
) -> str:
    """Return the static (no amount) or dynamic QR payload of a merchant account."""
    policy = wallet_policy.current_policy()
    return qris.build_payload(
        gui=policy.qris_gui,
        merchant_id=account.number,
        merchant_name=account.label,
        merchant_city=policy.merchant_city,
        mcc=mcc,
        criteria=MERCHANT_CRITERIA,
        postal_code=policy.merchant_postal_code or None,
        amount=amount,
        bill_number=bill_number or None,
    )


def read_code(payload: str) -> qris.MerchantQr:
    """Parse a scanned payload, raising FlowError with the codec's message."""
    try:
        return qris.parse(payload, own_gui=wallet_policy.current_policy().qris_gui)
    except qris.QrisError as error:
        raise FlowError(error.code, "qr", error.message) from None


def merchant_of(code: qris.MerchantQr) -> Account:
    """Return the merchant account that one of our codes names, or raise FlowError."""
    if code.own_account is None:
        raise FlowError(
            "external_issuer",
            None,
            _(
                "This QR code is from another payment provider. Payments to other providers are not available in this pilot, so nothing was paid. Pay this merchant another way."
            ),
        )
    try:
        code.require_payable()
    except qris.QrisError as error:
        raise FlowError(error.code, "qr", error.message) from None
    if code.tip_indicator is not None:
        raise FlowError(
            "tip_not_supported",
            "qr",
            _(
                "This QR code asks for a tip or a fee, which the wallet cannot add. Ask the merchant for a QR code without one."
            ),
        )
    merchant = services.find_account(code.own_account.merchant_id or "")
    if merchant is None or merchant.kind != AccountKind.MERCHANT:
        raise FlowError(
            "merchant_not_found",
            "qr",
            _(
                "This QR code names a merchant that is not registered in the city's wallet. Ask the merchant for a new QR code."
            ),
        )
    return merchant


def incoming_payments(merchant: Account) -> QuerySet[Transfer]:
    return (
        Transfer.objects.filter(credit_account=merchant, status=TransferStatus.POSTED)
        .filter(phase__in=[Phase.SINGLE, Phase.POST])
        .select_related("debit_account__member", "debit_account__holder")
    )


def total_today(transfers: QuerySet[Transfer], day: date | None = None) -> int:
    day = day or timezone.localdate()
    start, end = _local_bounds(day, day + timedelta(days=1))
    total = transfers.filter(created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("amount")
    )["total"]
    return int(total or 0)


def payment_for_bill(merchant: Account, bill_number: str) -> Transfer | None:
    return incoming_payments(merchant).filter(memo=bill_number).first()


# Counters -------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterDay:
    """A cashier's counter transfers of one day and the cash to hand over."""

    day: date
    transfers: list[Transfer]
    cash_in: int
    cash_out: int

    @property
    def net_cash(self) -> int:
        return self.cash_in - self.cash_out

    @property
    def cash_short(self) -> int:
        """Return how much more cash the counter paid out than it took in."""
        return max(0, -self.net_cash)


def counter_transfers(cashier: Any) -> QuerySet[Transfer]:
    return Transfer.objects.filter(
        actor=actor_of(cashier),
        channel=Channel.COUNTER,
        # Levies paid in cash at the counter are cash the cashier took in too.
        kind__in=[TransferKind.TOPUP, TransferKind.WITHDRAWAL, TransferKind.LEVY],
        phase=Phase.SINGLE,
    ).select_related(
        "debit_account__member",
        "debit_account__holder",
        "credit_account__member",
        "credit_account__holder",
    )


def counter_day(cashier: Any, day: date) -> CounterDay:
    start, end = _local_bounds(day, day + timedelta(days=1))
    rows = list(
        counter_transfers(cashier).filter(created_at__gte=start, created_at__lt=end)
    )
    cash_in = sum(t.amount for t in rows if t.kind != TransferKind.WITHDRAWAL)
    cash_out = sum(t.amount for t in rows if t.kind == TransferKind.WITHDRAWAL)
    return CounterDay(day=day, transfers=rows, cash_in=cash_in, cash_out=cash_out)


def counter_wallet_of(transfer: Transfer) -> Account:
    """Return the side of a counter transfer that is not the cash drawer."""
    if transfer.kind in (TransferKind.TOPUP, TransferKind.LEVY):
        return transfer.credit_account
    return transfer.debit_account


# Dates ------------------------------------------------------------------------------


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _local_bounds(first: date, after: date) -> tuple[datetime, datetime]:
    """Return the aware start of `first` and of `after` in the active time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(after, time.min, tzinfo=zone),
    )
