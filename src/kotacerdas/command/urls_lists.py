"""URL patterns of the command center's drill-down lists and exports."""

from django.urls import URLPattern, path

from kotacerdas.command import views_lists

urlpatterns: list[URLPattern] = [
    path("lists/<slug:name>/", views_lists.list_view, name="list"),
]
