"""URL patterns of the command center's lists pages (included by command.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
