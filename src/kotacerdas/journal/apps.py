from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalConfig(AppConfig):
    name = "kotacerdas.journal"
    verbose_name = _("Journal")

    def ready(self) -> None:
        # Importing registers the journal's own event types and replay checker.
        from kotacerdas.journal import checks, events  # noqa: F401
