"""Fixtures for reconciliation tests: wallets, a funded ledger, statement files."""

import itertools

import pytest
from django.utils import translation

from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account, AccountKind, Tier, Transfer
from kotacerdas.wallet.services import TransferRequest

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


def bank_top_up(account: Account, amount: int, memo: str = "") -> Transfer:
    return services.top_up(
        account.number, amount, transfer_id=new_id("va"), channel="bank_va", memo=memo
    )


def submit(debit: Account, credit: Account, amount: int, kind: str, **changes):
    actor = changes.pop("actor", None)
    request = TransferRequest(
        id=new_id(kind),
        debit=debit.number,
        credit=credit.number,
        amount=amount,
        kind=kind,
        **changes,
    )
    return services.submit(request, actor=actor)


@pytest.fixture
def settlement(city) -> Account:
    return services.settlement_account()


@pytest.fixture
def alice(city) -> Account:
    return services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)


@pytest.fixture
def bob(city) -> Account:
    return services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)


@pytest.fixture
def shop(city) -> Account:
    return services.open_account(AccountKind.MERCHANT, label="Warung Contoh")


def statement_csv(*rows: str, separator: str = ";", bom: bool = True) -> bytes:
    """Build a statement file with the documented Indonesian header."""
    header = separator.join(
        ["Tanggal", "Waktu", "Keterangan", "Referensi", "Kredit", "Debet"]
    )
    text = "\r\n".join([header, *rows]) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()
