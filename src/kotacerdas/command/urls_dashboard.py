"""URL patterns of the command center's dashboard pages (included by command.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
