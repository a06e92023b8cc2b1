"""The receipt as a PDF sized for an 80 mm thermal printer.

The page is 80 mm wide, the paper width of counter receipt printers, and as
long as its content, so it also reads well on a phone. It holds the facts of
the receipt page and a QR code with the page's absolute address, through which
anyone can check the receipt and its journal proof. The QR code holds only
that address: the reference, no personal data. The same receipt in the same
language always gives the same bytes, because the creation date is the
transfer's time.
"""

import unicodedata
from typing import TYPE_CHECKING

import zxingcpp
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image

from kotacerdas.city.models import City
from kotacerdas.wallet import receipts
from kotacerdas.wallet.receipts import Party, Receipt

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH_MM = 80.0
MARGIN_MM = 5.0
TEXT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_MM
LABEL_WIDTH_MM = 22.0
LINE_MM = 4.0
# The first pass draws on a page this tall to measure the receipt's length.
DRAFT_HEIGHT_MM = 600.0
QR_SIZE_MM = 40.0  # including the quiet zone of four modules on each side
QR_QUIET_MODULES = 4
QR_PIXELS_PER_MODULE = 4
# The proof QR contains a whole receipt bundle, up to 2,500 characters (QR
# version 34 at most), so it takes the full text width to keep modules near 0.43 mm.
PROOF_QR_SIZE_MM = TEXT_WIDTH_MM
FONT = "Helvetica"


def render_receipt(receipt: Receipt, url: str, proof: str | None = None) -> bytes:
    """Render one receipt whose QR code contains `url`, and return the PDF bytes.

    `proof`, when given, is the receipt bundle's QR payload (KCB1 or the verify
    page URL), printed as a second QR code below the first.
    """
    # fpdf2 is slow to import (1.1 s for the plate sheets on a 2-core machine),
    # so only printing pays for it.
    from fpdf import FPDF

    city = City.objects.order_by("id").values_list("name", flat=True).first() or ""
    draft = FPDF(unit="mm", format=(PAGE_WIDTH_MM, DRAFT_HEIGHT_MM))
    _draw(draft, receipt, url, city, proof)
    height_mm = draft.get_y() + MARGIN_MM

    pdf = FPDF(unit="mm", format=(PAGE_WIDTH_MM, height_mm))
    pdf.set_creation_date(receipt.created_at)
    pdf.set_creator("Kota Cerdas")
    pdf.set_title(
        _latin1(_("Receipt %(reference)s") % {"reference": receipt.reference})
    )
    _draw(pdf, receipt, url, city, proof)
    return bytes(pdf.output())


def _draw(
    pdf: "FPDF", receipt: Receipt, url: str, city: str, proof: str | None
) -> None:
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.add_page()
    _centered(pdf, _("Kota Cerdas"), size=11, style="B")
    if city:
        _centered(pdf, city, size=9)
    title = _("Counter receipt") if receipt.counter else _("Receipt")
    _centered(pdf, title, size=12, style="B", height=7)
    _centered(pdf, receipt.reference, size=14, style="B", height=7)
    _centered(
        pdf,
        "Rp" + number_format(receipt.amount, force_grouping=True),
        size=16,
        style="B",
        height=9,
    )
    pdf.ln(1)

    for label, value in _facts(receipt):
        _fact(pdf, label, value)

    pdf.ln(2)
    _draw_qr(pdf, url, (PAGE_WIDTH_MM - QR_SIZE_MM) / 2, pdf.get_y())
    pdf.set_y(pdf.get_y() + QR_SIZE_MM)
    pdf.set_font(FONT, size=7)
    hint = _("Scan to check this receipt and its proof in the city ledger.")
    for text in (url, hint):
        pdf.multi_cell(
            TEXT_WIDTH_MM, 3.2, _latin1(text), align="C", new_x="LMARGIN", new_y="NEXT"
        )
    if proof:
        _draw_proof_qr(pdf, proof)


def _draw_proof_qr(pdf: "FPDF", proof: str) -> None:
    pdf.ln(3)
    _draw_qr(pdf, proof, MARGIN_MM, pdf.get_y(), PROOF_QR_SIZE_MM)
    pdf.set_y(pdf.get_y() + PROOF_QR_SIZE_MM)
    pdf.set_font(FONT, size=7)
    hint = _(
        "Proof QR: the ledger entry with its proof. Check it on the verify page "
        "or offline with python -m kotacerdas.verify."
    )
    pdf.multi_cell(
        TEXT_WIDTH_MM, 3.2, _latin1(hint), align="C", new_x="LMARGIN", new_y="NEXT"
    )


