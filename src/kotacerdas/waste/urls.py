"""Pages of the waste app, one module per area, all under /waste/."""

from django.urls import include, path

from kotacerdas.waste import views_home

app_name = "waste"

urlpatterns = [
    path("waste/", views_home.home, name="home"),
    path("waste/", include("kotacerdas.waste.urls_places")),
    path("waste/", include("kotacerdas.waste.urls_planning")),
    path("waste/", include("kotacerdas.waste.urls_pickups")),
    path("waste/", include("kotacerdas.waste.urls_sensors")),
    path("waste/", include("kotacerdas.waste.urls_statistics")),
]
