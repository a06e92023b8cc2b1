"""Pages of the waste app: the collector's phone page and the pickup review."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste import views_collector, views_review

urlpatterns: list[URLPattern | URLResolver] = [
    path("collector/", views_collector.collector_page, name="collector"),
    path(
        "collector/sw.js",
        views_collector.collector_service_worker,
        name="collector_sw",
    ),
    path("pickups/review/", views_review.review_list, name="pickup_review"),
    path(
        "pickups/<int:pickup_id>/review/",
        views_review.review_decide,
        name="pickup_decide",
    ),
    path(
        "pickups/<int:pickup_id>/photo/",
        views_review.pickup_photo,
        name="pickup_photo",
    ),
]
