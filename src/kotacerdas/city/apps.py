from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CityConfig(AppConfig):
    name = "kotacerdas.city"
    verbose_name = _("City profile")

    def ready(self) -> None:
        from kotacerdas.city import events  # noqa: F401
