"""The demo city's money: wallets with history, merchants with QR codes.

Runs after the demo registry. A share of the adults get a registered wallet,
shops and market stalls become merchants, and a day of top-ups, shop payments
and transfers between people gives every page something to show. The demo
citizen's wallet is funded and gets the payment PIN `DEMO_PIN`. All money
moves through the wallet services, so every rupiah is journalled. The
transfers are dated when the demo is built: the journal never backdates.
"""

import logging
import random
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from kotacerdas.accounts.models import User
from kotacerdas.demo.services import CITIZEN_USERNAME, DEMO_PIN
from kotacerdas.registry.models import Building, Member
from kotacerdas.wallet import bulk, pins, services
from kotacerdas.wallet.models import Account, AccountKind, Channel, Tier, TransferKind
from kotacerdas.wallet.services import TransferRequest

logger = logging.getLogger(__name__)

MERCHANT_USERNAME = "merchant"
DEMO_MERCHANT_NAME = "Warung Nasi Kapau Demo"
# Share of adults (17 and over) with a wallet: an estimate for a pilot's
# first months, not a measured figure.
WALLET_SHARE = 0.35
MERCHANT_USES = ("shop", "shop_house", "market_stall")
MAX_MERCHANTS = 120
BATCH = 1000
WASTE_BANK_CODE = "waste_bank"
ACTOR = "demo"
# Invented business names; "%s" takes the kelurahan's name.
SHOP_NAMES = (
    "Warung Makan Sederhana %s",
    "Toko Kelontong Berkah %s",
    "Kedai Kopi Singgalang %s",
    "Sate Padang Mak Etek %s",
    "Toko Bangunan Jaya %s",
    "Apotek Sehat %s",
    "Warung Sarapan Bundo %s",
    "Toko Kain Minang %s",
    "Bengkel Motor Rancak %s",
    "Los Sayur Pasar %s",
)


@dataclass
class WalletSummary:
    wallets: int = 0
    merchants: int = 0
    transfers: int = 0
    rejected: int = 0

    def result_line(self) -> str:
        return (
            f"Opened {self.wallets:,} wallets and {self.merchants:,} merchants; "
            f"{self.transfers:,} demo transfers."
        )


def build_demo_wallets(seed: int) -> WalletSummary:
    """Open the demo wallets and merchants and play one day of payments."""
    rng = random.Random(f"{seed}:wallets")  # noqa: S311  (demo data, not secrets)
    summary = WalletSummary()
    settlement = services.settlement_account()
    services.fees_account()
    services.revenue_account("waste_levy")
    waste_bank = services.system_account(
        WASTE_BANK_CODE, AccountKind.WASTE_BANK, "Bank sampah"
    )

    citizen_wallet = _demo_citizen_wallet()
    wallets = _open_citizen_wallets(rng, summary)
    merchants = _open_merchants(rng, summary)
    if citizen_wallet is not None:
        wallets.insert(0, citizen_wallet.number)

    requests = _top_ups(rng, settlement.number, wallets, citizen_wallet)
    requests += _shop_payments(rng, wallets, merchants)
    requests += _transfers(rng, wallets)
    requests += _waste_bank_credits(rng, settlement.number, waste_bank.number, wallets)
    for start in range(0, len(requests), BATCH):
        results = services.submit_batch(requests[start : start + BATCH], actor=ACTOR)
        summary.transfers += sum(1 for r in results if r.transfer is not None)
        summary.rejected += sum(1 for r in results if r.error is not None)
    if summary.rejected:
        # Random payments can exceed a wallet's balance; those are simply
        # not made, as in life.
        logger.info("demo: %s random transfers were rejected", summary.rejected)
    logger.info("demo wallets: %s", summary.result_line())
    return summary


def _demo_citizen_wallet() -> Account | None:
    user = User.objects.filter(username=CITIZEN_USERNAME).first()
    if user is None:
        return None
    wallet = services.wallet_for(user)
    if wallet is not None and not pins.has_pin(user):
        pins.set_pin(user, DEMO_PIN)
    return wallet


