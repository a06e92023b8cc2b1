from django.urls import path

from kotacerdas.pilot import views

app_name = "pilot"

urlpatterns = [
    path("", views.pilot_list, name="list"),
    path("new/", views.pilot_edit, name="create"),
    path("scopes/", views.scopes, name="scopes"),
    path("<slug:slug>/", views.pilot_detail, name="detail"),
    path("<slug:slug>/edit/", views.pilot_edit, name="edit"),
    path("<slug:slug>/grow/", views.pilot_grow, name="grow"),
    path("<slug:slug>/end/", views.pilot_end, name="end"),
]
