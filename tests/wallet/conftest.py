"""Fixtures for wallet tests: the city's accounts and a few funded wallets."""

import itertools

import pytest
from django.utils import translation

from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account, AccountKind, Tier

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids (tests/i18n checks the
    Indonesian catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{next(_ids)}"


def fund(account: Account, amount: int) -> None:
    services.top_up(
        account.number, amount, transfer_id=new_id("fund"), channel="counter"
    )


@pytest.fixture
def settlement(city) -> Account:
    return services.settlement_account()


@pytest.fixture
def alice(city) -> Account:
    return services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)


@pytest.fixture
def bob(city) -> Account:
    return services.open_account(AccountKind.CITIZEN, tier=Tier.UNREGISTERED)


@pytest.fixture
def shop(city) -> Account:
    return services.open_account(AccountKind.MERCHANT, label="Warung Contoh")


@pytest.fixture
def levy_revenue(city) -> Account:
    return services.revenue_account("waste_levy")
