"""Pages of the waste app: sites, containers, vehicles, crews, schedules, materials."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste import views_places as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_edit, name="site_create"),
    path("sites/<int:site_id>/", views.site_edit, name="site_edit"),
    path("containers/", views.container_list, name="container_list"),
    path("containers/new/", views.container_edit, name="container_create"),
    path("containers/plates.pdf", views.container_sheet, name="container_sheet"),
    path("containers/<int:container_id>/", views.container_edit, name="container_edit"),
    path(
        "containers/<int:container_id>/plate.pdf",
        views.container_plate,
        name="container_plate",
    ),
    path("vehicles/", views.vehicle_list, name="vehicle_list"),
    path("vehicles/new/", views.vehicle_edit, name="vehicle_create"),
    path("vehicles/<int:vehicle_id>/", views.vehicle_edit, name="vehicle_edit"),
    path(
        "vehicles/<int:vehicle_id>/status/",
        views.vehicle_status,
        name="vehicle_status",
    ),
    path("crews/", views.crew_list, name="crew_list"),
    path("crews/new/", views.crew_edit, name="crew_create"),
    path("crews/<int:crew_id>/", views.crew_edit, name="crew_edit"),
    path("schedules/", views.schedule_list, name="schedule_list"),
    path("schedules/new/", views.schedule_edit, name="schedule_create"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="schedule_edit"),
    path("materials/", views.material_list, name="material_list"),
    path("map/", views.places_map, name="places_map"),
]
