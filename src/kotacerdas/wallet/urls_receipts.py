"""Public receipt pages: anyone holding a transfer's reference may open them."""

from django.urls import URLPattern, path

from kotacerdas.wallet import views_receipts

urlpatterns: list[URLPattern] = [
    path("receipts/<str:reference>/", views_receipts.receipt_page, name="receipt"),
    path(
        "receipts/<str:reference>/pdf",
        views_receipts.receipt_download,
        name="receipt_pdf",
    ),
]
