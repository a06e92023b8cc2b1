"""URL patterns of the drill-down lists, their exports and the monthly report."""

from django.urls import URLPattern, path

from kotacerdas.command import views_lists, views_report

urlpatterns: list[URLPattern] = [
    path("lists/<slug:name>/", views_lists.list_view, name="list"),
    path(
        "lists/<slug:name>/export.<slug:file_format>",
        views_lists.export_view,
        name="list_export",
    ),
    path("report/", views_report.report_form, name="report_form"),
    path(
        "report/<int:year>/<int:month>.pdf",
        views_report.monthly_report,
        name="monthly_report",
    ),
]
