"""The printable A4 route sheet a crew takes on the road.

The sheet has a header (date, vehicle, shift, revision, totals), the stops in
order with their plate codes and street addresses, the unload stops, and a
diagram of the route drawn from the stop coordinates. It names no person: a
building's street address is public, and crews are shown by number only.
"""

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from fpdf import FPDF

from kotacerdas.waste.models import RoutePlan, RouteStop
from kotacerdas.waste.views_routes import plan_for, route_stops, stop_place

# A label's rectangle in mm: left, top, right, bottom.
Box = tuple[float, float, float, float]

MARGIN_MM = 12.0
PAGE_WIDTH_MM = 210.0
DIAGRAM_HEIGHT_MM = 80.0
ROW_HEIGHT_MM = 6.0
# Column widths in mm: order, trip, arrival, kind, plate code, address, load,
# status. They add up to the page width between the margins.
COLUMNS_MM = (8.0, 8.0, 12.0, 30.0, 33.0, 53.0, 15.0, 27.0)
LABEL_FONT_PT = 6
LABEL_HEIGHT_MM = 2.4
# Most stop numbers written beside one point of the diagram.
LABELS_PER_POINT = 3
# Fixed so that the same plan always renders to the same bytes.
CREATION_DATE = datetime(2024, 1, 1, tzinfo=UTC)


def _latin1(text: str) -> str:
    """Fit text to the PDF core fonts, which cover Latin-1 only."""
    composed = unicodedata.normalize("NFKC", text)
    return composed.encode("latin-1", "replace").decode("latin-1")


