from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SnapConfig(AppConfig):
    name = "kotacerdas.snap"
    label = "snap"
    verbose_name = _("Bank top-ups (SNAP)")
    default_auto_field = "django.db.models.BigAutoField"
