"""Rollups the worker folds from the journal, read by the dashboard.

- `Cursor`: how many journal entries are folded, so the worker resumes there.
- `Tally`: one integer per metric, local day, kelurahan and key. Figures sum
  tallies; a count that goes down (a plate revoked) is a negative delta.
- `Fact`: what the fold must remember about an object to place later events
  (a building's kelurahan, a bill's month and amount). No personal data.
- `OpenReport`: citizen reports not yet closed, with their SLA due time.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Cursor(models.Model):
    name = models.CharField(_("name"), max_length=40, primary_key=True)
    # Entries folded so far, like a tree size: entries 0 .. size-1 are in.
    size = models.BigIntegerField(_("entries folded"), default=0)
    # The fold rules' version the rollups were built with (fold.FOLD_VERSION).
    version = models.PositiveIntegerField(_("fold version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup cursor")
        verbose_name_plural = _("rollup cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.size}"


class Tally(models.Model):
    metric = models.CharField(_("metric"), max_length=60)
    day = models.DateField(_("day"))
    kelurahan_code = models.CharField(_("kelurahan code"), max_length=20, blank=True)
    key = models.CharField(_("key"), max_length=40, blank=True)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "kelurahan_code", "key"],
                name="command_tally_unique",
            )
        ]
        indexes = [models.Index(fields=["metric", "day"], name="command_tally_day")]
        permissions = [("view_dashboard", _("Can see the city-wide dashboard"))]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.kelurahan_code} {self.key}={self.value}"


class Fact(models.Model):
    kind = models.CharField(_("kind"), max_length=20)
    ref = models.CharField(_("reference"), max_length=64)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        verbose_name = _("fold fact")
        verbose_name_plural = _("fold facts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref"], name="command_fact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}"


class OpenReport(models.Model):
    report_id = models.BigIntegerField(_("report id"), primary_key=True)
    kind = models.CharField(_("kind"), max_length=30)
    kelurahan_code = models.CharField(_("kelurahan code"), max_length=20, blank=True)
    filed_at = models.DateTimeField(_("filed at"))
    sla_due_at = models.DateTimeField(_("SLA due at"))

    class Meta:
        verbose_name = _("open report")
        verbose_name_plural = _("open reports")
        indexes = [models.Index(fields=["sla_due_at"], name="command_openreport_due")]

    def __str__(self) -> str:
        return f"report {self.report_id}"