def _facts(receipt: Receipt) -> list[tuple[str, str]]:
    facts = [
        (_("Kind"), receipt.kind_label),
        (_("Date and time"), receipts.local_time(receipt.created_at)),
        (_("Channel"), receipt.channel_label),
        (_("From"), _party_text(receipt.payer)),
        (_("To"), _party_text(receipt.payee)),
    ]
    if receipt.memo:
        facts.append((_("Bill or reference"), receipt.memo))
    if receipt.fee and receipt.fee_payer is not None:
        fee = "Rp" + number_format(receipt.fee, force_grouping=True)
        paid_by = _("paid by %(name)s") % {"name": receipt.fee_payer.name}
        facts.append((_("Fee"), f"{fee} · {paid_by}"))
    if receipt.counter:
        facts.append((_("Served by"), receipt.cashier_role))
    facts.append(
        (_("Status"), f"{receipt.status_label}. {receipts.describe_status(receipt)}")
    )
    if receipt.resolves is not None:
        facts.append((_("Reservation"), receipt.resolves.reference))
    if receipt.resolved_by is not None:
        facts.append((_("Resolved by"), receipt.resolved_by.reference))
    if receipt.entry_seq is not None:
        facts.append((_("Journal entry"), str(receipt.entry_seq)))
        facts.append((_("Proof"), receipts.describe_seal(receipt)))
    if receipt.seal is not None:
        facts.append((_("Root hash"), receipt.seal.root_hash_b64))
    return facts


def _party_text(party: Party) -> str:
    return f"{party.name}\n{party.number}" if party.number else party.name


def _centered(
    pdf: "FPDF", text: str, *, size: float, style: str = "", height: float = 5
) -> None:
    pdf.set_font(FONT, style=style, size=size)
    pdf.multi_cell(
        TEXT_WIDTH_MM, height, _latin1(text), align="C", new_x="LMARGIN", new_y="NEXT"
    )


def _fact(pdf: "FPDF", label: str, value: str) -> None:
    """Write a label and its value side by side, each wrapping in its column."""
    from fpdf.enums import WrapMode

    top = pdf.get_y()
    pdf.set_font(FONT, style="B", size=8)
    pdf.set_xy(MARGIN_MM, top)
    pdf.multi_cell(LABEL_WIDTH_MM, LINE_MM, _latin1(label), align="L", new_x="LMARGIN")
    label_bottom = pdf.get_y()
    pdf.set_font(FONT, size=8)
    pdf.set_xy(MARGIN_MM + LABEL_WIDTH_MM, top)
    # A hash has no spaces to break at, so it wraps between characters.
    pdf.multi_cell(
        TEXT_WIDTH_MM - LABEL_WIDTH_MM,
        LINE_MM,
        _latin1(value),
        align="L",
        new_x="LMARGIN",
        wrapmode=WrapMode.WORD if " " in value.strip() else WrapMode.CHAR,
    )
    pdf.set_y(max(label_bottom, pdf.get_y()) + 0.8)


def _latin1(text: str) -> str:
    """Fit text to the PDF core fonts, which cover Latin-1 only."""
    composed = unicodedata.normalize("NFKC", text)
    return composed.encode("latin-1", "replace").decode("latin-1")


def _qr_image(text: str) -> Image.Image:
    """Return the QR code (error correction M) for text, without quiet zone."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = Image.fromarray(barcode.to_image(scale=1, add_quiet_zones=False))
    width, height = image.size
    # Whole pixels per module keep module edges exact however it is scaled.
    return image.resize(
        (width * QR_PIXELS_PER_MODULE, height * QR_PIXELS_PER_MODULE),
        Image.Resampling.NEAREST,
    )


def _draw_qr(
    pdf: "FPDF", text: str, x: float, y: float, size_mm: float = QR_SIZE_MM
) -> None:
    image = _qr_image(text)
    modules = image.width // QR_PIXELS_PER_MODULE
    module_mm = size_mm / (modules + 2 * QR_QUIET_MODULES)
    inset = QR_QUIET_MODULES * module_mm
    size = modules * module_mm
    pdf.image(image, x=x + inset, y=y + inset, w=size, h=size)
