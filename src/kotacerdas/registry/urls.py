"""The registry's pages: staff pages, plates and scanning, and imports."""

from kotacerdas.registry import urls_import, urls_pages, urls_plates, urls_privacy

app_name = "registry"
urlpatterns = [
    *urls_pages.urlpatterns,
    *urls_plates.urlpatterns,
    *urls_import.urlpatterns,
    *urls_privacy.urlpatterns,
]
