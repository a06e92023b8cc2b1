"""Reading bank statement CSV files: layout, amounts, dates and row errors."""

import codecs
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.reconciliation.statement_csv import (
    RowInvalid,
    StatementRejected,
    parse_amount,
    parse_statement,
    parse_when,
)

from .conftest import statement_csv

JAKARTA = ZoneInfo("Asia/Jakarta")
AMOUNTS = st.integers(min_value=0, max_value=10**12)


def grouped(amount: int, mark: str) -> str:
    return f"{amount:,}".replace(",", mark)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50.000,00", 50_000),
        ("50,000.00", 50_000),
        ("50000.00", 50_000),
        ("50000,00", 50_000),
        ("50000", 50_000),
        ("50.000", 50_000),
        ("1.234.567,00", 1_234_567),
        ("1,234,567", 1_234_567),
        ("Rp 50.000", 50_000),
        ("IDR 7,500.00", 7_500),
        ("", 0),
        ("-", 0),
        ("100.0", 100),
    ],
)
def test_amount_formats_read_as_rupiah(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("50.000,50", "amount_fraction"),
        ("50000.5", "amount_fraction"),
        ("12,34", "amount_fraction"),
        ("-50000", "amount_negative"),
        ("(50.000)", "amount_negative"),
        ("50.00.00", "amount_invalid"),
        ("5,0000", "amount_invalid"),
        ("abc", "amount_invalid"),
        ("50.000,000", "amount_invalid"),
        ("1,000.000.00", "amount_invalid"),
        ("9" * 17, "amount_too_large"),
    ],
)
def test_bad_amounts_name_the_problem(text, code):
    with pytest.raises(RowInvalid) as raised:
        parse_amount(text, "Kredit")

    assert raised.value.code == code
    assert raised.value.params["column"] == "Kredit"


@given(AMOUNTS)
def test_indonesian_amounts_round_trip(amount):
    assert parse_amount(grouped(amount, ".") + ",00") == amount


@given(AMOUNTS)
def test_english_amounts_round_trip(amount):
    assert parse_amount(grouped(amount, ",") + ".00") == amount


@given(AMOUNTS, st.sampled_from(["", ".00", ",00", ".0"]))
def test_plain_amounts_round_trip(amount, fraction):
    assert parse_amount(f"{amount}{fraction}") == amount


@given(st.text(max_size=20))
def test_any_text_reads_or_raises_row_invalid(text):
    try:
        amount = parse_amount(text)
    except RowInvalid as invalid:
        assert invalid.code.startswith("amount_")
    else:
        assert amount >= 0


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("31/01/2025", "14:05:30", datetime(2025, 1, 31, 14, 5, 30)),
        ("31-01-2025", "14:05", datetime(2025, 1, 31, 14, 5)),
        ("2025-01-31", "14.05.30", datetime(2025, 1, 31, 14, 5, 30)),
        ("31/01/2025 14:05", "", datetime(2025, 1, 31, 14, 5)),
    ],
)
def test_dates_with_times_read_in_jakarta(day, clock, expected):
    booked_on, booked_at = parse_when(day, clock)

    assert booked_on == expected.date()
    assert booked_at == expected.replace(tzinfo=JAKARTA)


def test_iso_time_keeps_its_offset():
    booked_on, booked_at = parse_when("2025-01-31T23:30:00+00:00", "")

    assert booked_at == datetime.fromisoformat("2025-01-31T23:30:00+00:00")
    assert booked_on == date(2025, 2, 1)


def test_date_without_time_has_no_time():
    assert parse_when("31/01/2025", "") == (date(2025, 1, 31), None)


@pytest.mark.parametrize(
    ("day", "clock", "code"),
    [
        ("", "", "date_missing"),
        ("31/13/2025", "", "date_invalid"),
        ("Saldo Awal", "", "date_invalid"),
        ("31/01/2025", "25:00", "time_invalid"),
    ],
)
def test_bad_dates_name_the_problem(day, clock, code):
    with pytest.raises(RowInvalid) as raised:
        parse_when(day, clock, "Tanggal", "Waktu")

    assert raised.value.code == code


def test_semicolon_file_with_bom_reads():
    data = statement_csv("31/01/2025;10:00:05;TRF VA;PRQ-1;50.000,00;")

    statement = parse_statement(data)

    assert statement.read_as == "CSV, UTF-8 BOM, ;"
    assert statement.header_row == 1
    row = statement.rows[0]
    assert row.row_number == 2
    assert row.reference == "PRQ-1"
    assert row.credit == 50_000
    assert row.debit == 0
    assert row.description == "TRF VA"
    assert row.error_code == ""


