from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class JournalConfig(AppConfig):
    name = "kotacerdas.journal"
    verbose_name = _("Journal")

    def ready(self) -> None:
        # Importing registers the journal's own event types and replay checker.
        from kotacerdas.journal import checks, events, witnessing  # noqa: F401
        from kotacerdas.journal.worker import register_job

        register_job(
            "witness-push",
            witnessing.push_to_witnesses,
            settings.KOTACERDAS_WITNESS_INTERVAL_S,
        )
        register_job("anchor", run_anchor_job, settings.KOTACERDAS_ANCHOR_INTERVAL_S)


def run_anchor_job() -> None:
    # Imported here because web3 takes most of a second to import.
    from kotacerdas.journal.anchoring import anchor_now

    anchor_now()
