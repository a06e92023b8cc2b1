"""Waste levy billing: tariffs, billing runs, bills and their payments.

Rows change only through `levy.services`, which journals every change.
Money moves only through `wallet.services`, so a payment here always points
at the wallet transfer that carried it. Lock order: the month's bill counter, then
bills in primary-key order, then wallet accounts, then the journal head.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tariff(models.Model):
    """The monthly amount of one levy class from a given month on.

    Rows are never changed: a new amount is a new row. The amount billed for
    a month is that of the row with the latest `valid_from` not after it, and
    of those the newest, so a correction made for the same month wins.
    An amount of zero means the class is not billed.
    """

    class Source(models.TextChoices):
        PROFILE = "profile", _("City profile")
        OFFICER = "officer", _("Revenue officer")

    levy_class = models.CharField(_("levy class"), max_length=30)
    label = models.CharField(_("class name"), max_length=80)
    monthly_amount = models.BigIntegerField(_("monthly amount (Rp)"))
    valid_from = models.DateField(_("valid from (month)"))
    source = models.CharField(
        _("set by"), max_length=8, choices=Source.choices, default=Source.OFFICER
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    entry_seq = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        ordering = ["levy_class", "-valid_from", "-id"]
        verbose_name = _("levy tariff")
        verbose_name_plural = _("levy tariffs")
        indexes = [models.Index(fields=["levy_class", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0),
                name="levy_tariff_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.levy_class} {self.valid_from:%Y-%m}"


class BillingRun(models.Model):
    """One run of the monthly billing and what it found.

    Pages and the API queue a run and the worker carries it out
    (`levy-billing` job); the command line runs it at once. The counts are
    those of this run alone: a second run of the same month bills only what
    the first did not, and counts the rest as already billed. `skipped` lists
    up to `MAX_SKIPPED_LISTED` buildings that got no bill, each with the
    reason, so the officer can send them for re-registration.
    `heartbeat_at` moves with every batch, so a run whose process died shows
    as interrupted.
    """

    MAX_SKIPPED_LISTED = 500

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Stopped by an error")

    month = models.DateField(_("month"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    actor = models.CharField(_("actor"), max_length=80, blank=True)
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    payer_count = models.PositiveIntegerField(_("payers to bill"), default=0)
    checked_count = models.PositiveIntegerField(_("payers checked"), default=0)
    billed_count = models.PositiveIntegerField(_("bills issued"), default=0)
    billed_amount = models.BigIntegerField(_("amount billed (Rp)"), default=0)
    already_billed_count = models.PositiveIntegerField(_("already billed"), default=0)
    no_va_count = models.PositiveIntegerField(
        _("no PLN connection recorded"), default=0
    )
    no_class_count = models.PositiveIntegerField(_("no matching class"), default=0)
    exempt_count = models.PositiveIntegerField(_("class without a tariff"), default=0)
    no_household_count = models.PositiveIntegerField(
        _("houses without a household"), default=0
    )
    skipped = models.JSONField(_("buildings not billed"), default=list, blank=True)
    failure = models.CharField(_("reason it stopped"), max_length=500, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")

    def __str__(self) -> str:
        return f"billing {self.month:%Y-%m} #{self.pk}"

    @property
    def skipped_count(self) -> int:
        return (
            self.no_va_count
            + self.no_class_count
            + self.exempt_count
            + self.no_household_count
        )

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class BillCounter(models.Model):
    """The last bill number issued for a month.

    Billing locks this row for its whole batch, which also serializes two
    runs of the same month: the second finds the first's bills and skips them.
    """

    month = models.DateField(_("month"), unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("bill counter")
        verbose_name_plural = _("bill counters")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.last_number}"


class Bill(models.Model):
    """A monthly levy bill of one payer: a household, or a non-house building.

    A house is billed once per household (KK) living in it, each at the
    building's class; other buildings get one bill with no household. Each
    payer has at most one live (not cancelled) bill per month, which the
    database enforces, so billing twice cannot bill anyone twice. The status
    follows the paid amount, and a cancelled bill has nothing paid.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelReason(models.TextChoices):
        WRONG_CLASS = "wrong_class", _("Wrong levy class")
        DUPLICATE = "duplicate", _("Billed twice")
        NOT_LIABLE = "not_liable", _("Not liable (moved out, building empty)")
        OTHER = "other", _("Other")

    number = models.CharField(_("bill number"), max_length=24, unique=True)
    # The number's last part: the bill's place among the month's bills, in
    # the order they were issued and journalled.
    serial = models.PositiveIntegerField(_("serial number in the month"))
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("billing run"),
    )
    month = models.DateField(_("month"))
    building = models.ForeignKey(
        "registry.Building",
        on_delete=models.PROTECT,
        related_name="levy_bills",
        verbose_name=_("building"),
    )
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="levy_bills",
        verbose_name=_("household"),
    )
    # The building's kelurahan when the bill was issued: reports stay put
    # when a building is later moved to another kelurahan.
    kelurahan = models.ForeignKey(
        "city.Area",
        on_delete=models.PROTECT,
        related_name="levy_bills",
        verbose_name=_("kelurahan"),
    )
    levy_class = models.CharField(_("levy class"), max_length=30)
    tariff = models.ForeignKey(
        Tariff, on_delete=models.PROTECT, related_name="bills", verbose_name=_("tariff")
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    paid_amount = models.BigIntegerField(_("paid (Rp)"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    due_date = models.DateField(_("due date"))
    issued_at = models.DateTimeField(_("issued at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("reason for cancelling"),
        max_length=12,
        choices=CancelReason.choices,
        blank=True,
    )
    entry_seq = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        ordering = ["-month", "number"]
        verbose_name = _("levy bill")
        verbose_name_plural = _("levy bills")
        indexes = [
            models.Index(fields=["month", "kelurahan", "status"]),
            models.Index(fields=["household", "status"]),
            models.Index(fields=["building", "month"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "serial"], name="levy_bill_serial_unique_per_month"
            ),
            models.UniqueConstraint(
                fields=["household", "month"],
                condition=Q(household__isnull=False) & ~Q(status="cancelled"),
                name="levy_bill_one_per_household_month",
                violation_error_message=_(
                    "This household is already billed for this month."
                ),
            ),
            models.UniqueConstraint(
                fields=["building", "month"],
                condition=Q(household__isnull=True) & ~Q(status="cancelled"),
                name="levy_bill_one_per_building_month",
                violation_error_message=_(
                    "This building is already billed for this month."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="levy_bill_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=F("amount")),
                name="levy_bill_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status="open", paid_amount=0)
                | Q(
                    status="partly_paid", paid_amount__gt=0, paid_amount__lt=F("amount")
                )
                | Q(status="paid", paid_amount=F("amount"))
                | Q(status="cancelled", paid_amount=0),
                name="levy_bill_status_follows_paid_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self) -> int:
        if self.status == self.Status.CANCELLED:
            return 0
        return self.amount - self.paid_amount

    @property
    def overdue(self) -> bool:
        unpaid = self.status in (self.Status.OPEN, self.Status.PARTLY_PAID)
        return unpaid and self.due_date < timezone.localdate()


class Payment(models.Model):
    """Money paid towards a bill, and the wallet transfer that carried it.

    One transfer pays at most one bill. The transfer's client id is the
    payment's idempotency key, so a retried payment finds this row.
    """

    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="payments", verbose_name=_("bill")
    )
    transfer = models.OneToOneField(
        "wallet.Transfer",
        on_delete=models.PROTECT,
        related_name="levy_payment",
        verbose_name=_("transfer"),
    )
    payer_account = models.ForeignKey(
        "wallet.Account",
        on_delete=models.PROTECT,
        related_name="levy_payments",
        verbose_name=_("paid from"),
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    channel = models.CharField(_("channel"), max_length=8)
    actor = models.CharField(_("actor"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("paid at"), auto_now_add=True)
    entry_seq = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("levy payment")
        verbose_name_plural = _("levy payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="levy_payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"payment #{self.pk} of {self.bill_id}"
