"""Bill lists as CSV or XLSX downloads, for the revenue agency's own books.

A row names the payer by plate code and household id only, never by a
person. Every value comes from the levy's own tables (codes, numbers,
amounts), so none can start a spreadsheet formula.
"""

import csv
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Font

from kotacerdas.levy.models import Bill

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers() -> list[str]:
    return [
        _("bill number"),
        _("month"),
        _("kelurahan code"),
        _("kelurahan"),
        _("plate code"),
        _("household id"),
        _("levy class"),
        _("amount (Rp)"),
        _("paid (Rp)"),
        _("outstanding (Rp)"),
        _("status"),
        _("due date"),
    ]


ROW_FIELDS = (
    "number",
    "month",
    "kelurahan__code",
    "kelurahan__name",
    "building__plate_code",
    "household_id",
    "levy_class",
    "amount",
    "paid_amount",
    "status",
    "due_date",
)


def rows(bills: QuerySet[Bill]) -> Iterator[list[Any]]:
    # Plain values, not model rows: a kelurahan row carries its boundary.
    labels = {value: str(label) for value, label in Bill.Status.choices}
    values = bills.order_by("month", "number").values_list(*ROW_FIELDS)
    for row in values.iterator(chunk_size=5000):
        number, month, code, name, plate, household, levy_class = row[:7]
        amount, paid, status, due = row[7:]
        owed = 0 if status == Bill.Status.CANCELLED else amount - paid
        yield [
            number,
            f"{month:%Y-%m}",
            code,
            name,
            plate,
            household or "",
            levy_class,
            amount,
            paid,
            owed,
            labels[status],
            due.isoformat(),
        ]


def bills_response(bills: QuerySet[Bill], file_format: str) -> HttpResponse:
    name = f"{_('levy-bills')}-{timezone.localtime():%Y%m%d-%H%M}"
    if file_format == "xlsx":
        return _xlsx(bills, name)
    return _csv(bills, name)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(bills: QuerySet[Bill], name: str) -> HttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # The BOM makes Excel read the file as UTF-8.
        yield "\ufeff" + writer.writerow(headers())
        for row in rows(bills):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response  # type: ignore[return-value]


def _xlsx(bills: QuerySet[Bill], name: str) -> HttpResponse:
    # A write-only workbook keeps memory flat for the whole city's bills.
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Bills"))
    bold = []
    for text in headers():
        cell = openpyxl.cell.WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for row in rows(bills):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
