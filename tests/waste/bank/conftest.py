"""Fixtures for waste bank tests: two units with tellers, prices and a member."""

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from kotacerdas.accounts.services import create_user
from kotacerdas.wallet import services as wallet
from kotacerdas.waste.bank import services
from kotacerdas.waste.bank.models import Membership, Unit
from kotacerdas.waste.models import Site
from kotacerdas.waste.places import SiteInput, save_site

PRICES = {"pet": 4_000, "cardboard": 900, "hdpe": 5_000, "copper": 40_000}
_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def make_unit(code: str, name: str, teller) -> Unit:
    site = save_site(
        SiteInput(
            code=f"bank-{code}",
            name=name,
            kind=Site.Kind.WASTE_BANK,
            lat="-0.476995",
            lng="100.429107",
            kelurahan_code="13.74.01.1003",
        )
    )
    unit = services.open_unit(
        code=code,
        name=name,
        site=site,
        kind=Unit.Kind.BSI,
        opening_hours="Saturday 08:00-14:00",
        actor="test",
    )
    unit.tellers.add(teller)
    services.fund_unit(unit, 1_000_000, f"fund-{code}", "test")
    yesterday = timezone.localdate() - timedelta(days=1)
    services.set_prices(unit, yesterday, PRICES, actor="test")
    return unit


@pytest.fixture
def teller(personas):
    return personas["waste_bank_teller"]


@pytest.fixture
def unit(teller) -> Unit:
    return make_unit("sarunai", "Bank Sampah Sarunai", teller)


@pytest.fixture
def other_unit(city) -> Unit:
    other_teller = create_user(
        "teller-karabu", "persona-password-1", ["waste_bank_teller"]
    )
    return make_unit("karabu", "Bank Sampah Karabu", other_teller)


@pytest.fixture
def member(unit, personas) -> Membership:
    account = wallet.wallet_for(personas["citizen"])
    assert account is not None
    return services.join(unit, account, joined_on=date(2025, 1, 4), actor="test")


def new_member(unit: Unit) -> Membership:
    user = create_user(f"nasabah-{next(_serials)}", "persona-password-1", ["citizen"])
    account = wallet.wallet_for(user)
    assert account is not None
    return services.join(unit, account, actor="test")
