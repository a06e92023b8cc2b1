from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "kotacerdas.demo"
    verbose_name = _("Demo city")

    def ready(self) -> None:
        from kotacerdas.demo import citizen_activity, waste_activity

        waste_activity.register()
        citizen_activity.register()
