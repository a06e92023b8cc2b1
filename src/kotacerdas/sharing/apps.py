from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "kotacerdas.sharing"
    label = "sharing"
    verbose_name = _("Cost and revenue sharing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.sharing import events  # noqa: F401  (declares event types)
        from kotacerdas.sharing.checks import SharingChecker

        register_checker("sharing", SharingChecker)
