from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommandConfig(AppConfig):
    name = "kotacerdas.command"
    label = "command"
    verbose_name = _("Command center")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.command import projector

        projector.register()
