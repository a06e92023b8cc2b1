"""The monthly report as an A4 PDF, in the reader's language.

The report has the month's figures by section, a bar chart of the levy
collection rate by kelurahan, the per-kelurahan table, and the figures'
source (journal position and latest sealed block). The core PDF fonts cover
Latin-1 only, which is enough for Indonesian and English text.
"""

import base64
import unicodedata
from decimal import Decimal
from typing import cast

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from kotacerdas.city.models import City
from kotacerdas.command.display import decimal as decimal_text
from kotacerdas.command.display import figure_value
from kotacerdas.command.monthly_report import (
    KelurahanLine,
    Line,
    MonthlyReport,
)

MARGIN_MM = 12.0
PAGE_WIDTH_MM = 210.0
TEXT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_MM
FONT = "Helvetica"
LINE_MM = 5.5
LABEL_WIDTH_MM = 120.0
# Per-kelurahan table: name, buildings, households, billed, collected, rate,
# arrears, pickups, waste (kg), reports filed. They add up to TEXT_WIDTH_MM.
TABLE_COLUMNS_MM = (27.0, 16.0, 19.0, 20.0, 20.0, 17.0, 19.0, 19.0, 15.0, 14.0)
TABLE_ROW_MM = 5.0
CHART_LABEL_MM = 40.0
CHART_BAR_MM = 120.0
CHART_ROW_MM = 5.0
CHART_BAR_HEIGHT_MM = 3.6
BAR_RGB = (46, 109, 164)
GRID_RGB = (200, 200, 200)


# Typographic quotes and dashes that translations use, in their Latin-1 form.
_PLAIN = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u2013": "-",
        "\u2014": "-",
    }
)


def latin1(text: str) -> str:
    """Fit text to the PDF core fonts, which cover Latin-1 only."""
    composed = unicodedata.normalize("NFKC", text).translate(_PLAIN)
    return composed.encode("latin-1", "replace").decode("latin-1")


