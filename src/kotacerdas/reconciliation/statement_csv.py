"""Read a bank statement exported as CSV into rows of whole rupiah.

The layout is documented in docs/reconciliation.md. In short: one header row
naming at least the columns date, reference, credit and debit (Indonesian
names such as tanggal, referensi, kredit and debet work too), optionally time,
description and balance. Banks put the account number and period above the
table, so up to 20 lines before the header are skipped. Cells are separated
by ';', ',' or tab, and the text is UTF-8 (with or without BOM) or
Windows-1252. This module reads no database.

Every row after the header comes back, either read or with the reason it
could not be read, so nothing is dropped without a trace. Only rows with no
cells at all are counted and left out.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_HEADER_SEARCH_ROWS = 20
MAX_ROWS = 100_000
MAX_AMOUNT = 10**15
MAX_REFERENCE = 128
MAX_DESCRIPTION = 300
SEPARATORS = (";", ",", "\t")
REQUIRED = ("date", "reference", "credit", "debit")

# Header names banks use, after `header_key` lowercased them and removed
# punctuation and a trailing currency ("Kredit (Rp)" is "kredit").
HEADER_NAMES = {
    "date": {
        "date",
        "tanggal",
        "tgl",
        "tanggal transaksi",
        "tgl transaksi",
        "transaction date",
        "posting date",
        "booking date",
        "tanggal waktu",
        "date time",
    },
    "time": {"time", "waktu", "jam", "waktu transaksi", "transaction time"},
    "description": {
        "description",
        "keterangan",
        "uraian",
        "uraian transaksi",
        "deskripsi",
        "remark",
        "remarks",
    },
    "reference": {
        "reference",
        "reference no",
        "reference number",
        "ref",
        "ref no",
        "referensi",
        "no referensi",
        "nomor referensi",
        "payment request id",
        "paymentrequestid",
    },
    "credit": {"credit", "kredit", "cr", "mutasi kredit", "credit amount"},
    "debit": {"debit", "debet", "db", "mutasi debet", "mutasi debit", "debit amount"},
    "balance": {"balance", "saldo", "saldo akhir"},
}
_HEADER_LOOKUP = {name: key for key, names in HEADER_NAMES.items() for name in names}
_CURRENCY_SUFFIX = re.compile(r"\s+(rp|idr)$")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_CURRENCY = re.compile(r"^(rp|idr)\.?\s*", re.IGNORECASE)

DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d", "%d/%m/%y")
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H.%M.%S", "%H.%M")

# Messages for rows that could not be read, by code. `column` is the header
# cell as the file has it.
ROW_ERRORS = {
    "date_missing": gettext_lazy(
        "%(column)s: the cell is empty. Every row needs its booking date."
    ),
    "date_invalid": gettext_lazy(
        "%(column)s: %(value)s is not a date. Write it as 31/01/2025 or "
        "2025-01-31, optionally followed by the time."
    ),
    "time_invalid": gettext_lazy(
        "%(column)s: %(value)s is not a time of day. Write it as 14:05 or 14:05:30."
    ),
    "amount_invalid": gettext_lazy(
        "%(column)s: %(value)s is not an amount. Write it as 50.000,00 or 50000.00."
    ),
    "amount_fraction": gettext_lazy(
        "%(column)s: %(value)s has a fraction of a rupiah. The wallet counts "
        "whole rupiah, so check this row with the bank."
    ),
    "amount_negative": gettext_lazy(
        "%(column)s: %(value)s is negative. Write money in under credit and "
        "money out under debit, both without a sign."
    ),
    "amount_too_large": gettext_lazy(
        "%(column)s: %(value)s is larger than any amount the wallet accepts."
    ),
    "amount_missing": gettext_lazy(
        "Credit and debit are both empty or zero. A row moves money in one of them."
    ),
    "amount_both": gettext_lazy(
        "Credit and debit both have an amount. A row moves money in only one of them."
    ),
    "row_short": gettext_lazy(
        "The row has %(count)s cells, but the header has %(expected)s. Check "
        "for a separator inside a description that is not in quotes."
    ),
    "reference_too_long": gettext_lazy(
        "%(column)s: the reference has %(length)s characters, more than the "
        "%(max)s a payment request ID may have."
    ),
}


class StatementRejected(ValueError):
    """The file as a whole cannot be read as a statement; `message` explains why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RowInvalid(ValueError):
    """One cell of a row cannot be read; the code names a ROW_ERRORS entry."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class StatementRow:
    """One row after the header: read, or with the reason it was not."""

    row_number: int
    cells: tuple[str, ...]
    booked_on: date | None = None
    booked_at: datetime | None = None
    description: str = ""
    reference: str = ""
    credit: int = 0
    debit: int = 0
    error_code: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    rows: list[StatementRow]
    header_row: int
    blank_rows: int
    read_as: str


def parse_statement(data: bytes) -> Statement:
    """Read a statement file; raise StatementRejected if it has no usable table."""
    text, encoding = decode_text(data)
    first_line, _newline, rest = text.partition("\n")
    # Excel writes and reads a first line "sep=;" naming the separator. It
    # does not show it as a row, so row numbers start after it.
    hint = re.fullmatch(r"sep=(.)\r?", first_line)
    if hint:
        text = rest
    separators = (hint.group(1),) if hint else SEPARATORS
    separator, header_index, columns = _find_header(text, separators)
    header_cells: list[str] = []
    rows: list[StatementRow] = []
    blank = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    for index, cells in enumerate(reader):
        if index < header_index:
            continue
        if index == header_index:
            header_cells = [cell.strip() for cell in cells]
            continue
        if not any(cell.strip() for cell in cells):
            blank += 1
            continue
        if len(rows) >= MAX_ROWS:
            raise StatementRejected(
                _("The statement has more than %(max)s rows; split it by month.")
                % {"max": MAX_ROWS}
            )
        rows.append(read_row(index + 1, cells, columns, header_cells))
    if not rows:
        raise StatementRejected(
            _("The statement has a header row but no rows below it.")
        )
    shown = {"\t": "tab"}.get(separator, separator)
    return Statement(rows, header_index + 1, blank, f"CSV, {encoding}, {shown}")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes as a bank or Excel writes them, naming the encoding."""
    if not data.strip():
        raise StatementRejected(_("The file is empty."))
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 BOM"
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "UTF-16"
    except UnicodeDecodeError:
        raise StatementRejected(
            _(
                "The file starts with a byte order mark but its text is not "
                "valid in that encoding. Export the statement as CSV again."
            )
        ) from None
    if b"\x00" in data[:4096]:
        raise StatementRejected(
            _("This file is not a text file. Export the statement as CSV.")
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Windows-1252 decodes nearly every byte, so it is the last resort.
        try:
            return data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            raise StatementRejected(
                _(
                    "The text encoding of this file is not UTF-8 or "
                    "Windows-1252. Export the statement as CSV in UTF-8."
                )
            ) from None


def header_key(text: str) -> str:
    """Reduce a header cell to lowercase words: "No. Referensi" is "no referensi"."""
    words = _NOT_WORD.sub(" ", text.strip().lower()).strip()
    return _CURRENCY_SUFFIX.sub("", words)


def map_columns(cells: list[str]) -> dict[str, int]:
    """Return the position of each known column in a header row."""
    positions: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = _HEADER_LOOKUP.get(header_key(cell))
        if key is not None and key not in positions:
            positions[key] = position
    return positions


def _find_header(
    text: str, separators: tuple[str, ...]
) -> tuple[str, int, dict[str, int]]:
    """Find the separator and the header row among the first lines."""
    lines = text.splitlines(keepends=True)
    head = "".join(lines[: MAX_HEADER_SEARCH_ROWS + 1])
    best: tuple[str, int, dict[str, int]] | None = None
    for separator in separators:
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=separator)
        for index, cells in enumerate(reader):
            if index > MAX_HEADER_SEARCH_ROWS:
                break
            columns = map_columns(cells)
            if all(key in columns for key in REQUIRED):
                if best is None or len(columns) > len(best[2]):
                    best = (separator, index, columns)
                break
    if best is None:
        raise StatementRejected(
            _(
                "No header row was found in the first %(max)s rows. The "
                "statement needs the columns date, reference, credit and debit "
                "(or tanggal, referensi, kredit and debet)."
            )
            % {"max": MAX_HEADER_SEARCH_ROWS}
        )
    return best


