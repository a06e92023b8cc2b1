"""Buildings, their plates, households (KK) and their members.

Rows change only through `registry.services`, which journals every change.
NIK and KK numbers are stored sealed (see `registry.pii`) with a blind index
for lookups; names, phones and addresses stay in these tables and never reach
the journal, which carries a salted hash of them instead (`details_salt`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import Area, NeighbourhoodUnit

# The name an erased member gets. It is no one's name; pages show
# `erased_name_label()` in its place.
ERASED_NAME = "[erased]"
# The username an erased user account gets, followed by its id.
ERASED_USERNAME_PREFIX = "erased-"


def erased_name_label() -> str:
    """Return the text shown in place of an erased person's name."""
    return str(_("(personal data erased)"))


def shown_name(full_name: str) -> str:
    """Return `full_name`, or the erased placeholder for an erased member."""
    return erased_name_label() if full_name == ERASED_NAME else full_name


class Building(models.Model):
    class Use(models.TextChoices):
        HOUSE = "house", _("House")
        SHOP_HOUSE = "shop_house", _("Shop-house (ruko)")
        SHOP = "shop", _("Shop")
        OFFICE = "office", _("Office")
        SCHOOL = "school", _("School")
        WORSHIP = "worship", _("Place of worship")
        MARKET_STALL = "market_stall", _("Market stall")
        PUBLIC = "public", _("Public facility")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EMPTY = "empty", _("Empty")
        DEMOLISHED = "demolished", _("Demolished")

    plate_code = models.CharField(_("plate code"), max_length=20, unique=True)
    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="buildings",
        verbose_name=_("kelurahan"),
    )
    unit = models.ForeignKey(
        NeighbourhoodUnit,
        on_delete=models.PROTECT,
        related_name="buildings",
        verbose_name=_("RT/RW"),
    )
    street_address = models.CharField(_("street address"), max_length=200)
    lat = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    lng = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    use = models.CharField(_("use"), max_length=20, choices=Use.choices)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    floor_area_m2 = models.PositiveIntegerField(
        _("floor area (m²)"), null=True, blank=True
    )
    pln_va = models.PositiveIntegerField(
        _("PLN connection (VA)"), null=True, blank=True
    )
    levy_class = models.CharField(_("levy class"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    external_ref = models.CharField(
        _("import reference"),
        max_length=60,
        blank=True,
        help_text=_(
            "The building's id in an imported spreadsheet, so re-importing finds it."
        ),
    )
    details_salt = models.BinaryField(_("details salt"), max_length=16)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["kelurahan__code", "unit__rw", "unit__rt", "street_address", "id"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        permissions = [
            ("print_plate", _("Can print and revoke QR plates")),
            ("import_registry", _("Can import buildings and households")),
            ("scan_plate", _("Can scan plates")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(floors__gte=1), name="building_floors_min_1"
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="building_coordinates_valid",
            ),
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=~Q(external_ref=""),
                name="building_external_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["kelurahan", "status"]),
            models.Index(fields=["use"]),
            models.Index(fields=["levy_class"]),
        ]

    def __str__(self) -> str:
        return self.plate_code


class Plate(models.Model):
    """One printed plate. A reprint revokes the old plate and issues a new code."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued, not yet installed")
        INSTALLED = "installed", _("Installed")
        REVOKED = "revoked", _("Revoked")

    code = models.CharField(_("plate code"), max_length=20, unique=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        related_name="plates",
        verbose_name=_("building"),
    )
    key_id = models.CharField(_("signing key id"), max_length=16)
    signature = models.CharField(_("signature"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    printed_at = models.DateTimeField(_("last printed at"), null=True, blank=True)
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(
        _("reason for revoking"), max_length=200, blank=True
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("QR plate")
        verbose_name_plural = _("QR plates")
        constraints = [
            models.UniqueConstraint(
                fields=["building"],
                condition=~Q(status="revoked"),
                name="plate_one_live_per_building",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Household(models.Model):
    """A family card (KK) and the building it lives in now."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    kk_sealed = models.BinaryField(_("KK number (encrypted)"))
    kk_index = models.CharField(_("KK search index"), max_length=64, unique=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("building"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    details_salt = models.BinaryField(_("details salt"), max_length=16)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("household (KK)")
        verbose_name_plural = _("households (KK)")
        permissions = [
            ("view_identity_numbers", _("Can see NIK and KK numbers unmasked")),
            (
                "handle_data_request",
                _("Can export or erase a citizen's personal data on request"),
            ),
        ]

    def __str__(self) -> str:
        return f"KK #{self.pk}"

    @property
    def head(self) -> "Member | None":
        return self.members.filter(
            relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
        ).first()


class Residence(models.Model):
    """Where a household lived and when: the history kept when it moves."""

    household = models.ForeignKey(
        Household,
        on_delete=models.CASCADE,
        related_name="residences",
        verbose_name=_("household"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        related_name="residences",
        verbose_name=_("building"),
    )
    moved_in = models.DateTimeField(_("moved in"))
    moved_out = models.DateTimeField(_("moved out"), null=True, blank=True)

    class Meta:
        ordering = ["household", "moved_in", "id"]
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(moved_out__isnull=True),
                name="residence_one_current_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"residence #{self.pk}"


class Member(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class Relation(models.TextChoices):
        # The "status hubungan dalam keluarga" of the KK form.
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
        GRANDCHILD = "grandchild", _("Grandchild")
        PARENT = "parent", _("Parent")
        PARENT_IN_LAW = "parent_in_law", _("Parent-in-law")
        RELATIVE = "relative", _("Other relative")
        HOUSEHOLD_HELP = "household_help", _("Household help")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REMOVED = "removed", _("Removed")

    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("household"),
    )
    full_name = models.CharField(_("full name"), max_length=120)
    nik_sealed = models.BinaryField(_("NIK (encrypted)"))
    nik_index = models.CharField(_("NIK search index"), max_length=64, unique=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    relation = models.CharField(
        _("relation to head"), max_length=20, choices=Relation.choices
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("user account"),
    )
    details_salt = models.BinaryField(_("details salt"), max_length=16)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["household", "id"]
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="head", status="active"),
                name="member_one_head_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"member #{self.pk}"

    @property
    def display_name(self) -> str:
        """Return the name to show, or a clear placeholder once erased."""
        return shown_name(self.full_name)


class ImportBatch(models.Model):
    """An uploaded registry spreadsheet, from its validation to its import.

    The file is kept under `var/imports/` between "validate" and "import",
    because nothing is written to the registry before the officer confirms;
    it is deleted when the import ends. `problems` lists every error and
    warning by row and column header, in the words shown at validation, and
    never holds a cell's value. `heartbeat_at` moves with every chunk of rows,
    so a run that died with its process shows as interrupted.
    """

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking rows")
        VALIDATED = "validated", _("Checked, waiting for confirmation")
        REJECTED = "rejected", _("File not readable")
        IMPORTING = "importing", _("Importing")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Stopped by an error")

    class Mode(models.TextChoices):
        ALL = "all", _("All rows")
        VALID_ONLY = "valid_only", _("Valid rows only")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("limited to kelurahan"),
    )
    file_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("file format"), max_length=4)
    sha256 = models.CharField(_("file SHA-256"), max_length=64)
    size_bytes = models.PositiveIntegerField(_("file size (bytes)"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.VALIDATING,
    )
    mode = models.CharField(
        _("rows to import"), max_length=10, choices=Mode.choices, blank=True
    )
    read_as = models.CharField(_("read as"), max_length=100, blank=True)
    rows_estimated = models.PositiveIntegerField(
        _("rows expected"), null=True, blank=True
    )
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    row_count = models.PositiveIntegerField(_("data rows"), default=0)
    error_row_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    new_row_count = models.PositiveIntegerField(_("rows with new data"), default=0)
    present_row_count = models.PositiveIntegerField(
        _("rows already registered"), default=0
    )
    imported_row_count = models.PositiveIntegerField(_("rows imported"), default=0)
    buildings_created = models.PositiveIntegerField(_("buildings created"), default=0)
    households_created = models.PositiveIntegerField(_("households created"), default=0)
    problems = models.JSONField(_("errors and warnings"), default=list, blank=True)
    problems_omitted = models.PositiveIntegerField(_("problems not listed"), default=0)
    unknown_columns = models.JSONField(_("ignored columns"), default=list, blank=True)
    failure = models.CharField(_("reason it stopped"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("import started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")

    def __str__(self) -> str:
        return f"import {self.pk}"
