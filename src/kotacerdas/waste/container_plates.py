"""QR plates of TPS containers: issuing signed plate codes and printing them.

A container's plate code has kind letter C (`PPJ-C-7F3K9Q-C`) and is signed
by the registry's plate key exactly as a building plate is, so a collector's
phone checks it offline with the same keys. The QR code holds only the plate
URL (`registry.plates.plate_url`): no names, no addresses.

The printed plate shows the city, the site, the kelurahan, the container's
name, the code in large letters and the QR code, on A4 pages of six like the
building plates, and uses the same QR drawing (`registry.plate_pdf.qr_image`).
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from kotacerdas.registry.codes import new_plate_code
from kotacerdas.registry.levy import plate_prefix
from kotacerdas.registry.plate_pdf import (
    CELL_HEIGHT_MM,
    CELL_WIDTH_MM,
    COLUMNS,
    MARGIN_MM,
    PAGE_HEIGHT_MM,
    PAGE_WIDTH_MM,
    PLATES_PER_PAGE,
    QR_PIXELS_PER_MODULE,
    QR_QUIET_MODULES,
    QR_SIZE_MM,
    qr_image,
)
from kotacerdas.registry.plates import PlateSignature, plate_url, sign_plate
from kotacerdas.waste.models import Container

if TYPE_CHECKING:
    from fpdf import FPDF

CONTAINER_KIND = "C"
# Fixed, so the same containers always print to the same bytes.
CREATION_DATE = datetime(2024, 1, 1, tzinfo=UTC)
MAX_PLATES_PER_SHEET = 300


@dataclass(frozen=True)
class ContainerPlate:
    """A fresh plate code and its signature, not yet stored on a container."""

    code: str
    key_id: str
    signature: str


def issue_container_plate() -> ContainerPlate:
    """Return an unused kind-C plate code with the city's prefix, signed.

    Codes are random, so a clash is unlikely; a code already on a container
    is drawn again.
    """
    prefix = plate_prefix()
    while True:
        code = new_plate_code(prefix, CONTAINER_KIND)
        if not Container.objects.filter(plate_code=code).exists():
            break
    signed: PlateSignature = sign_plate(code)
    return ContainerPlate(code, signed.key_id, signed.signature)


def container_plate_url(container: Container) -> str:
    return plate_url(
        container.plate_code, container.plate_key_id, container.plate_signature
    )


@dataclass(frozen=True)
class ContainerFace:
    """The text and QR content printed on one container plate."""

    city_name: str
    site_name: str
    kelurahan_name: str
    container_name: str
    code: str
    url: str


def container_face(container: Container) -> ContainerFace:
    """Describe a container's plate; select_related site and kelurahan__city."""
    return ContainerFace(
        city_name=container.kelurahan.city.name,
        site_name=container.site.name,
        kelurahan_name=container.kelurahan.name,
        container_name=container.name,
        code=container.plate_code,
        url=container_plate_url(container),
    )


def _latin1(text: str) -> str:
    """Fit text to the PDF core fonts, which cover Latin-1 only."""
    composed = unicodedata.normalize("NFKC", text)
    return composed.encode("latin-1", "replace").decode("latin-1")


def render_container_plates(faces: Sequence[ContainerFace]) -> bytes:
    """Render container plates onto A4 pages, six per page; return the PDF."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(_latin1(_("Container QR plates")))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    for index, face in enumerate(faces):
        position = index % PLATES_PER_PAGE
        if position == 0:
            pdf.add_page()
            _draw_footer(pdf, face.city_name)
        x = MARGIN_MM + (position % COLUMNS) * CELL_WIDTH_MM
        y = MARGIN_MM + (position // COLUMNS) * CELL_HEIGHT_MM
        _draw_plate(pdf, face, x, y)
    return bytes(pdf.output())


def _draw_footer(pdf: "FPDF", city_name: str) -> None:
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(90)
    pdf.set_xy(MARGIN_MM, PAGE_HEIGHT_MM - MARGIN_MM - 5)
    label = _("%(city)s: container QR plates. Cut along the lines.")
    pdf.cell(
        w=PAGE_WIDTH_MM - 2 * MARGIN_MM,
        h=4,
        text=_latin1(label % {"city": city_name}),
        align="C",
    )


def _centred_line(
    pdf: "FPDF", text: str, x: float, y: float, height: float, size: float
) -> None:
    width = CELL_WIDTH_MM - 8
    pdf.set_font_size(size)
    while pdf.get_string_width(_latin1(text)) > width and size > 6:
        size -= 1
        pdf.set_font_size(size)
    pdf.set_xy(x + 4, y)
    pdf.cell(w=width, h=height, text=_latin1(text), align="C")


def _draw_plate(pdf: "FPDF", face: ContainerFace, x: float, y: float) -> None:
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    pdf.rect(x, y, CELL_WIDTH_MM, CELL_HEIGHT_MM)
    pdf.set_dash_pattern()
    pdf.set_text_color(0)

    pdf.set_font("Helvetica", style="B", size=12)
    _centred_line(pdf, face.city_name, x, y + 4, 6, 12)
    pdf.set_font("Helvetica", size=10)
    _centred_line(pdf, face.site_name, x, y + 10, 5, 10)
    _centred_line(pdf, f"Kelurahan {face.kelurahan_name}", x, y + 15, 5, 10)

    qr_y = y + 20.5
    image = qr_image(face.url)
    modules = image.width // QR_PIXELS_PER_MODULE
    module_mm = QR_SIZE_MM / (modules + 2 * QR_QUIET_MODULES)
    inset = QR_QUIET_MODULES * module_mm
    qr_x = x + (CELL_WIDTH_MM - QR_SIZE_MM) / 2
    side = modules * module_mm
    pdf.image(image, x=qr_x + inset, y=qr_y + inset, w=side, h=side)

    pdf.set_font("Helvetica", style="B", size=26)
    _centred_line(pdf, face.code, x, qr_y + QR_SIZE_MM + 0.5, 9, 26)
    pdf.set_font("Helvetica", size=9)
    _centred_line(pdf, face.container_name, x, qr_y + QR_SIZE_MM + 9.5, 4, 9)
