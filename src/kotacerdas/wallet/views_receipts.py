"""The public receipt page and its PDF.

No sign-in is needed: the reference is 50 random bits, so holding it is the
permission, the way a paper receipt is. An unknown or malformed reference gets
the ordinary 404 page, which does not say whether the reference was close to a
real one. Responses are not cached and ask search engines not to index them.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kotacerdas.journal.bundles import entry_qr_payload
from kotacerdas.wallet import qr_image, receipt_pdf, receipts


def _receipt(reference: str) -> receipts.Receipt:
    receipt = receipts.find_receipt(reference)
    if receipt is None:
        raise Http404
    return receipt


@never_cache
def receipt_page(request: HttpRequest, reference: str) -> HttpResponse:
    receipt = _receipt(reference)
    context = {
        "receipt": receipt,
        "status_text": receipts.describe_status(receipt),
        "seal_text": receipts.describe_seal(receipt),
        "when": receipts.local_time(receipt.created_at),
        "proof_qr": _proof_qr_svg(receipt),
    }
    response = render(request, "wallet/receipt.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _proof_qr_svg(receipt: receipts.Receipt) -> str:
    """Return the proof QR as inline SVG, or "" before the entry is sealed."""
    if receipt.entry_seq is None:
        return ""
    payload = entry_qr_payload(receipt.entry_seq)
    if payload is None:
        return ""
    return qr_image.render_svg(payload, title=_("Proof QR of this receipt"))


@never_cache
def receipt_download(request: HttpRequest, reference: str) -> HttpResponse:
    """Serve the receipt as an 80 mm wide PDF with QR codes of its page and proof."""
    receipt = _receipt(reference)
    proof = (
        entry_qr_payload(receipt.entry_seq) if receipt.entry_seq is not None else None
    )
    content = receipt_pdf.render_receipt(
        receipt, receipts.public_url(receipt.reference), proof
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{receipt.reference}.pdf"'
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
