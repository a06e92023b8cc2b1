"""Waste-bank recovery against real deposits recorded and validated by a teller."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from tests.waste.bank.conftest import make_unit, new_member

from kotacerdas.waste import statistics
from kotacerdas.waste.bank import services as bank
from kotacerdas.waste.bank import validation

from .conftest import building, pickup

pytestmark = pytest.mark.django_db


@pytest.fixture
def today_with_deposits(personas, collector):
    """Today: 20 kg collected; 3.2 kg PET posted, 1.5 kg cardboard rejected,
    and 0.7 kg of HDPE still pending."""
    teller = personas["waste_bank_teller"]
    unit = make_unit("sarunai", "Bank Sampah Sarunai", teller)
    member = new_member(unit)
    posted = bank.record_deposit(
        member, [("pet", 3_200), ("cardboard", 1_500)], client_id="r-1", teller=teller
    )
    validation.validate_deposit(posted, teller, rejected_items=[1])
    bank.record_deposit(member, [("hdpe", 700)], client_id="r-2", teller=teller)
    today = timezone.localdate()
    pickup(collector, building("13.74.02.1002"), day=today, weight_g=20_000)
    return today


def test_recovery_counts_posted_accepted_items(today_with_deposits):
    figures = statistics.recovery(today_with_deposits, today_with_deposits)

    assert figures.bank_g_by_material == {"pet": 3_200}
    assert figures.bank_g == 3_200
    assert figures.collected_g == 20_000
    assert figures.share == 0.16


def test_workbook_lists_bank_plastic(today_with_deposits):
    today = today_with_deposits

    data = statistics.sipsn_workbook(today.year, today.month)

    rows = list(
        load_workbook(io.BytesIO(data))["Komposisi"].iter_rows(values_only=True)
    )
    plastic = next(row for row in rows if row[0].startswith("Plastic"))
    assert plastic[3] == 3.2
    assert rows[-1][3] == 3.2
    assert rows[-1][4] == 23.2
