"""Citizen reports about waste: illegal dumping, missed pickups, full containers.

A report moves new → triaged → assigned → in progress → resolved, and may be
rejected or marked a duplicate from any open status. Its SLA due time is fixed
when it is filed, from `SLA_HOURS` for its kind.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import Area
from kotacerdas.registry.models import Building
from kotacerdas.waste.models import Container


class Kind(models.TextChoices):
    ILLEGAL_DUMPING = "illegal_dumping", _("Illegal dumping")
    MISSED_PICKUP = "missed_pickup", _("Missed pickup")
    FULL_CONTAINER = "full_container", _("Full container")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS)
CLOSED_STATUSES = (Status.RESOLVED, Status.REJECTED, Status.DUPLICATE)

# Hours from filing until a report of each kind must be resolved. A full
# container overflows within a day; a missed pickup waits for the next round;
# dumped waste needs a truck and often a site visit first.
SLA_HOURS: dict[str, int] = {
    Kind.FULL_CONTAINER: 24,
    Kind.MISSED_PICKUP: 48,
    Kind.ILLEGAL_DUMPING: 72,
    Kind.OTHER: 120,
}


class Report(models.Model):
    """A citizen's report of a waste problem at a point.

    `resolved_at` is set exactly when the status is closed. `followers` are
    other citizens who added themselves ("me too") instead of filing a copy.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    description = models.TextField(_("description"), max_length=2000)
    photo = models.ImageField(
        _("photo"), upload_to="reports/%Y/%m/", null=True, blank=True
    )
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_reports",
        verbose_name=_("kelurahan"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_reports",
        verbose_name=_("building"),
    )
    container = models.ForeignKey(
        Container,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_reports",
        verbose_name=_("container"),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="waste_reports",
        verbose_name=_("reporter"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_waste_reports",
        verbose_name=_("assigned to"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="followed_waste_reports",
        verbose_name=_("also reported by"),
    )
    sla_due_at = models.DateTimeField(_("due by"))
    created_at = models.DateTimeField(_("filed at"))
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    resolved_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("citizen report")
        verbose_name_plural = _("citizen reports")
        permissions = [
            ("file_report", _("Can file and follow own waste reports")),
            ("handle_report", _("Can triage, assign and update waste reports")),
        ]
        indexes = [
            models.Index(fields=["status", "sla_due_at"], name="wastereport_open_due"),
            models.Index(fields=["kind", "status"], name="wastereport_kind_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CLOSED_STATUSES, resolved_at__isnull=False)
                | Q(status__in=OPEN_STATUSES, resolved_at__isnull=True),
                name="wastereport_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="duplicate") | Q(duplicate_of__isnull=False),
                name="wastereport_duplicate_names_original",
            ),
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="wastereport_point_on_earth",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReportUpdate(models.Model):
    """A status change or note on a report; the reporter sees it when `public`.

    `from_status` equals `to_status` for a note without a status change.
    """

    report = models.ForeignKey(
        Report,
        on_delete=models.CASCADE,
        related_name="updates",
        verbose_name=_("report"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    from_status = models.CharField(
        _("from status"), max_length=12, choices=Status.choices
    )
    to_status = models.CharField(_("to status"), max_length=12, choices=Status.choices)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    public = models.BooleanField(_("visible to the reporter"), default=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("report update")
        verbose_name_plural = _("report updates")

    def __str__(self) -> str:
        return f"{self.report_id} {self.from_status}→{self.to_status}"
