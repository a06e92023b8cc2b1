"""A monthly sharing statement as an XLSX workbook, in the reader's language.

One sheet per part: the summary, revenue by source, costs, the fee accounts'
movement and where the figures come from. Amounts stay integer rupiah, so a
spreadsheet can sum them. Typed text (descriptions) that a spreadsheet would
read as a formula gets a leading apostrophe.
"""

from io import BytesIO

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from kotacerdas.sharing import display
from kotacerdas.sharing.statement import Statement

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RUPIAH_FORMAT = "#,##0"
BOLD = Font(bold=True)


def render(statement: Statement) -> bytes:
    """Build the workbook and return its bytes."""
    workbook = openpyxl.Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = _sheet_title(_("Summary"))
    _fill_summary(summary, statement)
    _fill_table(
        workbook.create_sheet(_sheet_title(_("Revenue by source"))),
        display.revenue_headings(),
        display.revenue_rows(statement),
    )
    _fill_table(
        workbook.create_sheet(_sheet_title(_("Partner's costs"))),
        display.cost_headings(),
        display.cost_rows(statement),
    )
    _fill_table(
        workbook.create_sheet(_sheet_title(_("Fee accounts"))),
        display.movement_headings(),
        display.movement_rows(statement),
    )
    source = workbook.create_sheet(_sheet_title(_("Source")))
    for text in display.provenance(statement):
        source.append([text])
    source.column_dimensions["A"].width = 120
    stored = BytesIO()
    workbook.save(stored)
    return stored.getvalue()


def _sheet_title(text: str) -> str:
    # Excel limits a sheet title to 31 characters and forbids a few symbols.
    return "".join(c for c in text if c not in "[]:*?/\\")[:31]


def _fill_summary(sheet: Worksheet, statement: Statement) -> None:
    sheet.append([display.title(statement)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_("Journal position"), statement.position])
    sheet.append([])
    for line in display.summary(statement):
        sheet.append([line.label, line.amount_rupiah])
        row = sheet.max_row
        sheet.cell(row=row, column=2).number_format = RUPIAH_FORMAT
        if line.strong:
            sheet.cell(row=row, column=1).font = BOLD
            sheet.cell(row=row, column=2).font = BOLD
    sheet.append([])
    sheet.append([display.owed_explanation()])
    sheet.append([])
    sheet.append([_("The agreed split")])
    sheet.cell(row=sheet.max_row, column=1).font = BOLD
    for rule in statement.rules:
        sheet.append([display.rule_text(rule)])
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["B"].width = 18


def _fill_table(
    sheet: Worksheet, headings: list[str], rows: list[list[str | int]]
) -> None:
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append([_safe(value) for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, int):
                cell.number_format = RUPIAH_FORMAT
    for index in range(len(headings)):
        letter = openpyxl.utils.get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = 20


def _safe(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
