"""The counter's confirmation step shows the fee before the cashier confirms."""

import pytest

from kotacerdas.sharing import schedule
from kotacerdas.wallet.models import Transfer, TransferKind

from .conftest import fund
from .test_pages_counter import (
    CASH_IN,
    CASH_OUT,
    PIN,
    cashier,  # noqa: F401  (fixture)
    citizen_wallet,  # noqa: F401  (fixture)
    counter,
    text,
)

pytestmark = pytest.mark.django_db

START = "2025-01-01"


@pytest.fixture
def counter_fees(city):
    fees = [
        {"code": "TOPUP", "kind": "topup", "amount": 1_000, "bearer": "payer"},
        {"code": "CASHOUT", "kind": "cashout", "amount": 2_500, "bearer": "payer"},
    ]
    rules = [
        {
            "valid_from": START,
            "city_bp": 4000,
            "partner_bp": 6000,
            "remainder_to": "city",
        }
    ]
    city.settings = {
        **city.settings,
        **schedule.read_section(
            {"fees": [{**fee, "valid_from": START} for fee in fees], "sharing": rules}
        ),
    }
    city.save(update_fields=["settings"])
    return city


def test_cash_in_confirm_shows_fee(cashier, citizen_wallet, counter_fees):  # noqa: F811
    page = text(
        cashier.post(CASH_IN, {"number": citizen_wallet.number, "amount": "50000"})
    )

    assert 'data-testid="confirm-fee">Rp1,000, paid by the wallet holder<' in page
    assert 'data-testid="confirm-total">Rp49,000<' in page
    assert "The wallet receives" in page


def test_cash_out_confirm_shows_total(cashier, citizen_wallet, counter_fees):  # noqa: F811
    fund(citizen_wallet, 100_000)

    page = text(
        cashier.post(CASH_OUT, {"number": citizen_wallet.number, "amount": "40000"})
    )

    assert 'data-testid="confirm-fee">Rp2,500, paid by the wallet holder<' in page
    assert 'data-testid="confirm-total">Rp42,500<' in page
    assert "Total taken from the wallet" in page


def test_confirmed_fee_matches_receipt(cashier, citizen_wallet, counter_fees):  # noqa: F811
    fund(citizen_wallet, 100_000)

    first, done = counter(cashier, CASH_OUT, citizen_wallet.number, "40000", pin=PIN)

    assert "Rp2,500" in text(first)
    assert done.status_code == 302
    withdrawal = Transfer.objects.get(kind=TransferKind.WITHDRAWAL)
    fee_parts = Transfer.objects.filter(
        kind=TransferKind.FEE, link_group=withdrawal.client_id
    )
    assert sum(part.amount for part in fee_parts) == 2_500


def test_confirm_without_fee_schedule(cashier, citizen_wallet):  # noqa: F811
    page = text(
        cashier.post(CASH_IN, {"number": citizen_wallet.number, "amount": "50000"})
    )

    assert 'data-testid="confirm-fee"' not in page
    assert 'data-testid="confirm-total"' not in page
