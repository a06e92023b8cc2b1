"""The wallet's double-entry ledger: accounts, transfers and payment PINs.

The model follows TigerBeetle's: an account keeps four running totals (debits
and credits, each posted and pending), a transfer moves an integer amount of
rupiah from one account's debits to another's credits, and a two-phase
transfer first reserves the amount as pending and is later posted (in full or
in part) or voided. Check constraints hold the invariants in the database, so
a bug in a service cannot leave a wallet negative or a total below zero.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen wallet")
    MERCHANT = "merchant", _("Merchant")
    REVENUE = "revenue", _("City revenue")
    WASTE_BANK = "waste_bank", _("Waste bank payouts")
    SETTLEMENT = "settlement", _("Settlement (partner bank float)")
    FEES = "fees", _("Fees")


# Accounts that hold money owed to someone: they may never go below zero.
BALANCE_KINDS = (
    AccountKind.CITIZEN,
    AccountKind.MERCHANT,
    AccountKind.REVENUE,
    AccountKind.WASTE_BANK,
    AccountKind.FEES,
)


class Tier(models.TextChoices):
    UNREGISTERED = "unregistered", _("Unregistered")
    REGISTERED = "registered", _("Registered")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", _("Closed")


class Account(models.Model):
    """A ledger account: a wallet, a merchant, a city account or the settlement.

    `balance` is credits posted minus debits posted; the settlement account's
    is negative by the float the partner bank holds for everyone else.
    """

    number = models.CharField(_("wallet number"), max_length=12, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=AccountKind.choices)
    # Stable name of a city account ("settlement", "fees", "revenue:waste_levy").
    code = models.CharField(
        _("system code"), max_length=40, unique=True, null=True, blank=True
    )
    label = models.CharField(_("name"), max_length=80, blank=True)
    member = models.OneToOneField(
        "registry.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet",
        verbose_name=_("household member"),
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_accounts",
        verbose_name=_("holder"),
    )
    tier = models.CharField(
        _("verification tier"),
        max_length=12,
        choices=Tier.choices,
        default=Tier.UNREGISTERED,
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=AccountStatus.choices,
        default=AccountStatus.ACTIVE,
    )
    debits_must_not_exceed_credits = models.BooleanField(
        _("debits must not exceed credits"), default=False
    )
    credits_must_not_exceed_debits = models.BooleanField(
        _("credits must not exceed debits"), default=False
    )
    debits_pending = models.BigIntegerField(_("debits pending"), default=0)
    debits_posted = models.BigIntegerField(_("debits posted"), default=0)
    credits_pending = models.BigIntegerField(_("credits pending"), default=0)
    credits_posted = models.BigIntegerField(_("credits posted"), default=0)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("wallet account")
        verbose_name_plural = _("wallet accounts")
        permissions = [
            ("use_wallet", _("Can pay and transfer from an own wallet")),
            ("receive_payments", _("Can receive payments as a merchant")),
            ("operate_counter", _("Can take cash-in, cash-out and levy payments")),
            ("manage_levies", _("Can set tariffs and run levy billing")),
            ("reconcile", _("Can reconcile the float and bank statements")),
            ("view_all_accounts", _("Can see every wallet and transfer")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(debits_pending__gte=0)
                & Q(debits_posted__gte=0)
                & Q(credits_pending__gte=0)
                & Q(credits_posted__gte=0),
                name="wallet_account_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(debits_must_not_exceed_credits=False)
                | Q(credits_posted__gte=F("debits_posted") + F("debits_pending")),
                name="wallet_account_debits_within_credits",
            ),
            models.CheckConstraint(
                condition=Q(credits_must_not_exceed_debits=False)
                | Q(debits_posted__gte=F("credits_posted") + F("credits_pending")),
                name="wallet_account_credits_within_debits",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in BALANCE_KINDS])
                | Q(debits_must_not_exceed_credits=True),
                name="wallet_account_balance_kinds_never_negative",
            ),
            # One citizen wallet per user: two first requests of the same user
            # at the same moment must not open two.
            models.UniqueConstraint(
                fields=["holder"],
                condition=Q(kind="citizen"),
                name="wallet_one_citizen_wallet_per_holder",
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.number

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What the holder can spend now: the balance less pending debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class AccountMonth(models.Model):
    """Credits an account took in during one calendar month, for monthly caps.

    Pending credits count from the moment they are reserved and are given back
    when the transfer is voided or posted for less.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="months"
    )
    month = models.DateField(_("month"))
    credits = models.BigIntegerField(_("credits"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "month"], name="wallet_account_month_unique"
            ),
            models.CheckConstraint(
                condition=Q(credits__gte=0), name="wallet_account_month_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"


class TransferKind(models.TextChoices):
    TOPUP = "topup", _("Top-up")
    PAYMENT = "payment", _("Payment")
    TRANSFER = "transfer", _("Transfer")
    LEVY = "levy", _("Levy payment")
    REFUND = "refund", _("Refund")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    WASTE_BANK_CREDIT = "waste_bank_credit", _("Waste bank credit")
    FEE = "fee", _("Fee")


class Channel(models.TextChoices):
    APP = "app", _("App")
    COUNTER = "counter", _("Counter")
    BANK_VA = "bank_va", _("Bank virtual account")
    QRIS = "qris", _("QR payment")
    SYSTEM = "system", _("System")


class TransferStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    PENDING = "pending", _("Pending")
    VOIDED = "voided", _("Voided")
    EXPIRED = "expired", _("Expired")


class Phase(models.TextChoices):
    SINGLE = "single", _("Single")
    PENDING = "pending", _("Reserve")
    POST = "post", _("Post a reservation")
    VOID = "void", _("Void a reservation")


class Transfer(models.Model):
    """One movement of money, or one step of a two-phase transfer.

    A reservation (phase `pending`) changes its status once, to posted, voided
    or expired; the post or void that resolves it is its own row pointing at
    it through `pending`. Rows are otherwise never changed.
    """

    client_id = models.CharField(_("transfer id"), max_length=80, unique=True)
    request_hash = models.CharField(_("request hash"), max_length=64)
    reference = models.CharField(_("receipt reference"), max_length=16, unique=True)
    debit_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="debits",
        verbose_name=_("from"),
    )
    credit_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="credits",
        verbose_name=_("to"),
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    kind = models.CharField(_("kind"), max_length=20, choices=TransferKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    phase = models.CharField(_("phase"), max_length=8, choices=Phase.choices)
    status = models.CharField(_("status"), max_length=8, choices=TransferStatus.choices)
    pending = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolutions",
        verbose_name=_("reservation"),
    )
    link_group = models.CharField(_("linked with"), max_length=80, blank=True)
    memo = models.CharField(_("reference note"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    entry_seq = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    actor = models.CharField(_("actor"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [
            models.Index(fields=["debit_account", "-created_at"]),
            models.Index(fields=["credit_account", "-created_at"]),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending"),
                name="wallet_transfer_pending_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="wallet_transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")),
                name="wallet_transfer_distinct_accounts",
            ),
            models.CheckConstraint(
                condition=Q(phase__in=["single", "pending"], pending__isnull=True)
                | Q(phase__in=["post", "void"], pending__isnull=False),
                name="wallet_transfer_resolution_names_reservation",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class BillPayment(models.Model):
    """The one payment that a merchant's QR code for one sale (a bill number) took.

    The unique (merchant, bill number) pair lets one payment in even when two
    payers confirm the same code at the same moment: the second one's insert
    fails and its transfer is rolled back with it.
    """

    merchant = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="bill_payments"
    )
    bill_number = models.CharField(_("bill number"), max_length=25)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, related_name="bill_payment"
    )

    class Meta:
        verbose_name = _("bill payment")
        verbose_name_plural = _("bill payments")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "bill_number"], name="wallet_bill_paid_once"
            )
        ]

    def __str__(self) -> str:
        return f"bill {self.bill_number} of {self.merchant_id}"


class PaymentPin(models.Model):
    """A user's 6-digit payment PIN, hashed like a password, and its lockout."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="payment_pin",
    )
    pin_hash = models.CharField(max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment PIN")
        verbose_name_plural = _("payment PINs")

    def __str__(self) -> str:
        return f"PIN of user {self.user_id}"
