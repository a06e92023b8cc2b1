"""The public receipt page and its PDF.

No sign-in is needed: the reference is 50 random bits, so holding it is the
permission, the way a paper receipt is. An unknown or malformed reference gets
the ordinary 404 page, which does not say whether the reference was close to a
real one. Responses are not cached and ask search engines not to index them.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from kotacerdas.wallet import receipt_pdf, receipts


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
    }
    response = render(request, "wallet/receipt.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def receipt_download(request: HttpRequest, reference: str) -> HttpResponse:
    """Serve the receipt as an 80 mm wide PDF with a QR code of its page."""
    receipt = _receipt(reference)
    content = receipt_pdf.render_receipt(
        receipt, receipts.public_url(receipt.reference)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{receipt.reference}.pdf"'
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