def read_row(
    row_number: int, cells: list[str], columns: dict[str, int], header: list[str]
) -> StatementRow:
    """Read one row, or return it with the first problem found in it."""
    cells = [cell.strip() for cell in cells]
    raw = tuple(cells)
    needed = max(columns[key] for key in REQUIRED) + 1
    if len(cells) < needed:
        return StatementRow(
            row_number,
            raw,
            error_code="row_short",
            error_params={"count": len(cells), "expected": len(header)},
        )

    def cell(key: str) -> str:
        position = columns.get(key)
        return cells[position] if position is not None and position < len(cells) else ""

    def name(key: str) -> str:
        return header[columns[key]] or key

    try:
        booked_on, booked_at = parse_when(
            cell("date"),
            cell("time"),
            name("date"),
            name("time") if "time" in columns else "",
        )
        credit = parse_amount(cell("credit"), name("credit"))
        debit = parse_amount(cell("debit"), name("debit"))
        reference = cell("reference")
        if len(reference) > MAX_REFERENCE:
            raise RowInvalid(
                "reference_too_long",
                column=name("reference"),
                length=len(reference),
                max=MAX_REFERENCE,
            )
        if credit and debit:
            raise RowInvalid("amount_both")
        if not credit and not debit:
            raise RowInvalid("amount_missing")
    except RowInvalid as invalid:
        return StatementRow(
            row_number, raw, error_code=invalid.code, error_params=invalid.params
        )
    return StatementRow(
        row_number,
        raw,
        booked_on=booked_on,
        booked_at=booked_at,
        description=cell("description")[:MAX_DESCRIPTION],
        reference=reference,
        credit=credit,
        debit=debit,
    )


