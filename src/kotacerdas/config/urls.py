from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from kotacerdas.config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("kotacerdas.journal.urls")),
    path("", include("kotacerdas.accounts.urls")),
]
