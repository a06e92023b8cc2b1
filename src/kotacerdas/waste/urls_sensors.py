"""Pages of the waste app: sensors."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste import views_sensors

urlpatterns: list[URLPattern | URLResolver] = [
    path("containers/fill/", views_sensors.fill_levels, name="container_fill_levels"),
    path(
        "ngsi-ld/v1/entities",
        views_sensors.ngsi_entities,
        name="ngsi_entities",
    ),
    path(
        "ngsi-ld/v1/entities/<str:urn>",
        views_sensors.ngsi_entity,
        name="ngsi_entity",
    ),
]
