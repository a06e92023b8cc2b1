"""Printing plates, scanning them, and the public page a plate's QR code opens."""

from django.urls import URLPattern, path

from kotacerdas.registry import plate_pdf, scan

urlpatterns: list[URLPattern] = [
    path("registry/plates/", plate_pdf.plate_print, name="plate_print"),
    path("registry/plates/sheet.pdf", plate_pdf.plate_sheet, name="plate_sheet"),
    path(
        "registry/buildings/<int:building_id>/plate.pdf",
        plate_pdf.plate_pdf,
        name="plate_pdf",
    ),
    path("scan/", scan.scan_page, name="scan"),
    path("scan/resolve", scan.scan_resolve, name="scan_resolve"),
    path("scan/install", scan.plate_install, name="plate_install"),
    path("p/<str:code>", scan.plate_landing, name="plate_landing"),
]
