"""Printing plates, scanning them, and the public page a plate's QR code opens."""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from kotacerdas.registry import plate_pdf


def _pending(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("pending", status=503)


urlpatterns: list[URLPattern] = [
    path("registry/plates/", plate_pdf.plate_print, name="plate_print"),
    path("registry/plates/sheet.pdf", plate_pdf.plate_sheet, name="plate_sheet"),
    path(
        "registry/buildings/<int:building_id>/plate.pdf",
        plate_pdf.plate_pdf,
        name="plate_pdf",
    ),
    path("scan/", _pending, name="scan"),
    path("p/<str:code>", _pending, name="plate_landing"),
]
