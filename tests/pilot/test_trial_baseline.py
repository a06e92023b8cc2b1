"""Paper baseline figures: the form, the CSV import and what they journal."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.journal.models import Entry
from kotacerdas.pilot import baseline
from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import BaselineFigure, Pilot
from kotacerdas.pilot.services import Service

pytestmark = pytest.mark.django_db

PASAR_USANG = "13.74.02.1002"
GANTING = "13.74.01.1001"
HEADER = "kelurahan_code,metric,starts_on,ends_on,value,source_note"


@pytest.fixture
def pilot(city) -> Pilot:
    today = timezone.localdate()
    return api.create_pilot(
        api.PilotInput(
            slug="pilot-trial",
            name="Trial pilot",
            starts_on=today - timedelta(days=10),
            ends_on=today + timedelta(days=50),
            services=[Service.WALLET],
            areas=[PASAR_USANG, GANTING],
        )
    )


def before(pilot: Pilot, days: int) -> str:
    return (pilot.starts_on - timedelta(days=days)).isoformat()


def csv_text(pilot: Pilot, *rows: str) -> str:
    start, end = before(pilot, 30), before(pilot, 1)
    lines = [HEADER] + [row.format(start=start, end=end) for row in rows]
    return "\n".join(lines) + "\n"


def test_import_saves_and_journals_rows(pilot):
    text = csv_text(
        pilot,
        f'{PASAR_USANG},levy_rate,{{start}},{{end}},"41,5",Bapenda ledger',
        f"{GANTING},bank_deposits,{{start}},{{end}},250.125,Bank sampah book",
        ",missed_reports,{start},{end},1.204,DLH complaint log",
    )

    saved = baseline.import_csv(pilot, text)

    assert len(saved) == 3
    values = {(f.kelurahan_code, f.metric): f.value for f in saved}
    assert values == {
        (PASAR_USANG, "levy_rate"): 415,
        (GANTING, "bank_deposits"): 250125,
        ("", "missed_reports"): 1204,
    }
    events = Entry.objects.filter(event_type="pilot.baseline.entered").order_by("seq")
    payloads = [json.loads(bytes(entry.body))["payload"] for entry in events]
    assert [p["value"] for p in payloads] == [415, 250125, 1204]
    assert all("source_note" not in p for p in payloads)
    assert [f.entry_seq for f in saved] == [entry.seq for entry in events]


def test_import_with_bad_rows_saves_nothing(pilot):
    text = csv_text(
        pilot,
        f"{PASAR_USANG},levy_rate,{{start}},{{end}},41.5,Bapenda ledger",
        "13.74.01.1003,levy_rate,{start},{end},40,Ledger",
        f"{GANTING},speed,{{start}},{{end}},40,Ledger",
        f"{GANTING},levy_rate,2026-13-01,{{end}},140,Ledger",
        f"{GANTING},missed_reports,{{start}},{pilot.starts_on},12,",
        f"{PASAR_USANG},levy_rate,{{start}},{{end}},42,Again",
    )

    with translation.override("en"), pytest.raises(baseline.BaselineInvalid) as caught:
        baseline.import_csv(pilot, text)

    problems = {(e.row, e.field): e.message for e in caught.value.errors}
    assert "is not a kelurahan of this pilot" in problems[(3, "kelurahan_code")]
    assert "Unknown metric 'speed'" in problems[(4, "metric")]
    assert problems[(5, "starts_on")] == "Enter a date as YYYY-MM-DD."
    assert problems[(5, "value")] == "Enter a percentage from 0 to 100."
    assert "before the pilot starts" in problems[(6, "ends_on")]
    assert "Say where the figure comes from" in problems[(6, "source_note")]
    assert problems[(7, "metric")] == "Row 2 already gives this area and metric."
    assert len(problems) == 7
    with translation.override("en"):
        assert str(caught.value.errors[0]).startswith("Row 3, kelurahan_code:")
    assert not BaselineFigure.objects.exists()
    assert not Entry.objects.filter(event_type="pilot.baseline.entered").exists()


def test_import_without_columns_names_them(pilot):
    with translation.override("en"), pytest.raises(baseline.BaselineInvalid) as caught:
        baseline.import_csv(pilot, "kelurahan_code,metric,value\nx,y,1\n")

    error = caught.value.errors[0]
    assert error.row == 1
    assert error.field == "starts_on, ends_on, source_note"
    assert HEADER.replace(",", ",") in error.message


def test_entering_again_raises_revision(pilot):
    data = {
        "kelurahan_code": GANTING,
        "metric": "missed_close_hours",
        "starts_on": before(pilot, 30),
        "ends_on": before(pilot, 1),
        "value": "72.5",
        "source_note": "DLH logbook",
    }
    first = baseline.enter_figure(pilot, data)

    second = baseline.enter_figure(pilot, {**data, "value": "70"})

    assert second.pk == first.pk
    assert second.revision == 2
    assert second.value == 700
    assert second.entry_seq > first.entry_seq


@given(tenths=st.integers(min_value=0, max_value=1000), comma=st.booleans())
def test_percent_values_read_back(tenths, comma):
    text = f"{tenths // 10}.{tenths % 10}"
    if comma:
        text = text.replace(".", ",")

    assert baseline.parse_value(text, "percent") == tenths


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1.250", "count", 1250),
        ("1,250,000", "rupiah", 1250000),
        ("0.5", "grams", 500),
        ("12", "hours", 120),
    ],
)
def test_values_in_display_units(text, unit, expected):
    assert baseline.parse_value(text, unit) == expected


@pytest.mark.parametrize(
    ("text", "unit"),
    [("12.5", "count"), ("-1", "hours"), ("1.2345", "grams"), ("abc", "percent")],
)
def test_invalid_values_raise(text, unit):
    with pytest.raises(ValueError):
        baseline.parse_value(text, unit)


def test_baseline_page_imports_and_lists_errors(pilot, signed_in):
    client = signed_in("admin")
    client.cookies["django_language"] = "en"
    url = f"/pilot/{pilot.slug}/baseline/"
    bad = csv_text(pilot, f"{GANTING},levy_rate,{{start}},{{end}},abc,Ledger")

    response = client.post(
        url, {"file": SimpleUploadedFile("b.csv", bad.encode(), "text/csv")}
    )

    assert response.status_code == 400
    assert "Row 2, value: Enter a number of at least 0" in response.content.decode()
    assert not BaselineFigure.objects.exists()

    good = csv_text(pilot, f"{GANTING},levy_rate,{{start}},{{end}},38.5,Ledger")
    response = client.post(
        url, {"file": SimpleUploadedFile("b.csv", good.encode(), "text/csv")}
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "38.5 %" in page
    assert "1 baseline figures imported." in page


def test_baseline_form_shows_field_errors(pilot, signed_in):
    client = signed_in("admin")
    client.cookies["django_language"] = "en"
    data = {
        "kelurahan_code": GANTING,
        "metric": "transfers",
        "starts_on": before(pilot, 5),
        "ends_on": pilot.starts_on.isoformat(),
        "value": "12.5",
        "source_note": "Bank statement",
    }

    response = client.post(f"/pilot/{pilot.slug}/baseline/", data)

    assert response.status_code == 400
    form = response.context["form"]
    assert "before the pilot starts" in form.errors["ends_on"][0]
    assert form.errors["value"] == ["Enter a whole number such as 1250 or 1.250."]
    assert not BaselineFigure.objects.exists()
