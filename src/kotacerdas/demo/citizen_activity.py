"""The demo city's citizens at work while `kotacerdas run` runs.

The worker job "demo-citizens" plays a few minutes of city life on each run.
It makes shop payments by QR, transfers between wallets, bank top-ups and
levy payments at the counter. Now and then it files a citizen report of a
missed pickup or a full container. Everything goes through the same services as real users, so
the command center's figures move as they would in a live city. The job does
nothing unless KOTACERDAS_DEMO_CITIZENS is on, which `kotacerdas run` sets
for the demo city.
"""

import logging
import random
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F

from kotacerdas.accounts.models import User
from kotacerdas.demo.services import CITIZEN_USERNAME
from kotacerdas.journal.worker import register_job
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
from kotacerdas.waste.models import Container
from kotacerdas.waste.reports.models import Kind
from kotacerdas.waste.reports.services import ReportInput, ReportInvalid, file_report

logger = logging.getLogger(__name__)

JOB_INTERVAL_S = 30.0
ACTOR = "demo-citizens"
PAYMENTS_PER_RUN = (2, 6)
# Chances per run of a top-up, a counter levy payment and a citizen report.
TOP_UP_CHANCE = 0.5
LEVY_CHANCE = 0.6
REPORT_CHANCE = 0.08


@dataclass
class RunCounts:
    transfers: int = 0
    levy_payments: int = 0
    reports: int = 0
    rejected: int = 0


def run_demo_citizens(rng: random.Random | None = None) -> RunCounts:
    """Play one round of citizen activity; return what was recorded."""
    counts = RunCounts()
    if not settings.KOTACERDAS_DEMO_CITIZENS:
        return counts
    rng = rng or random.Random()  # noqa: S311  (demo data, not secrets)
    wallets = _funded_wallets(rng)
    merchants = list(
        Account.objects.filter(kind=AccountKind.MERCHANT, status=AccountStatus.ACTIVE)
        .order_by("id")
        .values_list("number", flat=True)[:200]
    )
    for request in _wallet_requests(rng, wallets, merchants):
        try:
            wallet.submit(request, actor=ACTOR)
            counts.transfers += 1
        except TransferRejected as error:
            # A payment beyond a balance or a limit is refused, as in life.
            counts.rejected += 1
            logger.info("demo citizen transfer %s rejected: %s", request.id, error.code)
    if rng.random() < LEVY_CHANCE and _pay_a_levy(rng):
        counts.levy_payments += 1
    if rng.random() < REPORT_CHANCE and _file_a_report(rng):
        counts.reports += 1
    if counts.transfers or counts.levy_payments or counts.reports:
        logger.info(
            "demo citizens: %s transfers, %s levy payments, %s reports (%s rejected)",
            counts.transfers,
            counts.levy_payments,
            counts.reports,
            counts.rejected,
        )
    return counts


def _funded_wallets(rng: random.Random) -> list[str]:
    """Citizen wallets with some money on them, a random sample of up to 50."""
    numbers = list(
        Account.objects.filter(
            kind=AccountKind.CITIZEN,
            status=AccountStatus.ACTIVE,
            credits_posted__gt=F("debits_posted") + 20_000,
        )
        .order_by("id")
        .values_list("number", flat=True)[:2000]
    )
    return rng.sample(numbers, min(50, len(numbers)))


def _wallet_requests(
    rng: random.Random, wallets: list[str], merchants: list[str]
) -> list[TransferRequest]:
    requests: list[TransferRequest] = []
    if not wallets:
        return requests
    for _n in range(rng.randint(*PAYMENTS_PER_RUN)):
        payer = rng.choice(wallets)
        if merchants and rng.random() < 0.8:
            requests.append(
                _request(
                    TransferKind.PAYMENT,
                    payer,
                    rng.choice(merchants),
                    rng.randrange(5_000, 50_001, 500),
                    Channel.QRIS,
                )
            )
        elif len(wallets) > 1:
            payee = rng.choice([w for w in wallets if w != payer])
            requests.append(
                _request(
                    TransferKind.TRANSFER,
                    payer,
                    payee,
                    rng.randrange(10_000, 50_001, 5_000),
                    Channel.APP,
                )
            )
    if rng.random() < TOP_UP_CHANCE:
        requests.append(
            _request(
                TransferKind.TOPUP,
                wallet.settlement_account().number,
                rng.choice(wallets),
                rng.choice((50_000, 100_000, 200_000)),
                Channel.BANK_VA,
            )
        )
    return requests


# Random ids spelled without digits: a random hex id now and then holds 16
# digits in a row, which the journal's personal-data guard rejects as a NIK.
_LETTERS_FOR_DIGITS = str.maketrans("0123456789", "ghijklmnop")


def _random_id() -> str:
    return uuid.uuid4().hex.translate(_LETTERS_FOR_DIGITS)


def _request(
    kind: str, debit: str, credit: str, amount: int, channel: str
) -> TransferRequest:
    return TransferRequest(
        id=f"demo-live-{kind}-{_random_id()}",
        debit=debit,
        credit=credit,
        amount=amount,
        kind=kind,
        channel=channel,
    )


def _pay_a_levy(rng: random.Random) -> bool:
    """Pay one open bill of this month in full at a counter."""
    open_bills = list(
        Bill.objects.filter(status=Bill.Status.OPEN)
        .order_by("-month", "id")
        .values_list("id", "amount")[:500]
    )
    if not open_bills:
        return False
    bill_id, amount = rng.choice(open_bills)
    try:
        levy.pay_at_counter(
            bill_id,
            amount=amount,
            transfer_id=f"demo-live-levy-{_random_id()}",
            actor=None,
        )
    except (levy.LevyError, TransferRejected) as error:
        logger.info("demo citizen levy payment on bill %s rejected: %s", bill_id, error)
        return False
    return True


def _file_a_report(rng: random.Random) -> bool:
    """File a report about a random container or a missed pickup near one."""
    reporter = User.objects.filter(username=CITIZEN_USERNAME).first()
    containers = list(
        Container.objects.filter(active=True)
        .order_by("id")
        .values_list("lat", "lng", "plate_code")[:500]
    )
    if reporter is None or not containers:
        return False
    lat, lng, plate = rng.choice(containers)
    full = rng.random() < 0.5
    data = ReportInput(
        kind=Kind.FULL_CONTAINER if full else Kind.MISSED_PICKUP,
        description=(
            "Kontainer sudah penuh dan sampah meluber."
            if full
            else "Sampah di jalan ini belum diangkut sejak kemarin."
        ),
        lat=lat,
        lng=lng,
        container_plate=plate if full else "",
    )
    try:
        file_report(data, reporter)
    except ReportInvalid as error:
        logger.info("demo citizen report rejected: %s", error)
        return False
    return True


def register() -> None:
    """Register the demo-citizens worker job (called from the demo app's ready())."""
    register_job("demo-citizens", run_demo_citizens, JOB_INTERVAL_S)
