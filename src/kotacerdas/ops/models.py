"""Tables of the operations app: the heartbeats of long-running processes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The latest sign of life of one long-running process, such as the worker.

    There is one row per process kind and instance, where the instance is the
    host name or KOTACERDAS_INSTANCE_NAME. The process overwrites its row every
    KOTACERDAS_HEARTBEAT_INTERVAL_S. `stats` contains the counters the process
    has kept since `started_at` (worker job runs, failures and durations, or the
    sensor intake's message outcomes). It contains ids and counts only, never
    personal data.
    """

    kind = models.CharField(_("process kind"), max_length=40)
    instance = models.CharField(_("instance"), max_length=100)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat at"))
    stats = models.JSONField(_("statistics"), default=dict)

    class Meta:
        ordering = ["kind", "instance"]
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "instance"], name="ops_heartbeat_one_per_instance"
            )
        ]
        permissions = [
            (
                "view_monitoring",
                _("Can read the detailed health report and the metrics"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.instance}"