def render_route_sheet(plan: RoutePlan, stops: Sequence[RouteStop]) -> bytes:
    """Render the route sheet of `plan` over its live `stops` in order."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_page()
    point_count = sum(1 for s in stops if s.building_id or s.container_id)
    _draw_header(pdf, plan, point_count)
    fitted = [s for s in stops if s.arrival is not None]
    not_fitted = [s for s in stops if s.arrival is None]
    _draw_diagram(pdf, fitted)
    _draw_table(pdf, fitted)
    if not_fitted:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=10)
        heading = _("Not fitted into any route")
        pdf.cell(0, 6, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        _draw_table(pdf, not_fitted)
    return bytes(pdf.output())


def fit_text(pdf: FPDF, text: str, width_mm: float) -> str:
    """Cut `text` with an ellipsis so that it fits a cell `width_mm` wide."""
    room = width_mm - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "...") > room:
        text = text[:-1]
    return text + "..."


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(
    pdf: FPDF, points: Sequence[tuple[float, float, str]]
) -> list[tuple[float, float, str]]:
    """Place each point's label beside it where it overlaps no label or dot.

    Tries right, left, below and above the point; a label that fits nowhere is
    left out (the table lists every stop). Returns (x, y, text) with y the
    text baseline, in mm.
    """
    taken: list[Box] = [(x - 1.2, y - 1.2, x + 1.2, y + 1.2) for x, y, _t in points]
    placed = []
    for x, y, text in points:
        width = pdf.get_string_width(text)
        for left, top in (
            (x + 1.5, y - LABEL_HEIGHT_MM),
            (x - 1.5 - width, y - LABEL_HEIGHT_MM),
            (x - width / 2, y + 1.4),
            (x - width / 2, y - 1.4 - LABEL_HEIGHT_MM),
        ):
            box = (left, top, left + width, top + LABEL_HEIGHT_MM)
            if not any(_overlaps(box, other) for other in taken):
                taken.append(box)
                placed.append((left, top + LABEL_HEIGHT_MM - 0.4, text))
                break
    return placed


def _draw_header(pdf: FPDF, plan: RoutePlan, point_count: int) -> None:
    pdf.set_font("Helvetica", style="B", size=15)
    title = _("Route sheet %(date)s, vehicle %(vehicle)s") % {
        "date": plan.date.isoformat(),
        "vehicle": plan.vehicle.plate_number,
    }
    pdf.cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    summary = _(
        "Shift %(start)s-%(end)s. Revision %(revision)s. Stops: %(stops)s. "
        "Trips to unload: %(trips)s. Planned distance: %(km)s km."
    ) % {
        "start": plan.shift_start.strftime("%H:%M"),
        "end": plan.shift_end.strftime("%H:%M"),
        "revision": plan.revision,
        "stops": point_count,
        "trips": plan.trips,
        "km": f"{plan.distance_m / 1000:.1f}",
    }
    pdf.cell(0, 6, _latin1(summary), new_x="LMARGIN", new_y="NEXT")
    if plan.replan_reason:
        reason = _("Re-planned: %(reason)s") % {"reason": plan.replan_reason}
        pdf.cell(0, 6, _latin1(reason), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _draw_diagram(pdf: FPDF, stops: Sequence[RouteStop]) -> None:
    """Draw the stops as numbered dots joined in visiting order, north up."""
    left, top = MARGIN_MM, pdf.get_y()
    width = PAGE_WIDTH_MM - 2 * MARGIN_MM
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(left, top, width, DIAGRAM_HEIGHT_MM)
    if stops:
        lats = [float(s.lat) for s in stops]
        lngs = [float(s.lng) for s in stops]
        span = max(max(lats) - min(lats), max(lngs) - min(lngs), 1e-6)
        scale = min(width, DIAGRAM_HEIGHT_MM) * 0.9 / span

        def point(stop: RouteStop) -> tuple[float, float]:
            x = left + 5 + (float(stop.lng) - min(lngs)) * scale
            y = top + DIAGRAM_HEIGHT_MM - 5 - (float(stop.lat) - min(lats)) * scale
            return x, y

        pdf.set_draw_color(11, 110, 79)
        for before, after in pairwise(stops):
            pdf.line(*point(before), *point(after))
        pdf.set_font("Helvetica", size=LABEL_FONT_PT)
        # Stops at one spot (the depot start and end, a TPA unloaded at
        # twice) share one label, such as "1, 14".
        numbers: dict[tuple[float, float], list[str]] = {}
        for stop in stops:
            x, y = point(stop)
            unload = stop.kind == RouteStop.Kind.UNLOAD
            pdf.set_fill_color(*((200, 60, 40) if unload else (11, 110, 79)))
            pdf.ellipse(x - 1.2, y - 1.2, 2.4, 2.4, style="F")
            numbers.setdefault((round(x, 1), round(y, 1)), []).append(
                str(stop.sequence)
            )
        labels = []
        for (x, y), sequences in numbers.items():
            text = ", ".join(sequences[:LABELS_PER_POINT])
            if len(sequences) > LABELS_PER_POINT:
                text += ", ..."
            labels.append((x, y, text))
        for x, y, text in place_labels(pdf, labels):
            pdf.text(x, y, text)
    pdf.set_y(top + DIAGRAM_HEIGHT_MM + 4)


def _draw_table(pdf: FPDF, stops: Sequence[RouteStop]) -> None:
    headings = (
        _("No."),
        _("Trip"),
        _("Arrival"),
        _("Kind"),
        _("Plate code"),
        _("Address or place"),
        _("Load (kg)"),
        _("Status"),
    )
    pdf.set_font("Helvetica", style="B", size=8)
    for width, heading in zip(COLUMNS_MM, headings, strict=True):
        pdf.cell(width, ROW_HEIGHT_MM, fit_text(pdf, _latin1(heading), width), border=1)
    pdf.ln()
    for stop in stops:
        code, place = stop_place(stop)
        fitted = stop.arrival is not None
        # A stop not fitted into the route belongs to no trip and has no time.
        cells = (
            str(stop.sequence),
            str(stop.trip) if fitted else "",
            stop.arrival.strftime("%H:%M") if stop.arrival else "",
            str(stop.get_kind_display()),
            code,
            place,
            str(stop.demand_kg) if stop.demand_kg else "",
            str(stop.get_status_display()),
        )
        bold = stop.kind == RouteStop.Kind.UNLOAD
        pdf.set_font("Helvetica", style="B" if bold else "", size=8)
        for width, text in zip(COLUMNS_MM, cells, strict=True):
            pdf.cell(
                width, ROW_HEIGHT_MM, fit_text(pdf, _latin1(text), width), border=1
            )
        pdf.ln()


@login_required
def route_sheet(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_for(request, plan_id)
    content = render_route_sheet(plan, route_stops(plan))
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"route-{plan.date.isoformat()}-{plan.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
