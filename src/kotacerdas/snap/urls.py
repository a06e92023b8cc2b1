"""SNAP paths, fixed by the standard: /{version}/{service-group}/{product}."""

from django.urls import path

from kotacerdas.snap import views

app_name = "snap"
urlpatterns = [
    path("v1.0/access-token/b2b", views.access_token, name="access_token"),
    path("v1.0/transfer-va/inquiry", views.va_inquiry, name="va_inquiry"),
    path("v1.0/transfer-va/payment", views.va_payment, name="va_payment"),
]
