"""The figures a trial report compares, as one vocabulary.

Each metric has a unit that says how its integer value reads: "count",
"rupiah", "grams", "percent" (tenths of a percent) or "hours" (tenths of an
hour). A metric is additive when the values of two areas add up to the
value of both, so the non-pilot column may be scaled and paper figures of
several areas summed; rates and averages are not.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class TrialMetric(models.TextChoices):
    LEVY_RATE = "levy_rate", _("Levy collection rate")
    ON_SCHEDULE = "on_schedule", _("Building stops served on schedule")
    MISSED_REPORTS = "missed_reports", _("Missed-pickup reports filed")
    MISSED_CLOSE_HOURS = "missed_close_hours", _("Average time to close a report")
    BANK_DEPOSITS = "bank_deposits", _("Waste recovered through waste banks")
    WALLETS = "wallets", _("Active citizen wallets at the end")
    TRANSFERS = "transfers", _("Citizen wallet transactions")
    TRANSFER_VALUE = "transfer_value", _("Value of citizen wallet transactions")
    PLATES_INSTALLED = "plates_installed", _("QR plates installed")
    BUILDINGS = "buildings", _("Buildings registered at the end")


@dataclass(frozen=True)
class MetricUnit:
    unit: str
    additive: bool


UNITS: dict[str, MetricUnit] = {
    TrialMetric.LEVY_RATE: MetricUnit("percent", additive=False),
    TrialMetric.ON_SCHEDULE: MetricUnit("percent", additive=False),
    TrialMetric.MISSED_REPORTS: MetricUnit("count", additive=True),
    TrialMetric.MISSED_CLOSE_HOURS: MetricUnit("hours", additive=False),
    TrialMetric.BANK_DEPOSITS: MetricUnit("grams", additive=True),
    TrialMetric.WALLETS: MetricUnit("count", additive=True),
    TrialMetric.TRANSFERS: MetricUnit("count", additive=True),
    TrialMetric.TRANSFER_VALUE: MetricUnit("rupiah", additive=True),
    TrialMetric.PLATES_INSTALLED: MetricUnit("count", additive=True),
    TrialMetric.BUILDINGS: MetricUnit("count", additive=True),
}
assert set(UNITS) == set(TrialMetric.values)
