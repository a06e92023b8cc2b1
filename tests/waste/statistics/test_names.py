"""The statistics page and its exports name materials, report kinds and groups."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from tests.waste.reports.conftest import report_input

from kotacerdas.waste.reports import services as reports

from .conftest import building, pickup

pytestmark = pytest.mark.django_db


def table(page: str, table_id: str) -> str:
    start = page.index(f'<table id="{table_id}">')
    return page[start : page.index("</table>", start)]


def test_recovery_table_names_materials(signed_in, today_with_deposits):
    response = signed_in("waste_operator").get("/waste/statistics/")

    rows = table(response.content.decode(), "recovery-by-material")
    assert "<td>PET bottles, clean, label and cap removed</td><td>3.2</td>" in rows
    assert not re.search(r"<td>pet</td>", rows)


def test_recovery_table_in_indonesian(client, personas, today_with_deposits):
    client.force_login(personas["waste_operator"])
    client.cookies["django_language"] = "id"

    response = client.get("/waste/statistics/")

    rows = table(response.content.decode(), "recovery-by-material")
    assert "<td>Botol PET, bersih, tanpa label dan tutup</td>" in rows


def test_open_reports_table_names_kinds(signed_in, personas):
    reports.file_report(report_input(kind="full_container"), personas["citizen"])

    response = signed_in("waste_operator").get("/waste/statistics/")

    rows = table(response.content.decode(), "report-ages")
    assert "<tr><td>Full container</td><td>24</td><td>1</td>" in rows
    assert "<td>Missed pickup</td>" in rows
    assert "<td>Illegal dumping</td>" in rows
    assert not re.search(r"full_container|missed_pickup|illegal_dumping", rows)


def test_tonnage_csv_names_the_group_in_the_readers_language(
    client, personas, collector
):
    pickup(collector, building("13.74.02.1002"), weight_g=2_000)
    client.force_login(personas["command_center"])
    client.cookies["django_language"] = "id"

    response = client.get(
        "/waste/statistics/tonnage.csv", {"start": "2026-11-10", "end": "2026-11-10"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][3:5] == ["sorting_group", "sorting_group_name"]
    assert rows[1][3:5] == ["mixed", "Campuran, tidak dipilah"]


def test_workbook_names_groups_beside_their_codes(signed_in, collector):
    pickup(collector, building("13.74.02.1002"), weight_g=2_000, category="b3")

    response = signed_in("auditor").get("/waste/statistics/sipsn.xlsx?month=2026-11")

    book = load_workbook(io.BytesIO(response.content))
    daily = list(book["Harian"].iter_rows(values_only=True))
    assert daily[0][3:5] == ("Sorting group code", "Sorting group")
    assert daily[1][3:6] == ("b3", "Hazardous (B3)", 2.0)
    method = " ".join(row[0] for row in book["Metode"].iter_rows(values_only=True))
    assert "Mixed, not sorted 200 g/L" in method
    assert "mixed 200" not in method
