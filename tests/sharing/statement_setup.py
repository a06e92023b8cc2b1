"""Helpers of the cost and statement tests: a schedule, a pilot, payments."""

import itertools
from datetime import date, timedelta

from django.utils import timezone

from kotacerdas.pilot.services_api import AreaInput, PilotInput, create_pilot
from kotacerdas.sharing import schedule
from kotacerdas.sharing.services import CostInput, correct_cost, record_cost
from kotacerdas.wallet import services
from kotacerdas.wallet.models import AccountKind, Tier
from kotacerdas.wallet.services import TransferRequest

_ids = itertools.count(1)
# The rules start long before any date the tests use, so every cost and
# payment has a rule in force.
RULE_START = date(2025, 1, 1)


def today() -> date:
    return timezone.localdate()


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{next(_ids)}"


def set_schedule(city, *, city_bp=4000, remainder_to="city", extra_rules=()):
    """Give the city the demo fees and one sharing rule from RULE_START."""
    start = RULE_START.isoformat()
    fees = [
        {
            "code": "QRIS-UMI",
            "kind": "qr_mdr",
            "rate_bp": 30,
            "free_up_to": 500_000,
            "bearer": "merchant",
            "valid_from": start,
        },
        {
            "code": "TOPUP",
            "kind": "topup",
            "amount": 1_000,
            "bearer": "payer",
            "valid_from": start,
        },
    ]
    rules = [
        {
            "valid_from": start,
            "city_bp": city_bp,
            "partner_bp": 10_000 - city_bp,
            "remainder_to": remainder_to,
        },
        *extra_rules,
    ]
    city.settings = {
        **city.settings,
        **schedule.read_section({"fees": fees, "sharing": rules}),
    }
    city.save(update_fields=["settings"])
    return city


def make_pilot(slug="uji-coba", kelurahan_code="13.74.02.1002"):
    return create_pilot(
        PilotInput(
            slug=slug,
            name="Uji coba",
            starts_on=today() - timedelta(days=60),
            ends_on=today() + timedelta(days=30),
            services=["wallet"],
            areas=[AreaInput(kelurahan_code)],
        )
    )


def cost_input(
    pilot, amount=1_500_000, day=None, category="hardware", text="QR scanners"
):
    return CostInput(
        pilot=pilot,
        category=category,
        incurred_on=day or today(),
        amount_rupiah=amount,
        description=text,
    )


def add_cost(pilot, user, **kwargs):
    return record_cost(cost_input(pilot, **kwargs), user=user)


def fix_cost(original, user, reason="invoice mistyped", **kwargs):
    return correct_cost(
        original, cost_input(original.pilot, **kwargs), reason=reason, user=user
    )


def citizen():
    return services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)


def merchant(label="Warung Contoh"):
    return services.open_account(AccountKind.MERCHANT, label=label)


def top_up(account, amount):
    """Top up a citizen wallet from the bank: it bears the top-up fee."""
    return services.submit(
        TransferRequest(
            id=new_id("topup"),
            debit=services.settlement_account().number,
            credit=account.number,
            amount=amount,
            kind="topup",
            channel="bank_va",
        )
    )


def pay(payer, shop, amount):
    return services.submit(
        TransferRequest(
            id=new_id("pay"),
            debit=payer.number,
            credit=shop.number,
            amount=amount,
            kind="payment",
            channel="qris",
        )
    )
