"""Hypothesis tests for registry import files: CSV bytes, XLSX cells and rows.

Any file either opens or raises FileRejected with a message, any cell either
reads as text or raises CellInvalid with a message, and checking any rows
reports each problem against a column of the file. Nothing else escapes.
"""

import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kotacerdas.registry.import_files import (
    COLUMNS,
    CellInvalid,
    FileRejected,
    cell_text,
    header_key,
    open_csv,
)
from kotacerdas.registry.importer import process_file

KINDS = sorted({column.kind for column in COLUMNS})
HEADERS = [column.header for column in COLUMNS]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.from_regex(r"\A'?[0-9 .\-]{0,20}\Z"),
    st.from_regex(r"\A[0-9]\.[0-9]{1,5}E\+[0-9]{2}\Z"),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@given(cell_values, st.sampled_from(KINDS))
@example(1374021234567890, "identity")
@example(81234567890.0, "phone")
@example("1.300", "integer")
@example(float("nan"), "integer")
def test_cell_reads_as_text_or_invalid(value: Any, kind: str) -> None:
    try:
        text = cell_text(value, kind)
    except CellInvalid as error:
        assert error.message.strip()
        return
    assert isinstance(text, str)
    assert text == text.strip()


@given(st.text(max_size=40))
def test_header_key_is_idempotent(text: str) -> None:
    key = header_key(text)
    assert header_key(key) == key


@given(
    st.binary(max_size=400)
    | st.text(max_size=300).map(lambda text: text.encode("utf-8"))
    | st.text(max_size=200).map(lambda text: ("sep=;\n" + text).encode("utf-8"))
)
@example(b'sep="\nref\n1')
@example(b"sep=\r\nref")
@example(("ref,alamat\n" + "x" * 200_000 + ",y\n").encode())
@example(b"ref,alamat\n1,\x00\n".rjust(5000, b" "))
def test_csv_bytes_open_or_rejected(data: bytes) -> None:
    try:
        sheet = open_csv(data)
        rows = list(sheet.rows)
    except FileRejected as error:
        assert error.message.strip()
        return
    for number, cells in rows:
        assert number >= 2
        assert all(isinstance(cell, str) for cell in cells)


# Rows with the template's header, each cell near what a city officer types.
typed_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=20
)
near_valid = {
    "kode_kelurahan": st.sampled_from(["13.74.02.1002", "13.74.01.1001", "1374021002"])
    | typed_text,
    "rw": st.integers(-1, 30).map(str) | typed_text,
    "rt": st.integers(-1, 30).map(str) | typed_text,
    "lintang": st.floats(-91, 91).map(str) | typed_text,
    "bujur": st.floats(-181, 181).map(str) | typed_text,
    "jumlah_lantai": st.integers(-2, 200).map(str) | typed_text,
    "luas_lantai_m2": st.floats(-1, 1e9).map(str) | typed_text,
    "daya_listrik_va": st.sampled_from(["450", "1.300", "2200", "0", "x"]),
    "no_kk": st.from_regex(r"\A[0-9]{14,17}\Z") | typed_text,
    "nik_kepala_keluarga": st.from_regex(r"\A[0-9]{14,17}\Z") | typed_text,
    "telepon": st.from_regex(r"\A\+?[0-9]{6,15}\Z") | typed_text,
}
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {header: near_valid.get(header, typed_text) for header in HEADERS}
    ),
    min_size=1,
    max_size=6,
)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.mark.django_db
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy)
def test_csv_rows_checked_with_named_columns(city, tmp_path, rows) -> None:
    path = tmp_path / "rows.csv"
    write_csv(path, rows)

    outcome = process_file(path, "csv")

    assert outcome.rows == len(rows)
    assert outcome.error_rows + outcome.new_rows + outcome.present_rows == len(rows)
    for problem in outcome.problems:
        assert problem.column in HEADERS or problem.column == ""
        assert problem.message.strip()
        assert 2 <= problem.row <= len(rows) + 1


xlsx_cells = st.one_of(
    st.none(),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=20),
    st.dates(min_value=date(1900, 3, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1)),
    st.times(),
)


@pytest.mark.django_db
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cells=st.lists(
        st.lists(xlsx_cells, min_size=len(HEADERS), max_size=len(HEADERS)),
        min_size=1,
        max_size=4,
    )
)
@example(cells=[[time(7, 30)] * len(HEADERS)])
def test_xlsx_rows_checked_with_named_columns(city, tmp_path, cells) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in cells:
        sheet.append(row)
    path = tmp_path / "rows.xlsx"
    workbook.save(path)

    outcome = process_file(path, "xlsx")

    # Rows with no value at all are skipped, as Excel leaves them.
    assert outcome.rows <= len(cells)
    for problem in outcome.problems:
        assert problem.column in HEADERS or problem.column == ""
        assert problem.message.strip()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\u00b9", "\u00b2\u00b3", "\u2460"])
def test_superscript_digits_are_a_field_error(city, tmp_path, value) -> None:
    row = {header: "" for header in HEADERS}
    row.update(
        {
            "ref": "B-1",
            "kode_kelurahan": "13.74.02.1002",
            "rw": "1",
            "rt": value,
            "alamat": "Jl. Sudirman No. 1",
            "penggunaan": "Rumah",
        }
    )
    path = tmp_path / "rows.csv"
    write_csv(path, [row])

    outcome = process_file(path, "csv")

    assert outcome.error_rows == 1
    assert [problem.column for problem in outcome.problems] == ["rt"]
