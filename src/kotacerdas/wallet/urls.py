"""The wallet's pages; each part keeps its own urls_<part>.py module."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "wallet"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("kotacerdas.wallet.urls_receipts")),
    path("", include("kotacerdas.wallet.urls_pages")),
]