class FooterPDF(FPDF):
    """An A4 page with a footer: `footer_text`, then the page and page count."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, size=7)
        page = _("Page %(page)s of %(pages)s") % {
            "page": self.page_no(),
            "pages": "{nb}",
        }
        self.cell(0, 4, latin1(f"{self.footer_text} · {page}"), align="C")


def render(report: MonthlyReport) -> bytes:
    """Render the report and return the PDF bytes."""
    figures = report.figures
    pdf = FooterPDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = title(report)
    pdf.set_creation_date(report.generated_at)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(latin1(title(report)))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_page()

    _draw_heading(pdf, report)
    _draw_lines(pdf, _("Registry at the end of the period"), figures.registry)
    _draw_lines(pdf, _("Money"), figures.money)
    _draw_lines(pdf, _("Waste"), figures.waste)
    _draw_tonnage(pdf, figures.tonnage_by_group)
    _draw_rate_chart(pdf, figures.kelurahan)
    _draw_kelurahan_table(pdf, figures.kelurahan)
    _draw_provenance(pdf, report)
    return bytes(pdf.output())


def title(report: MonthlyReport) -> str:
    month = formats.date_format(report.figures.month, "F Y")
    return _("Monthly report %(month)s") % {"month": month}


def section(pdf: FPDF, text: str, *, room_mm: float = 40.0) -> None:
    """Start a section with an underlined heading, on a new page when less
    than `room_mm` is left."""
    if pdf.get_y() > pdf.h - room_mm:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, style="B", size=11)
    pdf.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*GRID_RGB)
    pdf.line(MARGIN_MM, pdf.get_y(), PAGE_WIDTH_MM - MARGIN_MM, pdf.get_y())
    pdf.ln(1)


def paragraphs(pdf: FPDF, texts: list[str]) -> None:
    """Write each text as a wrapped paragraph across the text width."""
    pdf.set_font(FONT, size=9)
    for text in texts:
        pdf.multi_cell(TEXT_WIDTH_MM, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _draw_heading(pdf: FPDF, report: MonthlyReport) -> None:
    city = City.objects.order_by("id").values_list("name", flat=True).first() or ""
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 5, latin1(f"Kota Cerdas · {city}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=16)
    pdf.cell(0, 9, latin1(title(report)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    period = report.figures.period
    if report.figures.complete:
        span = _("Figures for the whole month, to %(day)s.") % {
            "day": formats.date_format(period.today, "j F Y")
        }
    else:
        span = _(
            "The month is not over: figures to %(moment)s. Counts for the month"
            " will still grow."
        ) % {"moment": formats.date_format(timezone.localtime(period.now), "j F Y H:i")}
    pdf.multi_cell(TEXT_WIDTH_MM, 4.5, latin1(span), new_x="LMARGIN", new_y="NEXT")


def _draw_lines(pdf: FPDF, heading: str, lines: tuple[Line, ...]) -> None:
    section(pdf, heading)
    pdf.set_font(FONT, size=10)
    for line in lines:
        pdf.cell(LABEL_WIDTH_MM, LINE_MM, latin1(line.label))
        text = figure_value(line.unit, line.value)
        pdf.cell(0, LINE_MM, latin1(text), align="R", new_x="LMARGIN", new_y="NEXT")


def _draw_tonnage(pdf: FPDF, rows: tuple[tuple[str, str, int], ...]) -> None:
    section(pdf, _("Waste collected by sorting group"))
    pdf.set_font(FONT, size=10)
    if not rows:
        pdf.cell(0, LINE_MM, latin1(_("No waste collected in this period.")))
        pdf.ln(LINE_MM)
        return
    for _group, label, grams in rows:
        pdf.cell(LABEL_WIDTH_MM, LINE_MM, latin1(label))
        text = figure_value("grams", grams)
        pdf.cell(0, LINE_MM, latin1(text), align="R", new_x="LMARGIN", new_y="NEXT")


def _draw_rate_chart(pdf: FPDF, lines: tuple[KelurahanLine, ...]) -> None:
    """Draw one horizontal bar per kelurahan, 0 to 100 percent collected."""
    height = len(lines) * CHART_ROW_MM + 10
    if pdf.get_y() + height + 12 > pdf.h - 14:
        pdf.add_page()
    section(pdf, _("Levy collection rate by kelurahan"))
    left = MARGIN_MM + CHART_LABEL_MM
    top = pdf.get_y() + 1

    pdf.set_font(FONT, size=6)
    pdf.set_draw_color(*GRID_RGB)
    for tick in (0, 25, 50, 75, 100):
        x = left + CHART_BAR_MM * tick / 100
        pdf.line(x, top, x, top + len(lines) * CHART_ROW_MM)
        pdf.set_xy(x - 5, top + len(lines) * CHART_ROW_MM)
        pdf.cell(10, 3, f"{tick} %", align="C")

    pdf.set_fill_color(*BAR_RGB)
    for index, line in enumerate(lines):
        y = top + index * CHART_ROW_MM
        pdf.set_xy(MARGIN_MM, y)
        pdf.set_font(FONT, size=7)
        pdf.cell(CHART_LABEL_MM - 2, CHART_ROW_MM, latin1(line.name), align="R")
        rate = line.collection_rate
        if rate is None:
            pdf.set_xy(left + 1, y)
            pdf.cell(40, CHART_ROW_MM, latin1(_("no bills")))
            continue
        width = CHART_BAR_MM * min(rate, 1000) / 1000
        offset = (CHART_ROW_MM - CHART_BAR_HEIGHT_MM) / 2
        if width > 0:
            pdf.rect(left, y + offset, width, CHART_BAR_HEIGHT_MM, style="F")
        pdf.set_xy(left + width + 1, y)
        pdf.cell(20, CHART_ROW_MM, latin1(figure_value("percent", rate)))
    pdf.set_xy(MARGIN_MM, top + len(lines) * CHART_ROW_MM + 4)


def _draw_kelurahan_table(pdf: FPDF, lines: tuple[KelurahanLine, ...]) -> None:
    section(pdf, _("By kelurahan"))
    headings = (
        _("Kelurahan"),
        _("Buildings"),
        _("Households"),
        _("Billed"),
        _("Collected"),
        _("Rate"),
        _("Arrears"),
        _("Pickups"),
        _("Waste (kg)"),
        _("Reports"),
    )
    # Headings a size smaller than the cells, so "Pengangkutan" and
    # "Persentase" fit their columns without breaking mid-word.
    pdf.set_font(FONT, style="B", size=6)
    _table_headings(pdf, headings)
    pdf.set_font(FONT, size=7)
    for line in lines:
        _table_row(pdf, _kelurahan_cells(line))
    pdf.set_font(FONT, style="B", size=7)
    _table_row(pdf, _kelurahan_cells(_city_total(lines)))
    pdf.set_font(FONT, size=7)
    note = _(
        "Billed, collected and rate are for the month's bills; arrears are what"
        " bills of earlier months still owe. Pickups, waste and reports count"
        " the period."
    )
    pdf.ln(1)
    pdf.multi_cell(TEXT_WIDTH_MM, 3.5, latin1(note), new_x="LMARGIN", new_y="NEXT")


def _kelurahan_cells(line: KelurahanLine) -> tuple[str, ...]:
    return (
        line.name,
        figure_value("count", line.buildings),
        figure_value("count", line.households),
        figure_value("rupiah", line.levy_billed),
        figure_value("rupiah", line.levy_collected),
        figure_value("percent", line.collection_rate),
        figure_value("rupiah", line.arrears),
        figure_value("count", line.pickups),
        decimal_text(Decimal(line.tonnage_g) / 1000, 1),
        figure_value("count", line.reports_filed),
    )


def _city_total(lines: tuple[KelurahanLine, ...]) -> KelurahanLine:
    return KelurahanLine(
        code="",
        name=_("City"),
        buildings=sum(line.buildings for line in lines),
        households=sum(line.households for line in lines),
        levy_billed=sum(line.levy_billed for line in lines),
        levy_collected=sum(line.levy_collected for line in lines),
        arrears=sum(line.arrears for line in lines),
        pickups=sum(line.pickups for line in lines),
        tonnage_g=sum(line.tonnage_g for line in lines),
        reports_filed=sum(line.reports_filed for line in lines),
    )


def _table_headings(pdf: FPDF, headings: tuple[str, ...]) -> None:
    """Draw the table's headings, wrapped onto as many lines as the longest needs."""
    # With output="LINES" a dry run returns the wrapped lines as a list.
    wrapped = [
        cast(
            list[str],
            pdf.multi_cell(width, 3.2, latin1(text), dry_run=True, output="LINES"),
        )
        for text, width in zip(headings, TABLE_COLUMNS_MM, strict=True)
    ]
    height = max(len(lines) for lines in wrapped) * 3.2 + 1
    top = pdf.get_y()
    x = MARGIN_MM
    for index, (text, width) in enumerate(zip(headings, TABLE_COLUMNS_MM, strict=True)):
        pdf.set_xy(x, top)
        align = "L" if index == 0 else "R"
        pdf.multi_cell(width, 3.2, latin1(text), align=align)
        x += width
    pdf.set_draw_color(*GRID_RGB)
    pdf.line(MARGIN_MM, top + height, PAGE_WIDTH_MM - MARGIN_MM, top + height)
    pdf.set_xy(MARGIN_MM, top + height)


