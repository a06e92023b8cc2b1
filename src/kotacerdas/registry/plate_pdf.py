"""Printable QR plates: A4 sheets of six plates, and the pages that print them.

Each plate shows the city, the kelurahan, the RT/RW, the plate code in large
letters and a QR code holding the plate's signed URL. The QR code uses error
correction level H (about 30% of it may be lost) because plates hang outdoors
and get scratched and dirty. A plate carries no personal data: no address and
no names, only area codes anyone can see from the street.

The QR code is embedded as a greyscale picture with whole pixels per module,
so its edges stay exact however it is scaled. The same plates always give the
same bytes (the creation date is fixed), so two prints can be compared.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import zxingcpp
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from PIL import Image

from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area
from kotacerdas.registry import services
from kotacerdas.registry.codes import InvalidCode, normalize_plate_code
from kotacerdas.registry.models import Building, Plate
from kotacerdas.registry.plates import plate_url

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_MM = 10.0
FOOTER_MM = 8.0
COLUMNS = 2
ROWS = 3
PLATES_PER_PAGE = COLUMNS * ROWS
CELL_WIDTH_MM = (PAGE_WIDTH_MM - 2 * MARGIN_MM) / COLUMNS
CELL_HEIGHT_MM = (PAGE_HEIGHT_MM - 2 * MARGIN_MM - FOOTER_MM) / ROWS
QR_SIZE_MM = 52.0  # including the quiet zone of four modules on each side
QR_QUIET_MODULES = 4
CODE_FONT_PT = 26.0
CUT_MARK_MM = 4.0
QR_PIXELS_PER_MODULE = 4
# 300 plates (50 pages) rendered in 3.3 s on a 2-core development machine;
# a kelurahan with more buildings prints RW by RW.
MAX_PLATES_PER_SHEET = 300
# Fixed so that the same plates always render to the same bytes.
CREATION_DATE = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlateFace:
    """The text and the QR content printed on one plate."""

    city_name: str
    kelurahan_name: str
    rw: str
    rt: str
    code: str
    url: str


def plate_face(plate: Plate) -> PlateFace:
    building = plate.building
    return PlateFace(
        city_name=building.kelurahan.city.name,
        kelurahan_name=building.kelurahan.name,
        rw=building.unit.rw,
        rt=building.unit.rt,
        code=plate.code,
        url=plate_url(plate.code, plate.key_id, plate.signature),
    )


def _latin1(text: str) -> str:
    """Fit text to the PDF core fonts, which cover Latin-1 only."""
    composed = unicodedata.normalize("NFKC", text)
    return composed.encode("latin-1", "replace").decode("latin-1")


def render_plates(faces: Sequence[PlateFace]) -> bytes:
    """Render plates onto A4 pages, six per page, and return the PDF bytes."""
    # Importing fpdf2 took 1.1 s on a 2-core machine, so only printing pays for it.
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(_latin1(_("QR plates")))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pages = max(1, -(-len(faces) // PLATES_PER_PAGE))
    for index, face in enumerate(faces):
        position = index % PLATES_PER_PAGE
        if position == 0:
            pdf.add_page()
            _draw_footer(pdf, face.city_name, index // PLATES_PER_PAGE + 1, pages)
        x = MARGIN_MM + (position % COLUMNS) * CELL_WIDTH_MM
        y = MARGIN_MM + (position // COLUMNS) * CELL_HEIGHT_MM
        _draw_plate(pdf, face, x, y)
    return bytes(pdf.output())


def _draw_footer(pdf: "FPDF", city_name: str, page: int, pages: int) -> None:
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(90)
    pdf.set_xy(MARGIN_MM, PAGE_HEIGHT_MM - MARGIN_MM - FOOTER_MM + 3)
    label = _("%(city)s: QR plates, page %(page)s of %(pages)s. Cut along the lines.")
    pdf.cell(
        w=PAGE_WIDTH_MM - 2 * MARGIN_MM,
        h=4,
        text=_latin1(label % {"city": city_name, "page": page, "pages": pages}),
        align="C",
    )


def _draw_plate(pdf: "FPDF", face: PlateFace, x: float, y: float) -> None:
    _draw_cut_lines(pdf, x, y)
    inner_width = CELL_WIDTH_MM - 8
    pdf.set_text_color(0)

    pdf.set_font("Helvetica", style="B", size=12)
    pdf.set_xy(x + 4, y + 4)
    pdf.cell(w=inner_width, h=6, text=_latin1(face.city_name), align="C")
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(x + 4, y + 10)
    pdf.cell(
        w=inner_width,
        h=5,
        text=_latin1(f"Kelurahan {face.kelurahan_name}"),
        align="C",
    )
    pdf.set_xy(x + 4, y + 15)
    pdf.cell(w=inner_width, h=5, text=f"RT {face.rt} / RW {face.rw}", align="C")

    qr_y = y + 20.5
    _draw_qr(pdf, face.url, x + (CELL_WIDTH_MM - QR_SIZE_MM) / 2, qr_y)

    size = CODE_FONT_PT
    pdf.set_font("Helvetica", style="B", size=size)
    while pdf.get_string_width(face.code) > inner_width and size > 12:
        size -= 1
        pdf.set_font("Helvetica", style="B", size=size)
    pdf.set_xy(x + 4, qr_y + QR_SIZE_MM + 0.5)
    pdf.cell(w=inner_width, h=9, text=_latin1(face.code), align="C")

    pdf.set_font("Helvetica", size=7)
    pdf.set_text_color(90)
    pdf.set_xy(x + 4, qr_y + QR_SIZE_MM + 9.5)
    hint = _("Scan with a phone camera to check that this plate is genuine.")
    pdf.cell(w=inner_width, h=3.5, text=_latin1(hint), align="C")


def _draw_cut_lines(pdf: "FPDF", x: float, y: float) -> None:
    """Draw a dashed border to cut along, with solid marks at the corners."""
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    pdf.rect(x, y, CELL_WIDTH_MM, CELL_HEIGHT_MM)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0)
    right, bottom = x + CELL_WIDTH_MM, y + CELL_HEIGHT_MM
    for corner_x, corner_y, dx, dy in (
        (x, y, 1, 1),
        (right, y, -1, 1),
        (x, bottom, 1, -1),
        (right, bottom, -1, -1),
    ):
        pdf.line(corner_x, corner_y, corner_x + dx * CUT_MARK_MM, corner_y)
        pdf.line(corner_x, corner_y, corner_x, corner_y + dy * CUT_MARK_MM)


def qr_image(text: str) -> Image.Image:
    """Return the QR code (error correction H) for text, without quiet zone.

    It uses zxing-cpp's encoder rather than segno, because segno's pure-Python
    mask selection took 120 ms per plate URL against 4 ms on a 2-core machine,
    which adds up over a sheet of hundreds of plates.
    """
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="H")
    image = Image.fromarray(barcode.to_image(scale=1, add_quiet_zones=False))
    width, height = image.size
    # Whole pixels per module keep module edges exact however a viewer or
    # printer scales the picture.
    return image.resize(
        (width * QR_PIXELS_PER_MODULE, height * QR_PIXELS_PER_MODULE),
        Image.Resampling.NEAREST,
    )


def _draw_qr(pdf: "FPDF", text: str, x: float, y: float) -> None:
    image = qr_image(text)
    modules = image.width // QR_PIXELS_PER_MODULE
    module_mm = QR_SIZE_MM / (modules + 2 * QR_QUIET_MODULES)
    inset = QR_QUIET_MODULES * module_mm
    size = modules * module_mm
    pdf.image(image, x=x + inset, y=y + inset, w=size, h=size)


# Views -----------------------------------------------------------------------


class SelectionInvalid(ValueError):
    """The sheet's filters are wrong or match too many or no plates."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def printable_buildings(user: object) -> QuerySet[Building]:
    """Buildings whose plates this user may print: kelurahan staff see their own area."""
    buildings = Building.objects.exclude(status=Building.Status.DEMOLISHED)
    kelurahan_id = getattr(user, "kelurahan_id", None)
    if kelurahan_id is not None:
        buildings = buildings.filter(kelurahan_id=kelurahan_id)
    return buildings