def _open_citizen_wallets(rng: random.Random, summary: WalletSummary) -> list[str]:
    today = date.today()
    adult_before = today.replace(year=today.year - 17)
    candidates = list(
        Member.objects.filter(
            status=Member.Status.ACTIVE,
            birth_date__lte=adult_before,
            wallet__isnull=True,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    chosen = sorted(rng.sample(candidates, int(len(candidates) * WALLET_SHARE)))
    numbers: list[str] = []
    for start in range(0, len(chosen), BATCH * 2):
        specs = [
            bulk.NewAccount(
                AccountKind.CITIZEN, member_id=member_id, tier=Tier.REGISTERED
            )
            for member_id in chosen[start : start + BATCH * 2]
        ]
        with transaction.atomic():
            numbers += [a.number for a in bulk.open_accounts(specs, actor=ACTOR)]
    summary.wallets = len(numbers)
    return numbers


def _open_merchants(rng: random.Random, summary: WalletSummary) -> list[str]:
    merchants = []
    user = User.objects.filter(username=MERCHANT_USERNAME).first()
    if user is not None and services.merchant_account_for(user) is None:
        merchants.append(
            services.open_merchant(user, DEMO_MERCHANT_NAME, actor=ACTOR).number
        )
    shops = list(
        Building.objects.filter(use__in=MERCHANT_USES)
        .order_by("id")
        .values_list("kelurahan__name", flat=True)
    )
    picked = rng.sample(shops, min(MAX_MERCHANTS, len(shops)))
    specs = [
        bulk.NewAccount(
            AccountKind.MERCHANT,
            label=SHOP_NAMES[i % len(SHOP_NAMES)] % place,
            tier=Tier.REGISTERED,
        )
        for i, place in enumerate(picked)
    ]
    with transaction.atomic():
        merchants += [a.number for a in bulk.open_accounts(specs, actor=ACTOR)]
    summary.merchants = len(merchants)
    return merchants


def _request(
    kind: str, debit: str, credit: str, amount: int, channel: str, n: int
) -> TransferRequest:
    return TransferRequest(
        id=f"demo-{kind}-{n}",
        debit=debit,
        credit=credit,
        amount=amount,
        kind=kind,
        channel=channel,
    )


def _top_ups(
    rng: random.Random, settlement: str, wallets: list[str], citizen: Account | None
) -> list[TransferRequest]:
    requests = []
    for n, number in enumerate(wallets):
        if citizen is not None and number == citizen.number:
            amount = 500_000
        else:
            amount = rng.choice((20_000, 50_000, 100_000, 150_000, 200_000, 300_000))
        channel = Channel.BANK_VA if rng.random() < 0.7 else Channel.COUNTER
        requests.append(
            _request(TransferKind.TOPUP, settlement, number, amount, channel, n)
        )
    return requests


def _shop_payments(
    rng: random.Random, wallets: list[str], merchants: list[str]
) -> list[TransferRequest]:
    if not merchants:
        return []
    requests = []
    for n in range(int(len(wallets) * 1.2)):
        amount = rng.randrange(5_000, 75_001, 500)
        requests.append(
            _request(
                TransferKind.PAYMENT,
                rng.choice(wallets),
                rng.choice(merchants),
                amount,
                Channel.QRIS,
                n,
            )
        )
    return requests


def _transfers(rng: random.Random, wallets: list[str]) -> list[TransferRequest]:
    if len(wallets) < 2:
        return []
    requests = []
    for n in range(len(wallets) // 5):
        payer, payee = rng.sample(wallets, 2)
        amount = rng.randrange(10_000, 100_001, 5_000)
        requests.append(
            _request(TransferKind.TRANSFER, payer, payee, amount, Channel.APP, n)
        )
    return requests


def _waste_bank_credits(
    rng: random.Random, settlement: str, waste_bank: str, wallets: list[str]
) -> list[TransferRequest]:
    """Fund the waste bank payout account, then pay some members for deposits."""
    if not wallets:
        return []
    payees = rng.sample(wallets, max(1, len(wallets) // 10))
    amounts = [rng.randrange(2_000, 40_001, 500) for _ in payees]
    funding = TransferRequest(
        id="demo-waste-bank-funding",
        debit=settlement,
        credit=waste_bank,
        amount=sum(amounts),
        kind=TransferKind.TOPUP,
        channel=Channel.COUNTER,
    )
    requests = [funding]
    for n, (number, amount) in enumerate(zip(payees, amounts, strict=True)):
        requests.append(
            _request(
                TransferKind.WASTE_BANK_CREDIT,
                waste_bank,
                number,
                amount,
                Channel.APP,
                n,
            )
        )
    return requests