def _table_row(pdf: FPDF, cells: tuple[str, ...]) -> None:
    if pdf.get_y() + TABLE_ROW_MM > pdf.h - 14:
        pdf.add_page()
    for index, (text, width) in enumerate(zip(cells, TABLE_COLUMNS_MM, strict=True)):
        fitted = _fit(pdf, latin1(text), width)
        align = "L" if index == 0 else "R"
        pdf.cell(width, TABLE_ROW_MM, fitted, border="B", align=align)
    pdf.ln(TABLE_ROW_MM)


def _fit(pdf: FPDF, text: str, width_mm: float) -> str:
    room = width_mm - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "...") > room:
        text = text[:-1]
    return text + "..."


def _draw_provenance(pdf: FPDF, report: MonthlyReport) -> None:
    section(pdf, _("Where these figures come from"))
    pdf.set_font(FONT, size=9)
    for text in provenance_texts(report):
        pdf.multi_cell(TEXT_WIDTH_MM, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def provenance_texts(report: MonthlyReport) -> list[str]:
    """Describe the journal position and latest block in sentences."""
    source = report.provenance
    texts = [
        _(
            "Computed from the command center's rollups, which held the"
            " journal's first %(size)s entries (0 to %(last)s). Folding those"
            " entries with the rules shown on the dashboard's “how is this"
            " computed” pages gives the same figures."
        )
        % {"size": source.position, "last": source.position - 1},
    ]
    size = source.block_tree_size
    if source.block_root_hash is None or size is None:
        texts.append(_("No block was sealed yet when the report was made."))
    else:
        sealed = timezone.localtime(source.block_sealed_at)
        texts.append(
            _(
                "Latest sealed block: height %(height)s, tree size %(size)s"
                " (entries 0 to %(last)s), sealed %(sealed)s."
            )
            % {
                "height": source.block_height,
                "size": size,
                "last": size - 1,
                "sealed": formats.date_format(sealed, "j F Y H:i"),
            }
        )
        texts.append(
            _("Root hash (base64, as in the signed checkpoint): %(root)s")
            % {"root": base64.b64encode(source.block_root_hash).decode()}
        )
        if size < source.position:
            texts.append(
                _(
                    "Entries %(first)s to %(last)s were not sealed yet; a later"
                    " block will cover them."
                )
                % {"first": size, "last": source.position - 1}
            )
    moment = timezone.localtime(report.generated_at)
    texts.append(
        _("Report made %(moment)s.")
        % {"moment": formats.date_format(moment, "j F Y H:i")}
    )
    return texts
