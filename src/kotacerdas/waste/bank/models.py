"""Waste banks (bank sampah): units, members, price lists, deposits and sales.

Weights are whole grams and money is whole rupiah. A deposit item's value is
weight_g * price_per_kg / 1000 rounded to the nearest rupiah, halves up
(`services.item_value`). Rows change only through `waste.bank.services`, which
journals every change; the "waste-bank" replay checker compares the tables
with the journal.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kotacerdas.registry.models import Member
from kotacerdas.wallet.models import Account, Transfer
from kotacerdas.waste.models import Material, Site


class Unit(models.Model):
    """A bank sampah: a BSU in a neighbourhood or the city's BSI.

    Each unit pays its members from its own WASTE_BANK wallet account, so one
    unit's deposits cannot spend another unit's money.
    """

    class Kind(models.TextChoices):
        BSU = "bsu", _("Bank Sampah Unit (BSU)")
        BSI = "bsi", _("Bank Sampah Induk (BSI)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="waste_bank_units",
        limit_choices_to={"kind": Site.Kind.WASTE_BANK},
        verbose_name=_("site"),
    )
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    account = models.OneToOneField(
        Account,
        on_delete=models.PROTECT,
        related_name="waste_bank_unit",
        verbose_name=_("payout account"),
    )
    tellers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="waste_bank_units",
        verbose_name=_("tellers"),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("waste bank unit")
        verbose_name_plural = _("waste bank units")
        permissions = [
            (
                "operate_waste_bank",
                _("Can weigh deposits, set prices and record sales at own units"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A member (nasabah) of one unit, paid into one citizen wallet.

    No NIK or name is stored here: the person is the wallet's holder or the
    linked registry member.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    number = models.CharField(_("member number"), max_length=20)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_bank_memberships",
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_bank_memberships",
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="waste_bank_memberships",
        verbose_name=_("wallet"),
    )
    joined_on = models.DateField(_("joined on"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["unit", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "number"],
                name="wastebank_membership_number_unique",
                violation_error_message=_("This member number is already taken."),
            ),
            models.UniqueConstraint(
                fields=["unit", "account"],
                name="wastebank_membership_wallet_unique",
                violation_error_message=_("This wallet is already a member here."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit.code}/{self.number}"


class PriceList(models.Model):
    """A unit's buying prices from `valid_from` until the next list.

    Lists are never edited: a price change is a new list, and each deposit
    item keeps the price it was valued at.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="price_lists")
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    entry_seq = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["unit", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "valid_from"],
                name="wastebank_pricelist_one_per_day",
                violation_error_message=_("This unit already has a list for that day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.valid_from}"


class PriceItem(models.Model):
    """The price per kilogram a unit pays for one material."""

    price_list = models.ForeignKey(
        PriceList, on_delete=models.PROTECT, related_name="items"
    )
    material = models.ForeignKey(Material, on_delete=models.PROTECT)
    price_per_kg = models.BigIntegerField(_("price per kg (Rp)"))

    class Meta:
        ordering = ["price_list", "material__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "material"], name="wastebank_priceitem_unique"
            ),
            models.CheckConstraint(
                condition=Q(price_per_kg__gt=0), name="wastebank_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}: Rp{self.price_per_kg}/kg"


class Deposit(models.Model):
    """Recyclables a member brought, weighed and valued at the day's prices.

    Pending: a pending WASTE_BANK_CREDIT transfer reserves `total_value` for
    the member. Posted: sorting was checked and `posted_value` (the accepted
    items) reached the wallet. Voided: sorting failed or the hold expired, and
    nothing moved.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    class Reason(models.TextChoices):
        NOT_SORTED = "not_sorted", _("Not sorted by material")
        DIRTY = "dirty", _("Dirty or wet")
        WRONG_MATERIAL = "wrong_material", _("Wrong material")
        WEIGHING_ERROR = "weighing_error", _("Weighing error, to be weighed again")
        EXPIRED = "expired", _("Not validated in time")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="deposits")
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="deposits"
    )
    teller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    total_value = models.BigIntegerField(_("value (Rp)"))
    posted_value = models.BigIntegerField(_("credited (Rp)"), default=0)
    pending_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, related_name="+"
    )
    resolution_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, blank=True
    )
    created_at = models.DateTimeField(_("weighed at"))
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_value__gt=0)
                & Q(posted_value__gte=0)
                & Q(posted_value__lte=models.F("total_value")),
                name="wastebank_deposit_values",
            ),
        ]

    def __str__(self) -> str:
        return f"deposit {self.pk} ({self.status})"


class DepositItem(models.Model):
    """One material of a deposit: its weight, price and value."""

    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="items")
    material = models.ForeignKey(Material, on_delete=models.PROTECT)
    weight_g = models.BigIntegerField(_("weight (g)"))
    price_per_kg = models.BigIntegerField(_("price per kg (Rp)"))
    value = models.BigIntegerField(_("value (Rp)"))
    # False when sorting found this item unfit; it is then not paid or stocked.
    accepted = models.BooleanField(_("accepted"), default=True)

    class Meta:
        ordering = ["deposit", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_g__gt=0) & Q(price_per_kg__gt=0) & Q(value__gte=0),
                name="wastebank_deposititem_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}: {self.weight_g} g"


class Offtaker(models.Model):
    """A business that buys a unit's stock: a pengepul, a recycler, the BSI.

    Only the business name is stored; a contact person's name or phone number
    does not belong here.
    """

    class Kind(models.TextChoices):
        PENGEPUL = "pengepul", _("Collector (pengepul)")
        RECYCLER = "recycler", _("Recycling industry")
        BSI = "bsi", _("Bank Sampah Induk")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="offtakers")
    business_name = models.CharField(_("business name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["unit", "business_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "business_name"],
                name="wastebank_offtaker_unique",
                violation_error_message=_("This unit already lists that business."),
            ),
        ]

    def __str__(self) -> str:
        return self.business_name


class Sale(models.Model):
    """Stock a unit sold to an off-taker, with its receipt number."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="sales")
    offtaker = models.ForeignKey(
        Offtaker, on_delete=models.PROTECT, related_name="sales"
    )
    number = models.CharField(_("receipt number"), max_length=40, unique=True)
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    sold_on = models.DateField(_("sold on"))
    total_value = models.BigIntegerField(_("value (Rp)"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))
    entry_seq = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["-sold_on", "-id"]

    def __str__(self) -> str:
        return self.number


class SaleItem(models.Model):
    """One material of a sale."""

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="items")
    material = models.ForeignKey(Material, on_delete=models.PROTECT)
    weight_g = models.BigIntegerField(_("weight (g)"))
    price_per_kg = models.BigIntegerField(_("price per kg (Rp)"))
    value = models.BigIntegerField(_("value (Rp)"))

    class Meta:
        ordering = ["sale", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_g__gt=0) & Q(price_per_kg__gt=0) & Q(value__gte=0),
                name="wastebank_saleitem_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}: {self.weight_g} g"