def test_comma_file_with_english_headers_reads():
    text = (
        "Date,Description,Reference No.,Debit,Credit (IDR),Balance\n"
        '2025-01-31 10:00,"TRF VA, BANK",PRQ-1,,"50,000.00","1,050,000.00"\n'
    )

    statement = parse_statement(text.encode())

    assert statement.read_as == "CSV, UTF-8, ,"
    row = statement.rows[0]
    assert row.credit == 50_000
    assert row.description == "TRF VA, BANK"
    assert row.booked_at == datetime(2025, 1, 31, 10, 0, tzinfo=JAKARTA)


def test_lines_above_header_are_skipped():
    text = (
        "No. Rekening : 1234567890\n"
        "Periode : 01/01/2025 - 31/01/2025\n"
        "\n"
        "Tanggal;Keterangan;Referensi;Debet;Kredit\n"
        "31/01/2025;TRF;PRQ-1;;50.000,00\n"
    )

    statement = parse_statement(text.encode("cp1252"))

    assert statement.header_row == 4
    assert statement.rows[0].row_number == 5
    assert statement.rows[0].credit == 50_000


def test_windows_1252_text_reads():
    text = "Tanggal;Keterangan;Referensi;Debet;Kredit\n31/01/2025;Café;PRQ-1;;1.000\n"

    statement = parse_statement(text.encode("cp1252"))

    assert statement.read_as == "CSV, Windows-1252, ;"
    assert statement.rows[0].description == "Café"


def test_utf16_text_reads():
    text = "Tanggal\tKeterangan\tReferensi\tDebet\tKredit\r\n31/01/2025\tTRF\tPRQ-1\t\t1000\r\n"

    statement = parse_statement(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    assert statement.read_as == "CSV, UTF-16, tab"
    assert statement.rows[0].credit == 1_000


def test_every_bad_row_keeps_its_number():
    data = statement_csv(
        "31/01/2025;10:00;TRF;PRQ-1;50.000,00;",
        "31/01/2025;10:01;TRF;PRQ-2;50.000,50;",
        "",
        "32/01/2025;10:02;TRF;PRQ-3;1.000;",
        "31/01/2025;10:03;TRF;PRQ-4;;",
        "31/01/2025;10:04;TRF;PRQ-5;1.000;2.000",
        "31/01/2025;10:05",
        "Saldo Akhir;;;;1.000.000,00;",
    )

    statement = parse_statement(data)

    errors = {row.row_number: row.error_code for row in statement.rows}
    assert errors == {
        2: "",
        3: "amount_fraction",
        5: "date_invalid",
        6: "amount_missing",
        7: "amount_both",
        8: "row_short",
        9: "date_invalid",
    }
    assert statement.blank_rows == 1
    assert statement.rows[1].cells[4] == "50.000,50"


def test_missing_header_rejects_file():
    data = b"Tanggal;Keterangan;Jumlah\n31/01/2025;TRF;50.000\n"

    with pytest.raises(StatementRejected, match="date, reference, credit and debit"):
        parse_statement(data)


def test_header_without_rows_rejects_file():
    with pytest.raises(StatementRejected, match="no rows below it"):
        parse_statement(statement_csv())


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01PK\x03\x04"])
def test_empty_or_binary_file_rejected(data):
    with pytest.raises(StatementRejected):
        parse_statement(data)


@given(
    st.lists(
        st.tuples(AMOUNTS.filter(bool), st.booleans(), st.text("ABC123-", max_size=12)),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([";", ","]),
)
def test_written_rows_read_back(rows, separator):
    lines = []
    for amount, is_credit, reference in rows:
        money = f'"{grouped(amount, ".")},00"'
        credit, debit = (money, "") if is_credit else ("", money)
        lines.append(
            separator.join(["31/01/2025", "08:00", "x", reference, credit, debit])
        )

    statement = parse_statement(statement_csv(*lines, separator=separator))

    assert [
        (r.credit or r.debit, bool(r.credit), r.reference) for r in statement.rows
    ] == rows
    assert all(r.row_number == i + 2 for i, r in enumerate(statement.rows))


def test_excel_separator_line_is_not_a_row():
    text = 'sep=,\nTanggal,Referensi,Debet,Kredit\n31/01/2025,PRQ-1,,"1.000,00"\n'

    statement = parse_statement(text.encode())

    assert statement.read_as == "CSV, UTF-8, ,"
    assert statement.header_row == 1
    assert statement.rows[0].row_number == 2
    assert statement.rows[0].credit == 1_000


def test_broken_bom_text_rejected():
    with pytest.raises(StatementRejected, match="byte order mark"):
        parse_statement(codecs.BOM_UTF8 + b"Tanggal;\xff\xfe\n")
