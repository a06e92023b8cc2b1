from django.contrib import admin
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, include, path

from kotacerdas.config.api import api


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Browsers request /favicon.ico for responses that name no icon, such as JSON.
    return HttpResponseRedirect(staticfiles_storage.url("kotacerdas/favicon.svg"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("kotacerdas.journal.urls")),
    path("", include("kotacerdas.accounts.urls")),
    path("", include("kotacerdas.registry.urls")),
    path("", include("kotacerdas.wallet.urls")),
    path("", include("kotacerdas.levy.urls")),
    path("", include("kotacerdas.snap.urls")),
    path("", include("kotacerdas.reconciliation.urls")),
    path("", include("kotacerdas.waste.urls")),
    path("waste/banks/", include("kotacerdas.waste.bank.urls")),
    path("waste/reports/", include("kotacerdas.waste.reports.urls")),
    path("command/", include("kotacerdas.command.urls")),
    path("sharing/", include("kotacerdas.sharing.urls")),
    path("pilot/", include("kotacerdas.pilot.urls")),
    path("pilot/", include("kotacerdas.pilot.urls_trial")),
    path("", include("kotacerdas.ops.urls")),
]
