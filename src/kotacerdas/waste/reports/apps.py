from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizenReportsConfig(AppConfig):
    name = "kotacerdas.waste.reports"
    label = "wastereports"
    verbose_name = _("Citizen reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.waste.reports import events  # noqa: F401  (declares events)
