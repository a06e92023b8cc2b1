"""The wallet's pages; each part keeps its own urls_<part>.py module."""

from django.urls import URLPattern, URLResolver

app_name = "wallet"

urlpatterns: list[URLPattern | URLResolver] = []
