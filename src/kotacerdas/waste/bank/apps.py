from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteBankConfig(AppConfig):
    name = "kotacerdas.waste.bank"
    label = "wastebank"
    verbose_name = _("Waste banks (bank sampah)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.journal.worker import register_job
        from kotacerdas.waste.bank import (
            events,  # noqa: F401  (declares event types)
            validation,
        )
        from kotacerdas.waste.bank.checks import WasteBankChecker

        register_checker("waste-bank", WasteBankChecker)
        # Mark deposits voided once the wallet's expiry job released their hold.
        register_job("waste-bank-expired", validation.close_expired, 60.0)
