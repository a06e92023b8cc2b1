"""URL patterns of the command center's map pages (included by command.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
