"""Cells of a drill-down list for the page, and the list as CSV or XLSX.

The page shows values in the reader's format (Rp7.500, local times). A file
keeps numbers as numbers and times as local time with their offset, so a
spreadsheet can sum and sort them. Text cells that a spreadsheet would read
as a formula get a leading apostrophe.
"""

import csv
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kotacerdas.command.lists import (
    CHOICE,
    DATE,
    DATETIME,
    ID,
    MONTH,
    NUMBER,
    PERCENT,
    RUPIAH,
    Column,
    Selection,
)
from kotacerdas.wallet.display import rupiah

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows an export may contain. A CSV streams row by row. An XLSX is built in a
# temporary file before the first byte is sent, so its cap is lower.
# NOTE: 200,000 XLSX rows of ten columns took 69 s to build with openpyxl 3.1.5
# on a 2-core machine at load average 10, and the request waits that long.
MAX_ROWS = {"csv": 1_000_000, "xlsx": 200_000}
CHUNK_ROWS = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def display(column: Column, value: Any) -> str:
    """Format a value as the page shows it, in the reader's language and format."""
    if value is None or value == "":
        return "—"
    if column.kind == CHOICE:
        labels = column.labels or {}
        return str(labels.get(value, value))
    if column.kind == RUPIAH:
        return rupiah(value)
    if column.kind == NUMBER:
        return number_format(value, force_grouping=True)
    if column.kind == PERCENT:
        return f"{round(Decimal(value) * 100)} %"
    if column.kind == DATETIME:
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if column.kind == MONTH:
        return f"{value:%Y-%m}"
    if column.kind == DATE:
        return value.isoformat()
    return str(value)


def cell(column: Column, value: Any, file_format: str) -> Any:
    """Convert a value for a file: numbers stay numbers, choices become labels."""
    if value is None:
        return "" if file_format == "csv" else None
    if column.kind in (RUPIAH, NUMBER, ID):
        return int(value)
    if column.kind == PERCENT:
        return float(round(Decimal(value) * 100, 1))
    if column.kind == DATETIME:
        local = timezone.localtime(value)
        if file_format == "csv":
            return local.isoformat(timespec="seconds")
        # Excel has no time zones: the city's local time, as the page shows.
        return local.replace(tzinfo=None, microsecond=0)
    if column.kind == MONTH:
        return f"{value:%Y-%m}"
    if column.kind == DATE:
        return value.isoformat() if file_format == "csv" else value
    if column.kind == CHOICE:
        value = (column.labels or {}).get(value, value)
    return _plain_text(str(value))


def _plain_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def header(column: Column) -> str:
    unit = {RUPIAH: " (Rp)", PERCENT: " (%)"}.get(column.kind, "")
    return f"{column.label}{unit}"


def too_many(count: int, file_format: str) -> bool:
    return count > MAX_ROWS[file_format]


def file_name(selection: Selection, extension: str) -> str:
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    return f"{selection.definition.filename}-{stamp}.{extension}"


def _rows(selection: Selection, file_format: str) -> Iterator[list[Any]]:
    columns = selection.definition.columns
    values = selection.ordered().iterator(chunk_size=CHUNK_ROWS)
    for row in values:
        yield [cell(c, v, file_format) for c, v in zip(columns, row, strict=True)]


class _Echo:
    """A file-like object whose write returns the line, for a streamed CSV."""

    def write(self, value: str) -> str:
        return value


def csv_response(selection: Selection) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    headers = [header(c) for c in selection.definition.columns]

    def lines() -> Iterator[str]:
        # The byte order mark makes Excel read the file as UTF-8.
        yield "\ufeff" + writer.writerow(headers)
        for row in _rows(selection, "csv"):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = file_name(selection, "csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def xlsx_response(selection: Selection) -> FileResponse:
    """Build the workbook in a temporary file and send it from there.

    A write-only workbook keeps one row in memory at a time, and the file
    on disk keeps a large export out of memory while it is sent.
    """
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(str(selection.definition.title)[:31])
    bold = Font(bold=True)
    headers = []
    for column in selection.definition.columns:
        heading = WriteOnlyCell(sheet, value=header(column))
        heading.font = bold
        headers.append(heading)
    sheet.append(headers)
    for row in _rows(selection, "xlsx"):
        sheet.append(row)
    # FileResponse closes the file once sent, so no `with` block here.
    stored = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(stored)
    stored.seek(0)
    return FileResponse(
        stored,
        as_attachment=True,
        filename=file_name(selection, "xlsx"),
        content_type=XLSX_TYPE,
    )
