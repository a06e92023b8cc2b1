from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteBankConfig(AppConfig):
    name = "kotacerdas.waste.bank"
    label = "wastebank"
    verbose_name = _("Waste banks (bank sampah)")
    default_auto_field = "django.db.models.BigAutoField"
