"""Waste-bank recovery against real deposits recorded and validated by a teller."""

import io

import pytest
from openpyxl import load_workbook

from kotacerdas.waste import statistics

pytestmark = pytest.mark.django_db


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
