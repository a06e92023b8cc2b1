"""Pages of the waste app: statistics."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste import views_statistics

urlpatterns: list[URLPattern | URLResolver] = [
    path("statistics/", views_statistics.statistics_page, name="statistics"),
    path(
        "statistics/sipsn.xlsx", views_statistics.sipsn_export, name="statistics_sipsn"
    ),
    path(
        "statistics/tonnage.csv",
        views_statistics.tonnage_csv,
        name="statistics_tonnage_csv",
    ),
]
