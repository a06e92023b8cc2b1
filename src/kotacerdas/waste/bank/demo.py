"""The demo city's seven bank sampah of Padang Panjang, with members and deposits.

Unit names and kelurahan follow Antara Sumbar's list of the city's seven
waste banks; Sarunai is the BSI, open Saturdays 08:00-14:00. Prices are the
middle of the indicative ranges published by Indonesian waste banks.
"""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from kotacerdas.city.models import Area
from kotacerdas.wallet.models import Account, AccountKind
from kotacerdas.waste.bank import services, validation
from kotacerdas.waste.bank.models import Deposit, Membership, Unit
from kotacerdas.waste.models import Site
from kotacerdas.waste.places import SiteInput, save_site

logger = logging.getLogger(__name__)

# code, name, kelurahan code, kind, opening hours
UNITS = (
    ("sarunai", "Bank Sampah Sarunai", "13.74.01.1003", "bsi", "Sabtu 08:00-14:00"),
    ("karabu", "Bank Sampah Karabu", "13.74.01.1001", "bsu", ""),
    ("teratai", "Bank Sampah Teratai", "13.74.02.1005", "bsu", ""),
    ("kalikih-kuniang", "Bank Sampah Kalikih Kuniang", "13.74.01.1006", "bsu", ""),
    ("sakinah", "Bank Sampah Sakinah", "13.74.01.1005", "bsu", ""),
    ("sungai-andok", "Bank Sampah Sungai Andok", "13.74.02.1007", "bsu", ""),
    ("anggrek-bulan", "Bank Sampah Anggrek Bulan", "13.74.02.1002", "bsu", ""),
)
PRICES = {
    "pet": 4_000,
    "pp-cups": 2_500,
    "hdpe": 5_000,
    "plastic-bags": 2_000,
    "hvs-paper": 1_400,
    "cardboard": 900,
    "cans": 1_900,
    "aluminium": 4_000,
    "copper": 43_000,
}
FUNDING = 5_000_000
ACTOR = "demo"


@dataclass
class BankSummary:
    units: int = 0
    members: int = 0
    deposits: int = 0

    def result_line(self) -> str:
        return (
            f"Opened {self.units} waste banks with {self.members} members "
            f"and {self.deposits} deposits."
        )


def seed(
    rng: random.Random, *, members_per_unit: int = 8, teller_username: str = "teller"
) -> BankSummary:
    """Create the seven units, price lists, members and posted deposits.

    Idempotent: a unit that exists is left as it is. Members are drawn from
    the citizen wallets of people living in the unit's kelurahan, or from any
    citizen wallet when that kelurahan has too few. A wallet with a login
    (the demo citizen's) joins the unit of its kelurahan first. A wallet needs
    no login to join. The demo teller works at every unit.
    """
    summary = BankSummary()
    teller = get_user_model().objects.filter(username=teller_username).first()
    for code, name, kelurahan, kind, hours in UNITS:
        if Unit.objects.filter(code=code).exists():
            continue
        unit = _open(code, name, kelurahan, kind, hours)
        summary.units += 1
        if teller is None:
            continue
        unit.tellers.add(teller)
        for account_id in _member_wallets(rng, kelurahan, members_per_unit):
            membership = services.join(
                unit, Account.objects.get(pk=account_id), actor=ACTOR
            )
            summary.members += 1
            summary.deposits += _deposit(rng, membership, teller)
    logger.info("demo waste banks: %s", summary.result_line())
    return summary


def _member_wallets(rng: random.Random, kelurahan: str, count: int) -> list[int]:
    """Return the ids of `count` citizen wallets to join a unit in `kelurahan`."""
    citizen = Account.objects.filter(kind=AccountKind.CITIZEN).order_by("id")
    local = citizen.filter(
        Q(member__household__building__kelurahan__code=kelurahan)
        | Q(holder__member__household__building__kelurahan__code=kelurahan)
    )
    with_login = list(local.filter(holder__isnull=False).values_list("pk", flat=True))
    others = list(local.exclude(pk__in=with_login).values_list("pk", flat=True))
    chosen = with_login[:count]
    chosen += rng.sample(others, min(count - len(chosen), len(others)))
    if len(chosen) < count:
        rest = list(citizen.exclude(pk__in=chosen).values_list("pk", flat=True))
        chosen += rng.sample(rest, min(count - len(chosen), len(rest)))
    return chosen


def _open(code: str, name: str, kelurahan: str, kind: str, hours: str) -> Unit:
    # The demo waste system (demo.waste) names these sites bank-sampah-<code>.
    site = Site.objects.filter(code__in=(f"bank-sampah-{code}", f"bank-{code}")).first()
    if site is None:
        area = Area.objects.get(code=kelurahan)
        site = save_site(
            SiteInput(
                code=f"bank-{code}",
                name=name,
                kind=Site.Kind.WASTE_BANK,
                lat=area.centroid_lat,
                lng=area.centroid_lng,
                kelurahan_code=kelurahan,
            ),
            actor=None,
        )
    unit = services.open_unit(
        code=code, name=name, site=site, kind=kind, opening_hours=hours, actor=ACTOR
    )
    services.fund_unit(unit, FUNDING, f"demo-wastebank-fund-{code}", ACTOR)
    start = timezone.localdate() - timedelta(days=30)
    services.set_prices(unit, start, PRICES, actor=ACTOR)
    return unit


def _deposit(rng: random.Random, membership: Membership, teller: Any) -> int:
    materials = rng.sample(["pet", "cardboard", "hdpe", "plastic-bags", "cans"], 2)
    items = [(code, rng.randrange(300, 6_000, 50)) for code in materials]
    deposit = services.record_deposit(
        membership,
        items,
        client_id=f"demo-{membership.pk}",
        teller=teller,
    )
    # Most deposits pass the sorting check; a few wait at the unit.
    if rng.random() < 0.8 and deposit.status == Deposit.Status.PENDING:
        validation.validate_deposit(deposit, teller)
    return 1