def live_plates(buildings: QuerySet[Building]) -> QuerySet[Plate]:
    return (
        Plate.objects.filter(building__in=buildings)
        .exclude(status=Plate.Status.REVOKED)
        .select_related("building__kelurahan__city", "building__unit")
        .order_by(
            "building__kelurahan__code",
            "building__unit__rw",
            "building__unit__rt",
            "building__street_address",
            "building_id",
        )
    )


def _selected_buildings(user: object, query: dict[str, str]) -> QuerySet[Building]:
    """Filter by kelurahan, RW, RT and a list of ids; raise SelectionInvalid."""
    errors: list[str] = []
    buildings = printable_buildings(user)
    kelurahan_code = query.get("kelurahan", "").strip()
    rw, rt = query.get("rw", "").strip(), query.get("rt", "").strip()
    ids_text = query.get("ids", "").strip()
    if not kelurahan_code and not ids_text:
        errors.append(
            _("Choose a kelurahan, or list the buildings or plate codes to print.")
        )

    if kelurahan_code:
        try:
            area = Area.objects.get(code=normalize_code(kelurahan_code))
            buildings = buildings.filter(kelurahan=area)
        except (InvalidAreaCode, Area.DoesNotExist):
            errors.append(
                _("Kelurahan: choose a kelurahan of this city from the list.")
            )

    for label, value, field in (("RW", rw, "unit__rw"), ("RT", rt, "unit__rt")):
        if not value:
            continue
        if not value.isdecimal() or not 1 <= int(value) <= 999:
            errors.append(
                _("%(field)s: enter a number from 1 to 999, such as 3.")
                % {"field": label}
            )
            continue
        buildings = buildings.filter(**{field: value.zfill(3)})
    if rt and not rw:
        errors.append(
            _("RT: choose the RW as well, because RT numbers repeat in every RW.")
        )

    if ids_text:
        ids, codes = _building_refs(ids_text, errors)
        if ids or codes:
            buildings = buildings.filter(Q(pk__in=ids) | Q(plate_code__in=codes))
    if errors:
        raise SelectionInvalid(errors)
    return buildings


