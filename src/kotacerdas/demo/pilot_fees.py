"""Fee-bearing wallet activity of the demo pilot's citizens.

The demo's bulk wallet data goes through `wallet.services.submit_batch`, which
posts no fees, so without this module the month's sharing statement would
show only fees from live actions. Here citizens of the pilot kelurahan top up
their wallets, pay demo merchants by QR, cash out at a counter and pay levy
bills from their wallets, each through `wallet.services.submit` (or
`levy.services.pay_bill`), so every fee in the city's schedule is charged
and split as it would be for a real user.

The choices come from a seeded random generator and the transfer ids are
counters, so two builds with the same seed post the same transfers.
"""

import logging
import random
from dataclasses import dataclass

from kotacerdas.levy import services as levy
from kotacerdas.levy.models import Bill
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountStatus,
    Channel,
    TransferKind,
)
from kotacerdas.wallet.services import TransferRejected, TransferRequest

logger = logging.getLogger(__name__)

ACTOR = "demo-pilot"
ID_PREFIX = "demo-pilot-fee"
WALLETS = 12
TOP_UP_RUPIAH = 1_000_000
# QRIS payments up to Rp500.000 bear no merchant discount rate (Bank
# Indonesia's 0% for micro merchants), so some shop payments are larger.
SMALL_QR_PAYMENTS = 16
SMALL_QR_RUPIAH = (10_000, 75_000)
LARGE_QR_PAYMENTS = 8
LARGE_QR_RUPIAH = (510_000, 750_000)
CASH_OUTS = 4
CASH_OUT_RUPIAH = (20_000, 50_000)
LEVY_PAYMENTS = 6


@dataclass
class FeeActivity:
    """Counts of the transfers posted, by kind, and of those rejected."""

    top_ups: int = 0
    payments: int = 0
    cash_outs: int = 0
    levy_payments: int = 0
    rejected: int = 0

    @property
    def posted(self) -> int:
        return self.top_ups + self.payments + self.cash_outs + self.levy_payments


def post_fee_activity(codes: tuple[str, ...], rng: random.Random) -> FeeActivity:
    """Post top-ups, QR payments, cash-outs and levy payments in kelurahan `codes`."""
    activity = FeeActivity()
    candidates = _pilot_wallets(codes)
    wallets = rng.sample(candidates, min(WALLETS, len(candidates)))
    merchants = list(
        Account.objects.filter(kind=AccountKind.MERCHANT, status=AccountStatus.ACTIVE)
        .order_by("id")
        .values_list("number", flat=True)[:50]
    )
    if not wallets:
        logger.info("demo pilot fees: no citizen wallet in the pilot kelurahan")
        return activity
    settlement = wallet.settlement_account().number

    for index, account in enumerate(wallets):
        request = _request(
            TransferKind.TOPUP,
            index,
            settlement,
            account.number,
            TOP_UP_RUPIAH,
            Channel.BANK_VA,
        )
        if _submit(request, activity):
            activity.top_ups += 1

    for index in range(SMALL_QR_PAYMENTS + LARGE_QR_PAYMENTS if merchants else 0):
        if index < LARGE_QR_PAYMENTS:
            # One large payment per wallet, which its top-up covers.
            payer = wallets[index % len(wallets)]
            low, high = LARGE_QR_RUPIAH
        else:
            payer = rng.choice(wallets)
            low, high = SMALL_QR_RUPIAH
        request = _request(
            TransferKind.PAYMENT,
            index,
            payer.number,
            rng.choice(merchants),
            rng.randrange(low, high + 1, 500),
            Channel.QRIS,
        )
        if _submit(request, activity):
            activity.payments += 1

    for index in range(CASH_OUTS):
        amount = rng.randrange(CASH_OUT_RUPIAH[0], CASH_OUT_RUPIAH[1] + 1, 5_000)
        request = _request(
            TransferKind.WITHDRAWAL,
            index,
            rng.choice(wallets).number,
            settlement,
            amount,
            Channel.COUNTER,
        )
        if _submit(request, activity):
            activity.cash_outs += 1

    # The sampled wallets go first, then the other pilot wallets, until
    # LEVY_PAYMENTS holders with an open household bill have paid it.
    sampled = {account.pk for account in wallets}
    payers = wallets + [account for account in candidates if account.pk not in sampled]
    activity.levy_payments = _pay_levies(payers, activity)
    logger.info(
        "demo pilot fees: %s transfers posted, %s rejected",
        activity.posted,
        activity.rejected,
    )
    return activity


def _pilot_wallets(codes: tuple[str, ...]) -> list[Account]:
    """Return up to 500 active citizen wallets of members living in `codes`."""
    return list(
        Account.objects.filter(
            kind=AccountKind.CITIZEN,
            status=AccountStatus.ACTIVE,
            member__household__building__kelurahan__code__in=codes,
        )
        .select_related("member")
        .order_by("id")[:500]
    )


def _pay_levies(wallets: list[Account], activity: FeeActivity) -> int:
    """Pay the open bill of each wallet holder's household, up to LEVY_PAYMENTS."""
    paid = 0
    for index, account in enumerate(wallets):
        if paid >= LEVY_PAYMENTS:
            break
        if account.member is None:
            continue
        bill = (
            Bill.objects.filter(
                household_id=account.member.household_id, status=Bill.Status.OPEN
            )
            .order_by("month", "id")
            .first()
        )
        if bill is None or bill.amount - bill.paid_amount <= 0:
            continue
        account.refresh_from_db(
            fields=["credits_posted", "debits_posted", "debits_pending"]
        )
        if account.available < bill.amount - bill.paid_amount:
            continue
        try:
            levy.pay_bill(
                bill,
                payer_account_number=account.number,
                amount=bill.amount - bill.paid_amount,
                transfer_id=f"{ID_PREFIX}-levy-{index}",
                channel=Channel.APP,
                actor=None,
            )
        except (levy.LevyError, TransferRejected) as error:
            activity.rejected += 1
            logger.info(
                "demo pilot levy payment on bill %s rejected: %s", bill.pk, error
            )
            continue
        paid += 1
    return paid


def _request(
    kind: str, index: int, debit: str, credit: str, amount: int, channel: str
) -> TransferRequest:
    return TransferRequest(
        id=f"{ID_PREFIX}-{kind}-{index}",
        debit=debit,
        credit=credit,
        amount=amount,
        kind=kind,
        channel=channel,
    )


def _submit(request: TransferRequest, activity: FeeActivity) -> bool:
    try:
        wallet.submit(request, actor=ACTOR)
    except TransferRejected as error:
        # A payment beyond a balance or a monthly limit is rejected, as in life.
        activity.rejected += 1
        logger.info("demo pilot transfer %s rejected: %s", request.id, error.code)
        return False
    return True
