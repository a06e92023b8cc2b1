from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteConfig(AppConfig):
    name = "kotacerdas.waste"
    label = "waste"
    verbose_name = _("Waste management")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each area registers its own worker jobs and replay checkers.
        # Container plates open their own page from the registry's /p/<code>.
        from kotacerdas.registry.scan import register_landing
        from kotacerdas.waste import (
            events,  # noqa: F401  (declares event types)
            pickups,
            places,
            planning,
            sensors,
            statistics,
        )
        from kotacerdas.waste.views_container_plate import container_landing

        register_landing("C", container_landing)
        places.register()
        planning.register()
        pickups.register()
        sensors.register()
        statistics.register()
