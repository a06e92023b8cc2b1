"""Baseline figures entered from the city's paper records, before a pilot.

A trial report's baseline column comes from the journal for the period
before the pilot. Where the journal does not reach that far back, the city
enters what its paper records say, one figure per pilot area and metric.
Rows change only through `pilot.baseline`, which journals each one.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kotacerdas.pilot import baseline_events  # noqa: F401  (declares the event)
from kotacerdas.pilot.trial_metrics import TrialMetric


class BaselineFigure(models.Model):
    """One paper figure for a pilot area and metric over a period before the pilot.

    `kelurahan_code` blank means the pilot's areas together. `value` is in
    the metric's unit (see `trial_metrics.UNITS`). Entering the same area and
    metric again replaces the figure and raises `revision`. `entry_seq` is
    the journal entry that recorded the current revision, so a report made
    at an earlier journal position ignores it.
    """

    pilot = models.ForeignKey(
        "pilot.Pilot",
        on_delete=models.PROTECT,
        related_name="baseline_figures",
        verbose_name=_("pilot"),
    )
    kelurahan_code = models.CharField(_("kelurahan code"), max_length=13, blank=True)
    metric = models.CharField(_("metric"), max_length=30, choices=TrialMetric.choices)
    starts_on = models.DateField(_("period starts on"))
    ends_on = models.DateField(_("period ends on"))
    value = models.BigIntegerField(_("value"))
    source_note = models.CharField(_("source"), max_length=300)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    entry_seq = models.BigIntegerField(_("journal entry"), default=0)
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        ordering = ["pilot", "kelurahan_code", "metric"]
        verbose_name = _("baseline figure")
        verbose_name_plural = _("baseline figures")
        permissions = [
            ("view_trial_report", _("Can read pilot trial reports")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["pilot", "kelurahan_code", "metric"],
                name="pilot_baseline_unique",
                violation_error_message=_(
                    "This area already has a baseline figure for this metric."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="pilot_baseline_period",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="pilot_baseline_value_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pilot_id} {self.kelurahan_code or '*'} {self.metric}"
