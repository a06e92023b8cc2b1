"""The trial report as an A4 PDF in the reader's language.

One table per area (all pilot areas first), then the method and the journal
checkpoint. The layout follows the monthly report's PDF and uses its
Latin-1 helper, because the core PDF fonts cover Latin-1 only.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fpdf import FPDF

from kotacerdas.city.models import City
from kotacerdas.command.monthly_report_pdf import (
    FooterPDF,
    latin1,
    paragraphs,
    section,
)
from kotacerdas.pilot import trial_display
from kotacerdas.pilot.trial_display import TableText
from kotacerdas.pilot.trial_report import TrialReport

MARGIN_MM = 12.0
FONT = "Helvetica"
# Figure, baseline, source, trial, change, non-pilot, difference: 186 mm.
COLUMNS_MM = (54.0, 23.0, 14.0, 23.0, 24.0, 24.0, 24.0)
ROW_MM = 5.0


def title(report: TrialReport) -> str:
    return _("Trial report: %(name)s") % {"name": report.pilot.name}


def render(report: TrialReport) -> bytes:
    pdf = FooterPDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = title(report)
    pdf.set_creation_date(report.generated_at)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(latin1(title(report)))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_page()

    city = City.objects.order_by("id").values_list("name", flat=True).first() or ""
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 5, latin1(f"Kota Cerdas · {city}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=15)
    pdf.cell(0, 9, latin1(title(report)), new_x="LMARGIN", new_y="NEXT")
    paragraphs(pdf, trial_display.period_texts(report))
    for table in trial_display.tables_text(report):
        _table(pdf, table)
    section(pdf, _("Method"), room_mm=50)
    paragraphs(pdf, trial_display.method_texts(report))
    section(pdf, _("Journal checkpoint"), room_mm=50)
    paragraphs(pdf, trial_display.checkpoint_texts(report))
    return bytes(pdf.output())


def _table(pdf: FPDF, table: TableText) -> None:
    section(pdf, table.title, room_mm=50)
    headings = (
        _("Figure"),
        _("Baseline"),
        _("Source"),
        _("Trial"),
        pgettext("difference between periods", "Change"),
        _("Non-pilot areas"),
        _("Difference"),
    )
    pdf.set_font(FONT, style="B", size=7)
    _row(pdf, headings)
    pdf.set_font(FONT, size=7)
    for row in table.rows:
        cells = (
            row.label,
            row.baseline,
            row.source,
            row.trial,
            row.change,
            row.others,
            row.difference,
        )
        _row(pdf, cells)


def _row(pdf: FPDF, cells: tuple[str, ...]) -> None:
    if pdf.get_y() + ROW_MM > pdf.h - 14:
        pdf.add_page()
    for index, (text, width) in enumerate(zip(cells, COLUMNS_MM, strict=True)):
        align = "L" if index in (0, 2) else "R"
        pdf.cell(width, ROW_MM, _fit(pdf, latin1(text), width), border="B", align=align)
    pdf.ln(ROW_MM)


def _fit(pdf: FPDF, text: str, width_mm: float) -> str:
    room = width_mm - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "...") > room:
        text = text[:-1]
    return text + "..."
