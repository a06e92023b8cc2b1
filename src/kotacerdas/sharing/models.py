"""Partner costs recorded against a pilot, and the sharing app's permissions.

The fee schedule and the sharing rule live in the city profile (see
`sharing.schedule`), and the split of each fee lives in the wallet ledger, so
the only table here is the partner's costs. Statements are computed from the
journal, not from this table (see `sharing.statement`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A sanity cap on one cost line: one trillion rupiah, far above any pilot's
# costs, and well inside the integers a journal payload keeps exactly.
MAX_COST_RUPIAH = 10**12


class CostCategory(models.TextChoices):
    OPERATIONS = "operations", _("Operations")
    MAINTENANCE = "maintenance", _("Maintenance")
    HARDWARE = "hardware", _("Hardware")


class PartnerCost(models.Model):
    """One cost the technology partner bore for a pilot, as recorded or corrected.

    Rows are never edited. A correction is a new row whose `corrects` names
    the row it replaces. The one-to-one is unique, so a row has at most one
    correction, corrections form a chain, and the last row of a chain is the
    one in effect. Only a correction may have an amount of 0, which
    withdraws the cost, and a correction must give its reason.
    """

    pilot = models.ForeignKey(
        "pilot.Pilot",
        on_delete=models.PROTECT,
        related_name="partner_costs",
        verbose_name=_("pilot"),
    )
    category = models.CharField(
        _("category"), max_length=12, choices=CostCategory.choices
    )
    incurred_on = models.DateField(_("date"))
    amount_rupiah = models.BigIntegerField(_("amount (Rp)"))
    description = models.CharField(_("description"), max_length=200)
    reason = models.CharField(
        _("reason for the correction"), max_length=200, blank=True
    )
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner_costs",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    entry_seq = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        ordering = ["-incurred_on", "-id"]
        verbose_name = _("partner cost")
        verbose_name_plural = _("partner costs")
        permissions = [
            ("view_statement", _("Can see the monthly sharing statements")),
            ("record_cost", _("Can record and correct partner costs")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_rupiah__gte=0)
                & Q(amount_rupiah__lte=MAX_COST_RUPIAH),
                name="sharing_cost_amount_in_range",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=False) | Q(amount_rupiah__gt=0),
                name="sharing_cost_first_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(reason=""),
                name="sharing_cost_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"cost {self.pk} ({self.category}, {self.incurred_on})"

    @property
    def in_effect(self) -> bool:
        """Whether no later correction replaced this row."""
        return not hasattr(self, "correction")
