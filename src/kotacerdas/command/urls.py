"""The command center's pages, all under /command/ in the "command" namespace."""

from django.urls import URLPattern, URLResolver

from kotacerdas.command import urls_dashboard, urls_lists, urls_map

app_name = "command"

urlpatterns: list[URLPattern | URLResolver] = [
    *urls_dashboard.urlpatterns,
    *urls_lists.urlpatterns,
    *urls_map.urlpatterns,
]
