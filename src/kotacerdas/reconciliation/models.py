"""Reconciliation reports: the daily float check and imported bank statements.

These rows are reports about the wallet ledger, not part of it: they are
computed from the wallet's tables and the partner bank's statement files and
can be computed again at any time. Nothing here moves money, so nothing here
is journaled.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from kotacerdas.reconciliation.statement_csv import ROW_ERRORS
from kotacerdas.wallet.models import Channel, TransferKind, TransferStatus


class DailyReconciliation(models.Model):
    """The float check and the cash figures of one day in the city's time zone.

    `balances_total` is the sum of the balances of every account except the
    settlement account, and `float_total` is the settlement account's balance
    negated: the money the partner bank holds for everyone. Both are taken at
    the end of the day, or at `computed_at` while the day is still running.
    Double entry keeps them equal, so a difference means a stored total was
    changed outside the wallet service. `accounts_off` lists the accounts
    whose stored totals disagree with their transfers when the report was
    computed. `final` is set once the report was computed after the day ended.
    """

    date = models.DateField(_("date"), unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    final = models.BooleanField(_("final"), default=False)
    ok = models.BooleanField(_("balanced"))
    balances_total = models.BigIntegerField(_("sum of balances (Rp)"))
    float_total = models.BigIntegerField(_("settlement float (Rp)"))
    accounts_count = models.PositiveIntegerField(_("accounts"))
    topups_bank_va = models.BigIntegerField(_("bank top-ups (Rp)"), default=0)
    topups_counter = models.BigIntegerField(_("counter top-ups (Rp)"), default=0)
    withdrawals = models.BigIntegerField(_("withdrawals (Rp)"), default=0)
    # [{"kind", "channel", "count", "amount"}] for every kind and channel of
    # posted money that crossed the settlement account during the day.
    flows = models.JSONField(_("money in and out"), default=list)
    # [{"actor", "cash_in", "cash_out", "count"}], one per cashier.
    cashiers = models.JSONField(_("cash per cashier"), default=list)
    # [{"account_id", "number", "kind", "field", "stored", "from_transfers"}]
    accounts_off = models.JSONField(_("accounts that disagree"), default=list)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("daily reconciliation")
        verbose_name_plural = _("daily reconciliations")
        constraints = [
            models.CheckConstraint(
                condition=Q(ok=False) | Q(balances_total=F("float_total")),
                name="reconciliation_day_ok_means_equal",
            ),
            models.CheckConstraint(
                condition=Q(topups_bank_va__gte=0)
                & Q(topups_counter__gte=0)
                & Q(withdrawals__gte=0),
                name="reconciliation_day_flows_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'ok' if self.ok else 'mismatch'}"

    @property
    def difference(self) -> int:
        return self.balances_total - self.float_total


class StatementImport(models.Model):
    """One uploaded bank statement of the settlement account, and its matching.

    The SHA-256 of the file is unique, so the same file uploaded again opens
    the first import's report instead of counting its lines twice.
    `first_date` and `last_date` bound the booking dates of its rows. The
    ledger's bank top-ups in that range that no line matched are listed as
    lines without a row number.
    """

    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_imports",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))
    read_as = models.CharField(_("read as"), max_length=80)
    header_row = models.PositiveIntegerField(_("header row"))
    row_count = models.PositiveIntegerField(_("rows"))
    blank_rows = models.PositiveIntegerField(_("empty rows"), default=0)
    first_date = models.DateField(_("first booking date"), null=True, blank=True)
    last_date = models.DateField(_("last booking date"), null=True, blank=True)
    credit_total = models.BigIntegerField(_("credits (Rp)"), default=0)
    debit_total = models.BigIntegerField(_("debits (Rp)"), default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("bank statement import")
        verbose_name_plural = _("bank statement imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_total__gte=0) & Q(debit_total__gte=0),
                name="reconciliation_import_totals_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class LineStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    PROBABLE = "probable", _("Probable match")
    AMOUNT_DIFFERS = "amount_differs", _("Amount differs")
    NOT_IN_LEDGER = "not_in_ledger", _("In the statement, not in the ledger")
    NOT_IN_STATEMENT = "not_in_statement", _("In the ledger, not in the statement")
    DUPLICATE = "duplicate", _("Matched twice")
    ERROR = "error", _("Row error")


# A line with one of these statuses accounts for its transfer, so no other
# line may match that transfer again.
CLAIMING_STATUSES = (
    LineStatus.MATCHED,
    LineStatus.PROBABLE,
    LineStatus.AMOUNT_DIFFERS,
)

# Message parameters that are amounts of rupiah, shown with digit grouping.
AMOUNT_PARAMS = {"ledger", "statement"}
# Message parameters that hold a code, shown by its label in the reader's
# language.
CODE_PARAMS: dict[str, dict[str, Any]] = {
    "kind": dict(TransferKind.choices),
    "channel": dict(Channel.choices),
    "status": dict(TransferStatus.choices),
    "expected": {
        "bank_topup": _("bank top-up"),
        "withdrawal": _("withdrawal through the bank"),
    },
}

MESSAGES: dict[str, Any] = {
    **ROW_ERRORS,
    "matched_request_id": _("Matched by the bank's payment request ID."),
    "matched_reference": _("Matched by the transfer's receipt reference."),
    "matched_transfer_id": _("Matched by the transfer id."),
    "matched_memo": _("Matched by the transfer's reference note."),
    "probable": _(
        "No reference matched, but top-up %(transfer)s has the same amount on "
        "the same day. Check it with the bank before accepting it."
    ),
    "amount_differs": _(
        "The ledger has Rp%(ledger)s for %(transfer)s, the statement Rp%(statement)s."
    ),
    "not_in_ledger_credit": _(
        "No bank top-up in the ledger has this reference, or this amount on this day."
    ),
    "not_in_ledger_debit": _("No withdrawal in the ledger has this reference."),
    "wrong_kind": _(
        "%(transfer)s is a %(kind)s (channel: %(channel)s), not a %(expected)s."
    ),
    "not_posted": _("%(transfer)s is %(status)s, so no money moved for it."),
    "duplicate": _(
        "%(transfer)s was already matched by row %(row)s of the statement %(file)s."
    ),
    "not_in_statement": _(
        "This bank top-up was posted at %(time)s, but the statement has no line for it."
    ),
}


class StatementLine(models.Model):
    """One row of an imported statement, or one ledger top-up it lacks.

    A row of the file has its `row_number` as a spreadsheet shows it, counting
    the header and any lines above it. A top-up the statement lacks has no row
    number. A transfer can be accounted for by one line at most across all
    imports, which the conditional unique constraint enforces. `message_code`
    and `message_params` name the line's explanation in `MESSAGES`, so it is
    shown in the reader's language.
    """

    statement = models.ForeignKey(
        StatementImport, on_delete=models.CASCADE, related_name="lines"
    )
    row_number = models.PositiveIntegerField(_("row"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LineStatus.choices)
    booked_on = models.DateField(_("booking date"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booking time"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    credit = models.BigIntegerField(_("credit (Rp)"), default=0)
    debit = models.BigIntegerField(_("debit (Rp)"), default=0)
    transfer = models.ForeignKey(
        "wallet.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_lines",
        verbose_name=_("transfer"),
    )
    message_code = models.CharField(max_length=40, blank=True)
    message_params = models.JSONField(default=dict)
    # The cells as read, kept for rows that could not be read.
    cells = models.JSONField(_("cells"), default=list)

    class Meta:
        ordering = ["statement", "row_number", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(
                fields=["transfer"],
                condition=Q(status__in=[s.value for s in CLAIMING_STATUSES]),
                name="reconciliation_line_claims_transfer_once",
                violation_error_message=_(
                    "This transfer is already matched by another statement line."
                ),
            ),
            models.CheckConstraint(
                condition=Q(credit__gte=0) & Q(debit__gte=0),
                name="reconciliation_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status=LineStatus.NOT_IN_STATEMENT, row_number__isnull=True)
                | (
                    ~Q(status=LineStatus.NOT_IN_STATEMENT) & Q(row_number__isnull=False)
                ),
                name="reconciliation_line_row_unless_ledger_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.row_number or '-'} {self.status}"

    @property
    def message(self) -> str:
        """Return the line's explanation in the active language."""
        template = MESSAGES.get(self.message_code)
        if template is None:
            return self.message_code
        params = dict(self.message_params)
        for name in AMOUNT_PARAMS & params.keys():
            params[name] = number_format(params[name], force_grouping=True)
        for name, choices in CODE_PARAMS.items():
            if name in params:
                label = str(choices.get(params[name], params[name]))
                params[name] = label if name == "channel" else label.lower()
        return str(template) % params
