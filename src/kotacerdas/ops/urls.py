"""Operations endpoints (health and metrics), mounted at the site root."""

from django.urls import URLPattern

app_name = "ops"

urlpatterns: list[URLPattern] = []
