from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The worker runs the daily report this often; each run rewrites today's row
# and finishes yesterday's, so a missed hour only delays the figures.
DAILY_JOB_INTERVAL_S = 3600.0


class ReconciliationConfig(AppConfig):
    name = "kotacerdas.reconciliation"
    label = "reconciliation"
    verbose_name = _("Reconciliation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kotacerdas.journal.worker import register_job
        from kotacerdas.reconciliation import services

        register_job("reconcile-daily", services.run_daily_job, DAILY_JOB_INTERVAL_S)
