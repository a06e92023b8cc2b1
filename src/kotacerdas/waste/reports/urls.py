from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste.reports import views

app_name = "wastereports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.my_reports, name="mine"),
    path("new/", views.new_report, name="new"),
    path("queue/", views.queue, name="queue"),
    path("<int:report_id>/", views.detail, name="detail"),
    path("<int:report_id>/photo/", views.photo, name="photo"),
    path("<int:report_id>/follow/", views.follow, name="follow"),
    path("<int:report_id>/update/", views.update, name="update"),
    path("<int:report_id>/assign/", views.assign, name="assign"),
]
