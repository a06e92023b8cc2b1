from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PilotConfig(AppConfig):
    name = "kotacerdas.pilot"
    label = "pilot"
    verbose_name = _("Pilot")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.pilot import events  # noqa: F401  (declares event types)
        from kotacerdas.pilot.checks import PilotChecker

        register_checker("pilot", PilotChecker)