def _building_refs(text: str, errors: list[str]) -> tuple[list[int], list[str]]:
    """Split a typed list into building numbers and plate codes."""
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    parts = [part for part in parts if part]
    if len(parts) > MAX_PLATES_PER_SHEET:
        errors.append(
            _("Buildings: list at most %(max)s buildings at a time.")
            % {"max": MAX_PLATES_PER_SHEET}
        )
        return [], []
    ids: list[int] = []
    codes: list[str] = []
    for part in parts:
        if part.isdigit():
            ids.append(int(part))
            continue
        try:
            codes.append(normalize_plate_code(part))
        except InvalidCode:
            errors.append(
                _(
                    "Buildings: %(value)s is neither a building number nor a plate "
                    "code; separate them with commas, such as 12, PPJ-B-7F3K9Q-C."
                )
                % {"value": part}
            )
    return ids, codes


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@permission_required("registry.print_plate", raise_exception=True)
def plate_print(request: HttpRequest) -> HttpResponse:
    """Serve the form that chooses which plates go on a sheet."""
    return _print_form(request, [], status=200)


def _print_form(request: HttpRequest, errors: list[str], status: int) -> HttpResponse:
    areas = Area.objects.filter(level=Area.Level.KELURAHAN).order_by("code")
    kelurahan_id = getattr(request.user, "kelurahan_id", None)
    if kelurahan_id is not None:
        areas = areas.filter(pk=kelurahan_id)
    context = {
        "areas": areas,
        "errors": errors,
        "values": request.GET,
        "max_plates": MAX_PLATES_PER_SHEET,
    }
    return render(request, "registry/plate_print.html", context, status=status)


@login_required
@permission_required("registry.print_plate", raise_exception=True)
def plate_sheet(request: HttpRequest) -> HttpResponse:
    """Serve a PDF sheet of the live plates of the chosen buildings."""
    try:
        buildings = _selected_buildings(request.user, request.GET.dict())
    except SelectionInvalid as error:
        return _print_form(request, error.messages, status=400)
    plates = list(live_plates(buildings)[: MAX_PLATES_PER_SHEET + 1])
    if not plates:
        return _print_form(
            request,
            [_("No building with a plate matches this choice; change the filters.")],
            status=400,
        )
    if len(plates) > MAX_PLATES_PER_SHEET:
        count = live_plates(buildings).count()
        message = _(
            "This choice has %(count)s plates, but a sheet holds at most %(max)s. "
            "Choose an RW or an RT to print fewer at a time."
        ) % {"count": count, "max": MAX_PLATES_PER_SHEET}
        return _print_form(request, [message], status=400)

    content = render_plates([plate_face(plate) for plate in plates])
    services.mark_plates_printed(plates)
    return _pdf_response(content, "plates.pdf")


@login_required
@permission_required("registry.print_plate", raise_exception=True)
def plate_pdf(request: HttpRequest, building_id: int) -> HttpResponse:
    """Serve one building's live plate as a PDF page."""
    building = printable_buildings(request.user).filter(pk=building_id).first()
    plate = services.current_plate(building) if building is not None else None
    if plate is None:
        raise Http404(_("This building has no plate to print."))
    plate = Plate.objects.select_related(
        "building__kelurahan__city", "building__unit"
    ).get(pk=plate.pk)

    content = render_plates([plate_face(plate)])
    services.mark_plates_printed([plate])
    return _pdf_response(content, f"plate-{plate.code}.pdf")
