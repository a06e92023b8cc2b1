"""The demo city's waste levy: the current month billed and partly paid.

Runs after the demo wallets. Households whose members have a wallet pay most
of their bills from it; some others pay at a counter, a few only in part; the
rest stay open, so the collection report has a rate below 100% to show. The
demo citizen's own household is left unpaid so a visitor can pay it.
"""

import logging
import random
from dataclasses import dataclass

from kotacerdas.demo.services import CITIZEN_USERNAME
from kotacerdas.levy import billing, bulk
from kotacerdas.levy.models import Bill
from kotacerdas.levy.months import current_month
from kotacerdas.registry.models import Member
from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account, Channel

logger = logging.getLogger(__name__)

BATCH = 1000
ACTOR = "demo"
# Shares of the month's bills the demo pays: an invented mix, not a survey.
WALLET_PAY_SHARE = 0.7
COUNTER_PAY_SHARE = 0.35
PARTIAL_SHARE = 0.1


@dataclass
class LevySummary:
    billed: int = 0
    paid: int = 0
    partly_paid: int = 0

    def result_line(self) -> str:
        return (
            f"Billed {self.billed:,} levy bills for this month; "
            f"{self.paid:,} paid and {self.partly_paid:,} partly paid."
        )


def build_demo_levies(seed: int) -> LevySummary:
    """Bill the current month and pay part of it, from wallets and at counters."""
    rng = random.Random(f"{seed}:levies")  # noqa: S311  (demo data, not secrets)
    run = billing.run_billing(current_month(), actor=ACTOR)
    summary = LevySummary(billed=run.billed_count)
    wallets = _household_wallets()
    skip = _citizen_household()
    settlement = services.settlement_account().number
    requests = []
    bills = Bill.objects.filter(month=current_month()).order_by("id")
    for bill in bills.values("id", "household_id", "amount").iterator():
        if bill["household_id"] is not None and bill["household_id"] == skip:
            continue
        amount = bill["amount"]
        if rng.random() < PARTIAL_SHARE:
            amount = max(1000, amount // 2)
        wallet = wallets.get(bill["household_id"])
        if wallet is not None and rng.random() < WALLET_PAY_SHARE:
            payer, channel = wallet, Channel.APP
        elif rng.random() < COUNTER_PAY_SHARE:
            payer, channel = settlement, Channel.COUNTER
        else:
            continue
        requests.append(
            bulk.BillPayment(
                bill["id"], payer, amount, f"demo-levy-{bill['id']}", channel
            )
        )
    rejected = 0
    for start in range(0, len(requests), BATCH):
        results = bulk.pay_bills(requests[start : start + BATCH], actor=ACTOR)
        rejected += sum(1 for result in results if result.error is not None)
    if rejected:
        # A wallet emptied by the demo's shop payments cannot pay its bill.
        logger.info("demo levies: %s payments were rejected", rejected)
    summary.paid = bills.filter(status=Bill.Status.PAID).count()
    summary.partly_paid = bills.filter(status=Bill.Status.PARTLY_PAID).count()
    logger.info("demo levies: %s", summary.result_line())
    return summary


def _household_wallets() -> dict[int, str]:
    """Map each household to the wallet number of one member who has a wallet."""
    rows = Account.objects.filter(member__isnull=False).values_list(
        "member__household_id", "number"
    )
    wallets: dict[int, str] = {}
    for household_id, number in rows.order_by("id").iterator():
        wallets.setdefault(household_id, number)
    return wallets


def _citizen_household() -> int | None:
    member = Member.objects.filter(user__username=CITIZEN_USERNAME).first()
    return member.household_id if member else None
