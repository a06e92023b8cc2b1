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

MARGIN_MM = 12.0
PAGE_WIDTH_MM = 210.0
DIAGRAM_HEIGHT_MM = 80.0
ROW_HEIGHT_MM = 6.0
# Column widths in mm: order, trip, arrival, kind, plate code, address, load.
COLUMNS_MM = (10.0, 10.0, 16.0, 24.0, 36.0, 70.0, 20.0)
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
    _draw_diagram(pdf, [s for s in stops if s.arrival is not None])
    _draw_table(pdf, stops)
    return bytes(pdf.output())


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
        pdf.set_font("Helvetica", size=6)
        for stop in stops:
            x, y = point(stop)
            unload = stop.kind == RouteStop.Kind.UNLOAD
            pdf.set_fill_color(*((200, 60, 40) if unload else (11, 110, 79)))
            pdf.ellipse(x - 1.2, y - 1.2, 2.4, 2.4, style="F")
            pdf.text(x + 1.5, y - 1.0, str(stop.sequence))
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
    )
    pdf.set_font("Helvetica", style="B", size=8)
    for width, heading in zip(COLUMNS_MM, headings, strict=True):
        pdf.cell(width, ROW_HEIGHT_MM, _latin1(heading), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=8)
    for stop in stops:
        code, place = stop_place(stop)
        arrival = stop.arrival.strftime("%H:%M") if stop.arrival else _("not fitted")
        cells = (
            str(stop.sequence),
            str(stop.trip),
            arrival,
            str(stop.get_kind_display()),
            code,
            place[:48],
            str(stop.demand_kg) if stop.demand_kg else "",
        )
        bold = stop.kind == RouteStop.Kind.UNLOAD
        pdf.set_font("Helvetica", style="B" if bold else "", size=8)
        for width, text in zip(COLUMNS_MM, cells, strict=True):
            pdf.cell(width, ROW_HEIGHT_MM, _latin1(text), border=1)
        pdf.ln()


@login_required
def route_sheet(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_for(request, plan_id)
    content = render_route_sheet(plan, route_stops(plan))
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"route-{plan.date.isoformat()}-{plan.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
