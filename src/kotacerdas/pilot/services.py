"""The services a pilot switches on, as one list every app refers to.

This module is the vocabulary only. Creating, changing and ending pilots
goes through `pilot.services_api`, and asking whether a service is on in an
area goes through `pilot.switch`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    """A part of the platform that a pilot switches on in its areas."""

    REGISTRY = "registry", _("Plates and registry")
    WALLET = "wallet", _("Wallet")
    LEVY_WALLET = "levy_wallet", _("Levy payment by wallet")
    PICKUPS = "pickups", _("Proven pickups")
    WASTE_BANK = "waste_bank", _("Waste bank")
    SENSORS = "sensors", _("Sensors")


class Scope(models.TextChoices):
    """The city-wide scope of a service: everywhere, or only in pilot areas."""

    EVERYWHERE = "everywhere", _("Everywhere in the city")
    PILOT_AREAS = "pilot_areas", _("Only in pilot areas")
