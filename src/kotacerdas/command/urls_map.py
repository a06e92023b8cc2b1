"""URL patterns of the command center's map pages (included by command.urls)."""

from django.urls import URLPattern, path

from kotacerdas.command import views_map

urlpatterns: list[URLPattern] = [
    path("map/", views_map.map_page, name="map"),
    path("map/layers/<slug:layer>.geojson", views_map.map_layer, name="map_layer"),
]
