from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kotacerdas.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from kotacerdas.accounts import events, signals  # noqa: F401
