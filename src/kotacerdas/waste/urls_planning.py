"""Pages of the waste app: route plans, re-plans and route sheets."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste import route_pdf, views_routes

urlpatterns: list[URLPattern | URLResolver] = [
    path("routes/", views_routes.route_list, name="route_list"),
    path("routes/plan/", views_routes.route_plan_day, name="route_plan_day"),
    path("routes/mine/", views_routes.my_route, name="my_route"),
    path("routes/<int:plan_id>/", views_routes.route_detail, name="route_detail"),
    path(
        "routes/<int:plan_id>/replan/",
        views_routes.route_replan,
        name="route_replan",
    ),
    path("routes/<int:plan_id>/sheet.pdf", route_pdf.route_sheet, name="route_sheet"),
]
