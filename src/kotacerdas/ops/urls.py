"""Operations endpoints (health and metrics), mounted at the site root."""

from django.urls import URLPattern, path

from kotacerdas.ops import health, metrics

app_name = "ops"

urlpatterns: list[URLPattern] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
]
