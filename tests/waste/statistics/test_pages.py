"""The statistics page, the SIPSN export and the CSV: access and content."""

import csv
import io

import pytest
from openpyxl import load_workbook

from .conftest import building, pickup

pytestmark = pytest.mark.django_db

READERS = {"admin", "waste_operator", "auditor", "command_center"}
ALL_PERSONAS = [
    "admin",
    "registry_officer",
    "waste_operator",
    "collector",
    "waste_bank_teller",
    "revenue_officer",
    "cashier",
    "merchant",
    "citizen",
    "auditor",
    "command_center",
    "outsider",
]


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_statistics_page_only_for_readers(signed_in, persona):
    response = signed_in(persona).get("/waste/statistics/")

    assert response.status_code == (200 if persona in READERS else 403)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_sipsn_export_only_for_readers(signed_in, persona):
    response = signed_in(persona).get("/waste/statistics/sipsn.xlsx?month=2026-11")

    assert response.status_code == (200 if persona in READERS else 403)


def test_page_shows_collected_kilograms(signed_in, collector):
    pickup(collector, building("13.74.02.1002"), weight_g=12_345)

    response = signed_in("waste_operator").get(
        "/waste/statistics/", {"start": "2026-11-01", "end": "2026-11-30"}
    )

    assert response.status_code == 200
    assert response.context["total_g"] == 12_345
    assert "Total 12.3 kg" in response.content.decode()


def test_reversed_range_rejected(signed_in):
    response = signed_in("waste_operator").get(
        "/waste/statistics/", {"start": "2026-11-30", "end": "2026-11-01"}
    )

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_bad_month_named(signed_in):
    response = signed_in("waste_operator").get(
        "/waste/statistics/sipsn.xlsx", {"month": "11/2026"}
    )

    assert response.status_code == 400
    assert response.content.decode() == (
        "Invalid month 11/2026. Write it as YYYY-MM, e.g. 2026-11."
    )


def test_export_is_a_workbook(signed_in, collector):
    pickup(collector, building("13.74.02.1002"), weight_g=2_000)

    response = signed_in("auditor").get("/waste/statistics/sipsn.xlsx?month=2026-11")

    book = load_workbook(io.BytesIO(response.content))
    assert (
        response["Content-Disposition"] == 'attachment; filename="sipsn-2026-11.xlsx"'
    )
    assert list(book["Komposisi"].iter_rows(values_only=True))[-1][4] == 2.0


def test_tonnage_csv_lists_grams(signed_in, collector):
    pickup(collector, building("13.74.02.1002"), weight_g=2_000)

    response = signed_in("command_center").get(
        "/waste/statistics/tonnage.csv", {"start": "2026-11-10", "end": "2026-11-10"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "date"
    assert rows[1] == [
        "2026-11-10",
        "13.74.02.1002",
        "Pasar Usang",
        "mixed",
        "Mixed, not sorted",
        "2000",
        "0",
        "1",
    ]
