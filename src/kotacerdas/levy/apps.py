from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LevyConfig(AppConfig):
    name = "kotacerdas.levy"
    label = "levy"
    verbose_name = _("Waste levy (retribusi persampahan)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.journal.worker import register_job
        from kotacerdas.levy import (
            billing,
            events,  # noqa: F401  (declares event types)
        )
        from kotacerdas.levy.checks import LevyChecker

        register_checker("levy", LevyChecker)
        # Carry out the billing runs queued from the pages and the API.
        register_job("levy-billing", billing.run_queued_billing, 5.0)
