"""Collection rate, arrears per kelurahan and the bill number parser."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.levy import billing, queries, services
from kotacerdas.levy.models import Bill
from kotacerdas.levy.queries import normalize_bill_number, rate_percent

from .conftest import GANTING, PASAR_USANG


@pytest.mark.parametrize(
    ("collected", "billed", "rate"),
    [
        (0, 7_500, "0.0"),
        (7_500, 7_500, "100.0"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (1, 16, "6.3"),  # 6.25 rounds half up
        (35_000, 77_500, "45.2"),
    ],
)
def test_rate_rounds_half_up(collected, billed, rate):
    assert str(rate_percent(collected, billed)) == rate


def test_rate_of_nothing_billed_is_none():
    assert rate_percent(0, 0) is None


@given(st.integers(0, 10**12), st.integers(1, 10**12))
def test_rate_matches_decimal_arithmetic(collected, billed):
    exact = Decimal(collected) * 100 / Decimal(billed)
    rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    assert rate_percent(collected, billed) == rounded


@given(st.text(max_size=40))
def test_bill_number_parser_never_crashes(text):
    number = normalize_bill_number(text)

    assert number is None or number.startswith("RTB-")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("RTB-202612-000123", "RTB-202612-000123"),
        (" rtb202612000123 ", "RTB-202612-000123"),
        ("RTB-202612-123", "RTB-202612-000123"),
        ("RTB-2026-12-1", None),
        ("PPJ-B-7F3K9Q-C", None),
    ],
)
def test_bill_number_normalized(typed, number):
    assert normalize_bill_number(typed) == number


@pytest.mark.django_db
def test_arrears_counted_per_kelurahan(make_place, citizen_of):
    pasar = [make_place(), make_place(2)]
    ganting_shop = make_place(0, use="shop", pln_va=1300, kelurahan_code=GANTING)
    billing.run_billing("2026-11")
    billing.run_billing("2026-12")
    # One Pasar Usang household pays November in full, the shop pays half.
    user = citizen_of(pasar[0].household)
    november = date(2026, 11, 1)
    services.pay_from_wallet(
        Bill.objects.get(household=pasar[0].household, month=november),
        user,
        amount=7_500,
        transfer_id="p-1",
    )
    services.pay_at_counter(
        Bill.objects.get(building=ganting_shop.building, month=november),
        amount=20_000,
        transfer_id="c-1",
    )

    report = queries.collection_report(date(2026, 12, 1))

    rows = {row.code: row for row in report.rows}
    assert (rows[PASAR_USANG].arrears, rows[PASAR_USANG].households_in_arrears) == (
        15_000,
        2,
    )
    assert (rows[GANTING].arrears, rows[GANTING].buildings_in_arrears) == (20_000, 1)
    assert rows[PASAR_USANG].billed == 3 * 7_500
    assert rows[PASAR_USANG].collected == 0
    assert report.total.arrears == 35_000
    assert report.total.payers_in_arrears == 3
    assert len(report.rows) == 16


@pytest.mark.django_db
def test_cancelled_bills_not_counted(house):
    billing.run_billing("2026-12")
    services.cancel_bill(Bill.objects.get(), "not_liable")

    report = queries.collection_report(date(2026, 12, 1))

    assert report.total.billed == 0
    assert report.total.rate_percent is None


@pytest.mark.django_db
def test_current_month_bills_not_arrears(house):
    billing.run_billing("2026-12")

    assert not queries.in_arrears(date(2026, 12, 1)).exists()
    assert queries.in_arrears(date(2027, 1, 1)).count() == 1
