"""The statistics page, the SIPSN export and the CSV: access and content."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
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


def test_date_inputs_iso_in_indonesian(signed_in, settings):
    client = signed_in("waste_operator")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"

    response = client.get("/waste/statistics/")
    text = response.content.decode()

    today = timezone.localdate().isoformat()
    assert response["Content-Language"] == "id"
    assert f'type="date" name="end" value="{today}"' in text
    assert f'type="date" name="day" value="{today}"' in text
    assert 'type="date" name="start" value="' in text


def test_sipsn_default_empty_city(signed_in):
    response = signed_in("waste_operator").get("/waste/statistics/")

    this_month = timezone.localdate().strftime("%Y-%m")
    assert response.context["month"] == this_month
    assert f"No pickups were recorded in {this_month}" in response.content.decode()


def test_sipsn_default_this_month(signed_in, collector):
    today = timezone.localdate()
    pickup(collector, building("13.74.02.1002"), day=today, hour=0)

    response = signed_in("waste_operator").get("/waste/statistics/")

    assert response.context["month"] == today.strftime("%Y-%m")
    assert "No pickups were recorded" not in response.content.decode()


def test_sipsn_default_latest_month(signed_in, collector):
    earlier = timezone.localdate().replace(day=1) - timedelta(days=40)
    pickup(collector, building("13.74.02.1002"), day=earlier)
    client = signed_in("waste_operator")

    page = client.get("/waste/statistics/")
    export = client.get("/waste/statistics/sipsn.xlsx")

    month = earlier.strftime("%Y-%m")
    assert page.context["month"] == month
    assert "No pickups were recorded" not in page.content.decode()
    assert f'filename="sipsn-{month}.xlsx"' in export["Content-Disposition"]


def test_sipsn_chosen_empty_month_noted(signed_in, collector):
    pickup(collector, building("13.74.02.1002"))

    response = signed_in("waste_operator").get(
        "/waste/statistics/", {"month": "2020-01"}
    )

    assert "No pickups were recorded in 2020-01" in response.content.decode()
