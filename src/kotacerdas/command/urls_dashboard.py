"""URL patterns of the command center's dashboard pages (included by command.urls)."""

from django.urls import URLPattern, path

from kotacerdas.command import views_dashboard, views_explain

urlpatterns: list[URLPattern] = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("live/figures/", views_dashboard.figures_fragment, name="figures"),
    path("live/alerts/", views_dashboard.alerts_fragment, name="alerts"),
    path("wall/", views_dashboard.wall, name="wall"),
    path("explain/<slug:key>/", views_explain.explain, name="explain"),
]
