from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "kotacerdas.wallet"
    label = "wallet"
    verbose_name = _("Wallet and payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.journal.worker import register_job
        from kotacerdas.wallet import (
            events,  # noqa: F401  (declares event types)
            services,
        )
        from kotacerdas.wallet.checks import WalletChecker

        register_checker("wallet", WalletChecker)
        # Void two-phase reservations whose timeout passed.
        register_job("wallet-expire-pending", services.expire_pending, 30.0)
