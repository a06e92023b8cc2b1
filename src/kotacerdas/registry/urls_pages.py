"""Staff pages of the registry (see registry.views)."""

from django.urls import URLPattern, path

from kotacerdas.registry import views

urlpatterns: list[URLPattern] = [
    path("registry/", views.building_list, name="building_list"),
    path("registry/map/", views.building_map, name="map"),
    path("registry/map/buildings.geojson", views.map_buildings, name="map_buildings"),
    path("registry/buildings/new/", views.building_create, name="building_create"),
    path(
        "registry/buildings/<int:building_id>/",
        views.building_detail,
        name="building_detail",
    ),
    path(
        "registry/buildings/<int:building_id>/edit/",
        views.building_edit,
        name="building_edit",
    ),
    path(
        "registry/buildings/<int:building_id>/plate/",
        views.plate_manage,
        name="plate_manage",
    ),
    path(
        "registry/buildings/<int:building_id>/households/new/",
        views.household_create,
        name="household_create",
    ),
    path(
        "registry/households/<int:household_id>/move/",
        views.household_move,
        name="household_move",
    ),
    path(
        "registry/households/<int:household_id>/retire/",
        views.household_retire,
        name="household_retire",
    ),
    path(
        "registry/households/<int:household_id>/members/new/",
        views.member_create,
        name="member_create",
    ),
    path(
        "registry/members/<int:member_id>/edit/", views.member_edit, name="member_edit"
    ),
    path(
        "registry/members/<int:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
]
