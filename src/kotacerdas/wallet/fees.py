"""Fees on wallet transfers: which fee a transfer bears, and its linked split.

`services.submit` runs `submit_with_fee`. When the city's schedule has a fee
in force today for the transfer, the transfer and the fee's parts are posted
in one transaction as linked transfers under the transfer's id. The bearer
pays the city's part into `fees:city` and the partner's part into
`fees:partner` (kind `fee`), and one `wallet.fee.charged` event names the fee
entry and the sharing rule that applied. A fee of 0 rupiah posts nothing, and
the transfer is then stored exactly as without a schedule.

Which transfers bear which fee:

- a payment to a merchant: `qr_mdr`, borne by the merchant;
- a top-up of a citizen wallet: `topup`, borne by the wallet topped up;
- a withdrawal from a citizen or merchant account: `cashout`, borne by it;
- a levy paid from a citizen or merchant account: `levy_service`, borne by
  the payer, or by the city from the levy's revenue account.

Reservations (two-phase transfers) and the batch path bear no fee.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.city.models import City
from kotacerdas.sharing import schedule, split
from kotacerdas.wallet import services
from kotacerdas.wallet.events import FeeCharged
from kotacerdas.wallet.models import Account, AccountKind, Transfer, TransferKind
from kotacerdas.wallet.services import TransferRejected, TransferRequest

logger = logging.getLogger(__name__)

CITY_ACCOUNT_CODE = "fees:city"
PARTNER_ACCOUNT_CODE = "fees:partner"
ACCOUNT_LABELS = {
    schedule.CITY: (CITY_ACCOUNT_CODE, "Fees: city share"),
    schedule.PARTNER: (PARTNER_ACCOUNT_CODE, "Fees: partner share"),
}
PAYING_KINDS = (AccountKind.CITIZEN, AccountKind.MERCHANT)


@dataclass(frozen=True)
class FeePlan:
    """The fee transfers and the journal event that go with one transfer."""

    fee: schedule.Fee
    bearer: Account
    requests: list[TransferRequest]
    event: FeeCharged


def submit_with_fee(request: TransferRequest, *, actor: str | None = None) -> Transfer:
    """Carry out a transfer and the fee it bears, or return it if its id was seen.

    A retry with the same id returns the stored transfer even when the fee
    schedule changed in between, so a retry never posts a second fee.
    Raises TransferRejected; then neither the transfer nor its fee is written.
    """
    stored = Transfer.objects.filter(client_id=request.id).first()
    if stored is not None and stored.request_hash in request.known_hashes():
        return stored
    plan = plan_fee(request, timezone.localdate())
    if plan is None:
        return services.submit_linked([request], actor=actor)[0]
    try:
        transfers = services.submit_linked(
            [request, *plan.requests],
            actor=actor,
            events=[("wallet.fee.charged", plan.event)],
        )
    except TransferRejected as error:
        raise _explained(error, request, plan) from None
    return transfers[0]


def plan_fee(request: TransferRequest, day: date) -> FeePlan | None:
    """Return the fee a transfer bears on `day`, or None when it bears none."""
    if request.pending:
        return None
    city = City.objects.order_by("id").first()
    settings = city.settings if city is not None else {}
    if not settings.get("fees"):
        return None

    accounts = {
        account.number: account
        for account in Account.objects.filter(
            number__in=[request.debit, request.credit]
        )
    }
    debit = accounts.get(request.debit)
    credit = accounts.get(request.credit)
    if debit is None or credit is None:
        return None  # The core rejects the transfer and names the missing account.
    kind = fee_kind(request.kind, debit.kind, credit.kind)
    if kind is None:
        return None

    fee = schedule.fee_on(schedule.fees_of(settings), kind, day)
    if fee is None:
        return None
    amount = split.fee_amount(fee, request.amount)
    if amount == 0:
        return None

    rule = schedule.rule_on(schedule.rules_of(settings), day)
    if rule is None:
        raise ValueError(f"no sharing rule is in force on {day} for fee {fee.code}")
    bearer = credit if _credit_bears(fee.bearer, request.kind) else debit
    return _plan(request, fee, rule, bearer, split.split_fee(amount, rule))


def fee_kind(transfer_kind: str, debit_kind: str, credit_kind: str) -> str | None:
    """Return the kind of fee a transfer between these kinds of account bears."""
    if transfer_kind == TransferKind.PAYMENT and credit_kind == AccountKind.MERCHANT:
        return schedule.QR_MDR
    if transfer_kind == TransferKind.TOPUP and credit_kind == AccountKind.CITIZEN:
        return schedule.TOPUP
    if transfer_kind == TransferKind.WITHDRAWAL and debit_kind in PAYING_KINDS:
        return schedule.CASHOUT
    if transfer_kind == TransferKind.LEVY and debit_kind in PAYING_KINDS:
        return schedule.LEVY_SERVICE
    return None


def fee_transfer_id(transfer_id: str, party: str) -> str:
    """Return the client id of one part of a transfer's fee.

    Client ids have at most 64 characters. A transfer id too long to take the
    suffix gets a fee id built from its SHA-256 instead, which the fee event
    links back to the transfer.
    """
    suffix = f":fee-{party}"
    if len(transfer_id) + len(suffix) <= 64:
        return transfer_id + suffix
    digest = hashlib.sha256(transfer_id.encode()).digest()
    return f"fee-{party}:" + base64.b32encode(digest).decode()[:40].lower()


def fee_account(party: str) -> Account:
    """Return the account that receives the city's or the partner's part of fees."""
    code, label = ACCOUNT_LABELS[party]
    return services.system_account(code, AccountKind.FEES, label)


def _credit_bears(bearer: str, transfer_kind: str) -> bool:
    """Tell whether the transfer's credited account pays the fee.

    The merchant of a payment and the city's revenue account of a levy are
    credited. So is the wallet of a top-up, whose holder is the payer.
    """
    if bearer == schedule.PAYER:
        return transfer_kind == TransferKind.TOPUP
    return True


def _plan(
    request: TransferRequest,
    fee: schedule.Fee,
    rule: schedule.SharingRule,
    bearer: Account,
    parts: split.Split,
) -> FeePlan:
    requests = []
    client_ids: dict[str, str | None] = {}
    for party, amount in (
        (schedule.CITY, parts.city_rupiah),
        (schedule.PARTNER, parts.partner_rupiah),
    ):
        client_ids[party] = None
        if amount == 0:
            continue
        client_ids[party] = fee_transfer_id(request.id, party)
        requests.append(
            TransferRequest(
                id=client_ids[party] or "",
                debit=bearer.number,
                credit=fee_account(party).number,
                amount=amount,
                kind=TransferKind.FEE,
                channel=request.channel,
                memo=fee.code,
            )
        )
    event = FeeCharged(
        payment_client_id=request.id,
        payment_kind=request.kind,
        payment_amount=request.amount,
        fee_code=fee.code,
        fee_kind=fee.kind,
        fee_valid_from=fee.valid_from.isoformat(),
        fee_rate_bp=fee.rate_bp,
        bearer=fee.bearer,
        bearer_account_id=bearer.pk,
        fee_amount=parts.fee_rupiah,
        sharing_valid_from=rule.version,
        city_bp=rule.city_bp,
        partner_bp=rule.partner_bp,
        remainder_to=rule.remainder_to,
        city_amount=parts.city_rupiah,
        partner_amount=parts.partner_rupiah,
        city_client_id=client_ids[schedule.CITY],
        partner_client_id=client_ids[schedule.PARTNER],
    )
    return FeePlan(fee, bearer, requests, event)


def _explained(
    error: TransferRejected, request: TransferRequest, plan: FeePlan
) -> TransferRejected:
    """Name the fee in a balance error that the fee may have caused."""
    if error.code != "exceeds_balance" or plan.fee.bearer != schedule.PAYER:
        return error
    fee = number_format(plan.event.fee_amount, force_grouping=True)
    amount = number_format(request.amount, force_grouping=True)
    if request.kind == TransferKind.TOPUP:
        message = _(
            "The top-up of Rp%(amount)s does not cover its fee of Rp%(fee)s. "
            "Top up a larger amount."
        ) % {"amount": amount, "fee": fee}
    else:
        available = Account.objects.get(number=request.debit).available
        message = _(
            "The balance is not enough for Rp%(amount)s plus the fee of "
            "Rp%(fee)s: Rp%(available)s is available."
        ) % {
            "amount": amount,
            "fee": fee,
            "available": number_format(available, force_grouping=True),
        }
    logger.info(
        "transfer %s rejected: balance short of amount and fee",
        request.id,
        extra={"fee_code": plan.fee.code},
    )
    return TransferRejected(error.code, error.field, message)
