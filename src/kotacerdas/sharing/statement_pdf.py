"""A monthly sharing statement as an A4 PDF, in the reader's language.

The core PDF fonts cover Latin-1 only, which is enough for Indonesian and
English text; `latin1` folds the typographic characters translations use.
"""

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from kotacerdas.city.models import City
from kotacerdas.command.monthly_report_pdf import (
    FooterPDF,
    latin1,
    paragraphs,
    section,
)
from kotacerdas.sharing import display
from kotacerdas.sharing.statement import Statement

MARGIN_MM = 12.0
PAGE_WIDTH_MM = 210.0
TEXT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_MM
FONT = "Helvetica"
LINE_MM = 5.5
ROW_MM = 5.0
LABEL_WIDTH_MM = 130.0
# Column widths of the tables; each set adds up to TEXT_WIDTH_MM.
REVENUE_COLUMNS_MM = (20.0, 46.0, 38.0, 16.0, 22.0, 22.0, 22.0)
COST_COLUMNS_MM = (18.0, 16.0, 20.0, 20.0, 49.0, 21.0, 21.0, 21.0)
MOVEMENT_COLUMNS_MM = (78.0, 36.0, 36.0, 36.0)


def render(statement: Statement) -> bytes:
    """Render the statement and return the PDF bytes."""
    pdf = FooterPDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = display.title(statement)
    pdf.set_creation_date(statement.computed_at)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(latin1(display.title(statement)))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_page()

    _draw_heading(pdf, statement)
    _draw_summary(pdf, statement)
    section(pdf, _("Revenue by source"))
    _draw_table(
        pdf,
        display.revenue_headings(),
        display.revenue_rows(statement),
        REVENUE_COLUMNS_MM,
        _("No fees were charged in this month."),
    )
    section(pdf, _("Partner's costs"))
    _draw_table(
        pdf,
        display.cost_headings(),
        display.cost_rows(statement),
        COST_COLUMNS_MM,
        _("No partner costs are dated in this month."),
    )
    _draw_rules(pdf, statement)
    section(pdf, _("Fee accounts in the month"))
    _draw_table(
        pdf,
        display.movement_headings(),
        display.movement_rows(statement),
        MOVEMENT_COLUMNS_MM,
        "",
    )
    section(pdf, _("Where these figures come from"))
    paragraphs(pdf, display.provenance(statement))
    return bytes(pdf.output())


def _draw_heading(pdf: FPDF, statement: Statement) -> None:
    city = City.objects.order_by("id").values_list("name", flat=True).first() or ""
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 5, latin1(f"Kota Cerdas · {city}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=15)
    pdf.multi_cell(
        TEXT_WIDTH_MM,
        8,
        latin1(display.title(statement)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    moment = formats.date_format(timezone.localtime(statement.computed_at), "j F Y H:i")
    paragraphs(
        pdf,
        [
            _("Computed %(moment)s at journal position %(position)s.")
            % {"moment": moment, "position": statement.position}
        ],
    )


def _draw_summary(pdf: FPDF, statement: Statement) -> None:
    section(pdf, _("Summary"))
    for line in display.summary(statement):
        pdf.set_font(FONT, style="B" if line.strong else "", size=10)
        pdf.cell(LABEL_WIDTH_MM, LINE_MM, latin1(line.label))
        pdf.cell(
            0,
            LINE_MM,
            latin1(line.text),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    paragraphs(pdf, [display.owed_explanation()])


def _draw_rules(pdf: FPDF, statement: Statement) -> None:
    section(pdf, _("The agreed split"))
    rules = statement.rules
    if not rules:
        paragraphs(pdf, [_("No fee or cost in this month followed a sharing rule.")])
        return
    paragraphs(pdf, [display.rule_text(rule) for rule in rules])


def _draw_table(
    pdf: FPDF,
    headings: list[str],
    rows: list[list[str | int]],
    widths: tuple[float, ...],
    empty: str,
) -> None:
    if not rows and empty:
        paragraphs(pdf, [empty])
        return
    pdf.set_font(FONT, style="B", size=7)
    # A column whose first row contains a number is right-aligned, heading too.
    first = rows[0] if rows else headings
    aligns = ["R" if isinstance(value, int) else "L" for value in first]
    _row(pdf, headings, widths, aligns)
    pdf.set_font(FONT, size=7)
    for row in rows:
        _row(pdf, [_cell_text(value) for value in row], widths, aligns)


def _cell_text(value: str | int) -> str:
    if isinstance(value, int):
        return formats.number_format(value, force_grouping=True)
    return value


def _row(
    pdf: FPDF, cells: list[str], widths: tuple[float, ...], aligns: list[str]
) -> None:
    if pdf.get_y() + ROW_MM > pdf.h - 14:
        pdf.add_page()
    for text, width, align in zip(cells, widths, aligns, strict=True):
        fitted = _fit(pdf, latin1(text), width)
        pdf.cell(width, ROW_MM, fitted, border="B", align=align)
    pdf.ln(ROW_MM)


def _fit(pdf: FPDF, text: str, width_mm: float) -> str:
    room = width_mm - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "...") > room:
        text = text[:-1]
    return text + "..."
