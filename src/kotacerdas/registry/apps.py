from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "kotacerdas.registry"
    label = "registry"
    verbose_name = _("Building registry")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.checks import register_checker
        from kotacerdas.registry import events  # noqa: F401  (declares event types)
        from kotacerdas.registry.checks import RegistryChecker

        register_checker("registry", RegistryChecker)