def parse_amount(text: str, column: str = "amount") -> int:
    """Read "50.000,00", "50,000.00", "50000.00", "Rp 50.000" or "" (zero) as rupiah.

    When both '.' and ',' appear, the last one is the decimal separator. When
    only one appears, it is the decimal separator if one or two digits follow
    it once, and the grouping separator if groups of three digits follow.
    Raises RowInvalid for anything else, for a negative amount and for a
    fraction of a rupiah.
    """
    value = _CURRENCY.sub("", text.strip()).replace("\u00a0", "").replace(" ", "")
    if value in ("", "-"):
        return 0
    if value.startswith(("-", "(")) or value.endswith("-"):
        raise RowInvalid("amount_negative", column=column, value=text)
    whole, fraction = _split_amount(value)
    if whole is None:
        raise RowInvalid("amount_invalid", column=column, value=text)
    if fraction.strip("0"):
        raise RowInvalid("amount_fraction", column=column, value=text)
    amount = int(whole)
    if amount > MAX_AMOUNT:
        raise RowInvalid("amount_too_large", column=column, value=text)
    return amount


def _split_amount(value: str) -> tuple[str | None, str]:
    """Split an amount into its whole digits and its fraction digits."""
    if value.isdecimal():
        return value, ""
    marks = [mark for mark in ".," if mark in value]
    if len(marks) == 2:
        decimal = "." if value.rfind(".") > value.rfind(",") else ","
        grouping = "," if decimal == "." else "."
    else:
        mark = marks[0] if marks else ""
        parts = value.split(mark) if mark else [value]
        if len(parts) == 2 and 1 <= len(parts[1]) <= 2:
            decimal, grouping = mark, ""
        else:
            decimal, grouping = "", mark
    whole, _sep, fraction = value.rpartition(decimal) if decimal else (value, "", "")
    if decimal and (not fraction.isdecimal() or len(fraction) > 2):
        return None, ""
    if grouping:
        groups = whole.split(grouping)
        if not (
            1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
        ):
            return None, ""
        whole = "".join(groups)
    if not whole.isdecimal():
        return None, ""
    return whole, fraction


def parse_when(
    date_text: str, time_text: str, date_column: str = "date", time_column: str = "time"
) -> tuple[date, datetime | None]:
    """Read the booking date and, when given, the time in the city's time zone.

    Dates are day first (31/01/2025), as Indonesian banks write them, or ISO
    (2025-01-31). The time comes from its own column, or after the date in the
    same cell. An ISO time with an offset keeps its offset.
    """
    if not date_text:
        raise RowInvalid("date_missing", column=date_column)
    iso = _iso_datetime(date_text)
    if iso is not None:
        return timezone.localdate(iso), iso
    day_text, _space, rest = date_text.partition(" ")
    day = _parse_date(day_text)
    if day is None:
        raise RowInvalid("date_invalid", column=date_column, value=date_text)
    clock_text = time_text or rest.strip()
    if not clock_text:
        return day, None
    clock = _parse_time(clock_text)
    if clock is None:
        column = time_column if time_text else date_column
        raise RowInvalid("time_invalid", column=column, value=clock_text)
    return day, timezone.make_aware(datetime.combine(day, clock))


def _iso_datetime(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _parse_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _parse_time(text: str) -> time | None:
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    return None
