"""The citizen's history shows the fee of one payment as one row."""

import re

import pytest

from kotacerdas.sharing import schedule
from kotacerdas.wallet.models import Transfer, TransferKind

from .conftest import fund
from .test_pages_citizen import (
    HOME,
    citizen_user,  # noqa: F401  (fixture)
    client,  # noqa: F401  (fixture)
    text,
    wallet,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.django_db

START = "2025-01-01"
MINUS = "\u2212"  # the history shows debits with a minus sign


@pytest.fixture
def topup_fee(city):
    fee = {
        "code": "TOPUP",
        "kind": "topup",
        "amount": 1_000,
        "bearer": "payer",
        "valid_from": START,
    }
    rule = {"valid_from": START, "city_bp": 6000, "partner_bp": 4000}
    city.settings = {
        **city.settings,
        **schedule.read_section({"fees": [fee], "sharing": [rule]}),
    }
    city.save(update_fields=["settings"])
    return city


def history_rows(page: str) -> list[str]:
    return re.findall(
        r'<tr data-kind="[^"]*" data-testid="history-row">.*?</tr>', page, re.S
    )


def test_fee_parts_show_as_one_row(client, wallet, topup_fee):  # noqa: F811
    fund(wallet, 50_000)

    rows = history_rows(text(client.get(HOME)))
    fee_rows = [row for row in rows if 'data-kind="fee"' in row]

    assert len(Transfer.objects.filter(kind=TransferKind.FEE)) == 2
    assert len(rows) == 2
    assert len(fee_rows) == 1
    assert f"{MINUS}Rp1,000" in fee_rows[0]
    assert "TOPUP" in fee_rows[0]


def test_fee_row_links_every_receipt(client, wallet, topup_fee):  # noqa: F811
    fund(wallet, 50_000)

    rows = history_rows(text(client.get(HOME)))
    fee_row = next(row for row in rows if 'data-kind="fee"' in row)

    for part in Transfer.objects.filter(kind=TransferKind.FEE):
        assert f">{part.reference}</a>" in fee_row


def test_two_payments_keep_two_fee_rows(client, wallet, topup_fee):  # noqa: F811
    fund(wallet, 50_000)
    fund(wallet, 20_000)

    rows = history_rows(text(client.get(HOME)))
    fee_rows = [row for row in rows if 'data-kind="fee"' in row]

    assert len(fee_rows) == 2
    assert all(f"{MINUS}Rp1,000" in row for row in fee_rows)
