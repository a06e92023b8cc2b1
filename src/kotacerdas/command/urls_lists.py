"""URL patterns of the drill-down lists and their exports."""

from django.urls import URLPattern, path

from kotacerdas.command import views_lists

urlpatterns: list[URLPattern] = [
    path("lists/<slug:name>/", views_lists.list_view, name="list"),
    path(
        "lists/<slug:name>/export.<slug:file_format>",
        views_lists.export_view,
        name="list_export",
    ),
]
