"""Waste management: places, fleet, schedules, route plans, pickups, sensors.

Facility and vehicle types follow Permen PU 03/2013 and the FIWARE
WasteContainer and Vehicle models (DOMAIN.md §5-6). Weights are whole grams,
fill levels are fractions 0-1 (FIWARE `fillingLevel`), coordinates are WGS84
degrees with six decimals like the registry's buildings.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kotacerdas.city.models import Area, NeighbourhoodUnit
from kotacerdas.registry.models import Building


def _lat() -> models.DecimalField:
    return models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)


def _lng() -> models.DecimalField:
    return models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)


class SipsnCategory(models.TextChoices):
    """The SIPSN composition categories (SNI 19-3964-1994 components)."""

    FOOD = "sisa_makanan", _("Food waste (sisa makanan)")
    WOOD = "kayu_ranting", _("Wood and twigs (kayu-ranting)")
    PAPER = "kertas_karton", _("Paper and cardboard (kertas-karton)")
    PLASTIC = "plastik", _("Plastic (plastik)")
    METAL = "logam", _("Metal (logam)")
    TEXTILE = "kain", _("Textile (kain)")
    RUBBER = "karet_kulit", _("Rubber and leather (karet-kulit)")
    GLASS = "kaca", _("Glass (kaca)")
    OTHER = "lainnya", _("Other (lainnya)")


class SortingGroup(models.TextChoices):
    """The five at-source sorting groups of PP 81/2012, plus unsorted waste."""

    HAZARDOUS = "b3", _("Hazardous (B3)")
    ORGANIC = "organic", _("Organic, easily decomposed")
    REUSABLE = "reusable", _("Reusable")
    RECYCLABLE = "recyclable", _("Recyclable")
    RESIDUE = "residue", _("Residue")
    MIXED = "mixed", _("Mixed, not sorted")


# The materials every city starts with (DOMAIN.md §5, bank sampah price lists):
# code, SIPSN category, sorting group and the name shown in the reader's language.
STANDARD_MATERIALS: tuple[tuple[str, str, str, Promise], ...] = (
    ("pet", "plastik", "recyclable", _("PET bottles, clean, label and cap removed")),
    ("pp-cups", "plastik", "recyclable", _("PP cups")),
    ("hdpe", "plastik", "recyclable", _("HDPE (jerry cans, bottles)")),
    ("plastic-bags", "plastik", "recyclable", _("Plastic bags")),
    ("hvs-paper", "kertas_karton", "recyclable", _("HVS paper")),
    ("cardboard", "kertas_karton", "recyclable", _("Cardboard")),
    ("cans", "logam", "recyclable", _("Cans and tin")),
    ("aluminium", "logam", "recyclable", _("Aluminium")),
    ("copper", "logam", "recyclable", _("Copper")),
    ("glass-bottles", "kaca", "reusable", _("Glass bottles")),
    ("textile", "kain", "reusable", _("Textile and clothes")),
    ("cooking-oil", "lainnya", "recyclable", _("Used cooking oil (minyak jelantah)")),
    ("organic", "sisa_makanan", "organic", _("Food and garden waste")),
    ("residue", "lainnya", "residue", _("Residue")),
)
STANDARD_MATERIAL_LABELS = {code: label for code, _c, _g, label in STANDARD_MATERIALS}


class Material(models.Model):
    """A material a waste bank buys or a pickup records, e.g. clean PET bottles."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sipsn_category = models.CharField(
        _("SIPSN category"), max_length=20, choices=SipsnCategory.choices
    )
    sorting_group = models.CharField(
        _("sorting group"), max_length=12, choices=SortingGroup.choices
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sipsn_category", "code"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language for standard materials."""
        return str(STANDARD_MATERIAL_LABELS.get(self.code, self.name))


class Site(models.Model):
    """A fixed place of the waste system: TPS, TPS 3R, TPST, TPA, depot, bank."""

    class Kind(models.TextChoices):
        TPS = "tps", _("TPS (temporary collection point)")
        TPS3R = "tps3r", _("TPS 3R (reduce, reuse, recycle)")
        TPST = "tpst", _("TPST (integrated processing)")
        TPA = "tpa", _("TPA (final processing site)")
        DEPOT = "depot", _("Vehicle depot")
        WASTE_BANK = "waste_bank", _("Waste bank (bank sampah)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_sites",
        verbose_name=_("kelurahan"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = _lat()
    lng = _lng()
    # Minutes a vehicle spends unloading here (TPA, TPS 3R) or starting (depot).
    service_minutes = models.PositiveSmallIntegerField(
        _("service time (minutes)"), default=15
    )
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("waste site")
        verbose_name_plural = _("waste sites")
        # The app's page-level permissions live on its first model.
        permissions = [
            ("manage_places", _("Can manage sites, containers, fleet and schedules")),
            ("plan_routes", _("Can plan and re-plan routes")),
            ("view_waste", _("Can see waste operations and reports")),
            ("send_sensor_data", _("Can send container sensor readings")),
        ]

    def __str__(self) -> str:
        return self.name


class Container(models.Model):
    """A container at a TPS (FIWARE WasteContainer), with its own QR plate."""

    class Status(models.TextChoices):
        # FIWARE WasteContainer `status`.
        OK = "ok", pgettext_lazy("container status", "OK")
        LID_OPEN = "lidOpen", _("Lid open")
        DROPPED = "dropped", _("Dropped")
        MOVED = "moved", _("Moved")
        VANDALIZED = "vandalized", _("Vandalized")
        BURNING = "burning", _("Burning")
        UNKNOWN = "unknown", _("Unknown")

    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="containers",
        verbose_name=_("site"),
    )
    # Plate code of kind C (PPJ-C-XXXXXX-X), signed with the registry's plate key.
    plate_code = models.CharField(_("plate code"), max_length=20, unique=True)
    plate_key_id = models.CharField(_("signing key id"), max_length=16)
    plate_signature = models.CharField(_("signature"), max_length=100)
    name = models.CharField(_("name"), max_length=120)
    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="waste_containers",
        verbose_name=_("kelurahan"),
    )
    lat = _lat()
    lng = _lng()
    volume_m3 = models.DecimalField(_("volume (m³)"), max_digits=5, decimal_places=2)
    max_load_kg = models.PositiveIntegerField(_("maximum load (kg)"))
    stored_waste_kind = models.CharField(
        _("stored waste"),
        max_length=12,
        choices=SortingGroup.choices,
        default=SortingGroup.MIXED,
    )
    # Fraction 0-1 above which the container is due for collection.
    fill_threshold = models.DecimalField(
        _("fill threshold"), max_digits=4, decimal_places=3, default=0.8
    )
    service_minutes = models.PositiveSmallIntegerField(
        _("service time (minutes)"), default=10
    )
    # Device id the sensor publishes under; blank when no sensor is fitted.
    sensor_id = models.CharField(
        _("sensor id"), max_length=60, blank=True, db_index=True
    )
    # The latest reading, kept here so lists and the planner need no aggregate.
    fill_level = models.DecimalField(
        _("fill level"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    fill_observed_at = models.DateTimeField(_("fill observed at"), null=True)
    temperature_c = models.DecimalField(
        _("temperature (°C)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    battery = models.DecimalField(
        _("battery"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OK
    )
    last_emptied_at = models.DateTimeField(_("last emptied at"), null=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["site__name", "name"]
        verbose_name = _("container")
        verbose_name_plural = _("containers")
        constraints = [
            models.CheckConstraint(
                condition=Q(fill_threshold__gt=0, fill_threshold__lte=1),
                name="waste_container_threshold_fraction",
            ),
            models.CheckConstraint(
                condition=Q(fill_level__isnull=True)
                | Q(fill_level__gte=0, fill_level__lte=1),
                name="waste_container_fill_fraction",
            ),
            # A reading names its container by sensor id, so ids must not repeat.
            models.UniqueConstraint(
                fields=["sensor_id"],
                condition=~Q(sensor_id=""),
                name="waste_container_sensor_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Vehicle(models.Model):
    """A collection vehicle (FIWARE Vehicle, serviceProvided=garbageCollection)."""

    class Kind(models.TextChoices):
        DUMP_TRUCK = "dump_truck", _("Dump truck")
        ARM_ROLL = "arm_roll", _("Arm-roll truck")
        PICKUP = "pickup", _("Pick-up")
        MOTOR_CART = "motor_cart", _("Three-wheeled motor cart")

    class Status(models.TextChoices):
        # FIWARE Vehicle `serviceStatus`.
        PARKED = "parked", _("Parked")
        ON_ROUTE = "onRoute", _("On route")
        BROKEN = "broken", _("Broken down")
        OUT_OF_SERVICE = "outOfService", _("Out of service")

    plate_number = models.CharField(_("number plate"), max_length=15, unique=True)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    capacity_kg = models.PositiveIntegerField(_("capacity (kg)"))
    capacity_m3 = models.DecimalField(
        _("capacity (m³)"), max_digits=5, decimal_places=2
    )
    depot = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("depot"),
        limit_choices_to={"kind": Site.Kind.DEPOT},
    )
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.PARKED
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["plate_number"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity_kg__gt=0), name="waste_vehicle_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.plate_number


class Crew(models.Model):
    """A collection crew: its collectors (users) and the vehicle it usually drives."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="crews",
        verbose_name=_("vehicle"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="waste_crews",
        verbose_name=_("collectors"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")

    def __str__(self) -> str:
        return self.name


class Schedule(models.Model):
    """When an area is served: weekdays and shift hours for a kelurahan or one RT.

    `weekdays` lists ISO weekday numbers (1 = Monday ... 7 = Sunday) as a
    string such as "135". A schedule with a unit serves only that RT/RW.
    """

    class Service(models.TextChoices):
        DOOR_TO_DOOR = "door_to_door", _("Door to door (buildings)")
        CONTAINERS = "containers", _("TPS containers")

    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="waste_schedules",
        verbose_name=_("kelurahan"),
    )
    unit = models.ForeignKey(
        NeighbourhoodUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waste_schedules",
        verbose_name=_("RT/RW"),
    )
    service = models.CharField(
        _("service"),
        max_length=14,
        choices=Service.choices,
        default=Service.DOOR_TO_DOOR,
    )
    weekdays = models.CharField(_("weekdays"), max_length=7)
    shift_start = models.TimeField(_("shift starts"))
    shift_end = models.TimeField(_("shift ends"))
    crew = models.ForeignKey(
        Crew,
        on_delete=models.PROTECT,
        related_name="schedules",
        verbose_name=_("crew"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["kelurahan__name", "unit__rw", "unit__rt", "shift_start"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(shift_end__gt=models.F("shift_start")),
                name="waste_schedule_shift_order",
            ),
        ]

    def __str__(self) -> str:
        area = str(self.unit) if self.unit_id else str(self.kelurahan)
        return f"{area} {self.weekdays} {self.shift_start:%H:%M}"

    def days(self) -> set[int]:
        return {int(day) for day in self.weekdays if day.isdecimal()}


class RoutePlan(models.Model):
    """One vehicle's plan for one day; a re-plan raises `revision`."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    date = models.DateField(_("date"))
    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.PROTECT,
        related_name="route_plans",
        verbose_name=_("vehicle"),
    )
    crew = models.ForeignKey(
        Crew,
        on_delete=models.PROTECT,
        null=True,
        related_name="route_plans",
        verbose_name=_("crew"),
    )
    shift_start = models.TimeField(_("shift starts"))
    shift_end = models.TimeField(_("shift ends"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    engine = models.CharField(_("routing engine"), max_length=20)
    distance_m = models.PositiveIntegerField(_("distance (m)"), default=0)
    duration_s = models.PositiveIntegerField(_("duration (s)"), default=0)
    trips = models.PositiveSmallIntegerField(_("trips to unload"), default=0)
    # Why the last re-plan happened, e.g. "vehicle broke down", in plain words.
    replan_reason = models.CharField(_("re-plan reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["-date", "vehicle__plate_number"]
        verbose_name = _("route plan")
        verbose_name_plural = _("route plans")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "vehicle"], name="waste_one_plan_per_vehicle_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.vehicle}"


class RouteStop(models.Model):
    """A stop of a plan: a building or container, an unload, or the depot."""

    class Kind(models.TextChoices):
        DEPOT_START = "depot_start", _("Leave the depot")
        BUILDING = "building", _("Building")
        CONTAINER = "container", _("Container")
        UNLOAD = "unload", _("Unload")
        DEPOT_END = "depot_end", _("Return to the depot")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        EXCEPTION = "exception", _("Not collected")
        CANCELLED = "cancelled", _("Removed by a re-plan")

    plan = models.ForeignKey(
        RoutePlan,
        on_delete=models.CASCADE,
        related_name="stops",
        verbose_name=_("route plan"),
    )
    sequence = models.PositiveIntegerField(_("order"))
    trip = models.PositiveSmallIntegerField(_("trip"), default=1)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="route_stops",
    )
    container = models.ForeignKey(
        Container,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="route_stops",
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="route_stops",
    )
    lat = _lat()
    lng = _lng()
    arrival = models.TimeField(_("planned arrival"), null=True)
    window_start = models.TimeField(_("window opens"), null=True, blank=True)
    window_end = models.TimeField(_("window closes"), null=True, blank=True)
    service_s = models.PositiveIntegerField(_("service time (s)"), default=0)
    demand_kg = models.PositiveIntegerField(_("expected load (kg)"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    # The revision of the plan that placed this stop where it is now.
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)

    class Meta:
        ordering = ["plan", "sequence"]
        verbose_name = _("route stop")
        verbose_name_plural = _("route stops")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "sequence"], name="waste_stop_sequence_unique"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="building", building__isnull=False, container__isnull=True)
                    | Q(
                        kind="container", container__isnull=False, building__isnull=True
                    )
                    | Q(
                        kind__in=["depot_start", "unload", "depot_end"],
                        site__isnull=False,
                        building__isnull=True,
                        container__isnull=True,
                    )
                ),
                name="waste_stop_target_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.sequence}"


class Pickup(models.Model):
    """A scan at a building or container: waste collected, or an exception."""

    class Outcome(models.TextChoices):
        COLLECTED = "collected", pgettext_lazy("pickup outcome", "Collected")
        NOT_OUT = "not_out", _("No waste put out (tidak ada sampah)")
        NO_ACCESS = "no_access", _("No access")
        REFUSED = "refused", _("Refused: not sorted or not allowed")
        OTHER = "other", _("Other problem")

    class Review(models.TextChoices):
        NONE = "none", _("No review needed")
        PENDING = "pending", _("Waiting for review")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    # The phone's id for this pickup, so a re-sent pickup is recorded once.
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("building"),
    )
    container = models.ForeignKey(
        Container,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("container"),
    )
    stop = models.ForeignKey(
        RouteStop,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("route stop"),
    )
    plan = models.ForeignKey(
        RoutePlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("route plan"),
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="pickups",
        verbose_name=_("collector"),
    )
    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("vehicle"),
    )
    # When the phone recorded it, and when the server received it (offline lag).
    scanned_at = models.DateTimeField(_("scanned at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    lat = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    lng = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.PositiveIntegerField(_("GPS accuracy (m)"), null=True)
    # Distance from the point's registered location; null without a GPS fix.
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    category = models.CharField(
        _("category"),
        max_length=12,
        choices=SortingGroup.choices,
        default=SortingGroup.MIXED,
    )
    weight_g = models.PositiveIntegerField(_("estimated weight (g)"), null=True)
    volume_l = models.PositiveIntegerField(_("estimated volume (litres)"), null=True)
    photo = models.ImageField(
        _("photo"), upload_to="pickups/%Y/%m/", null=True, blank=True
    )
    # The earlier pickup of the same point inside the repeat window: this scan is
    # kept as evidence but not counted again.
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("repeat of"),
    )
    # Comma-separated flag codes: "far", "late_sync", ...
    flags = models.CharField(_("flags"), max_length=100, blank=True)
    review = models.CharField(
        _("review"), max_length=10, choices=Review.choices, default=Review.NONE
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    journal_seq = models.BigIntegerField(_("journal entry"), null=True)

    class Meta:
        ordering = ["-scanned_at"]
        verbose_name = _("pickup")
        verbose_name_plural = _("pickups")
        permissions = [
            ("record_pickup", _("Can record pickups")),
            ("review_pickup", _("Can review flagged pickups")),
        ]
        indexes = [
            models.Index(fields=["scanned_at"], name="waste_pickup_scanned"),
            models.Index(fields=["review"], name="waste_pickup_review"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(building__isnull=False, container__isnull=True)
                | Q(building__isnull=True, container__isnull=False),
                name="waste_pickup_one_point",
            ),
        ]

    def __str__(self) -> str:
        return self.client_id


class ServiceCredit(models.Model):
    """A levy credit to a household for a missed pickup, confirmed by review."""

    pickup = models.OneToOneField(
        Pickup,
        on_delete=models.PROTECT,
        related_name="service_credit",
        verbose_name=_("pickup"),
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="service_credits"
    )
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    transfer_client_id = models.CharField(_("transfer id"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("service credit")
        verbose_name_plural = _("service credits")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="waste_credit_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.transfer_client_id


class SensorReading(models.Model):
    """One fill-level observation of a container (FIWARE WasteContainer fields)."""

    class Source(models.TextChoices):
        MQTT = "mqtt", _("MQTT")
        HTTP = "http", _("HTTP")

    container = models.ForeignKey(
        Container,
        on_delete=models.CASCADE,
        related_name="readings",
        verbose_name=_("container"),
    )
    observed_at = models.DateTimeField(_("observed at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    fill_level = models.DecimalField(_("fill level"), max_digits=4, decimal_places=3)
    temperature_c = models.DecimalField(
        _("temperature (°C)"), max_digits=5, decimal_places=1, null=True
    )
    battery = models.DecimalField(
        _("battery"), max_digits=4, decimal_places=3, null=True
    )
    source = models.CharField(_("source"), max_length=6, choices=Source.choices)

    class Meta:
        ordering = ["-observed_at"]
        verbose_name = _("sensor reading")
        verbose_name_plural = _("sensor readings")
        constraints = [
            models.UniqueConstraint(
                fields=["container", "observed_at"],
                name="waste_reading_once_per_time",
            ),
            models.CheckConstraint(
                condition=Q(fill_level__gte=0, fill_level__lte=1),
                name="waste_reading_fill_fraction",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.container_id} {self.observed_at:%Y-%m-%d %H:%M} {self.fill_level}"
        )


class SensorRejection(models.Model):
    """A sensor message the intake refused, counted per source and reason."""

    source = models.CharField(_("source"), max_length=6)
    reason = models.CharField(_("reason"), max_length=40)
    # Topic or device id as received, cut to its first 120 characters.
    origin = models.CharField(_("origin"), max_length=120, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("rejected sensor message")
        verbose_name_plural = _("rejected sensor messages")

    def __str__(self) -> str:
        return f"{self.source} {self.reason}"


class Alert(models.Model):
    """Something staff should act on; open until cleared."""

    class Kind(models.TextChoices):
        FILL_THRESHOLD = "fill_threshold", _("Container above its threshold")
        SENSOR_SILENT = "sensor_silent", _("Sensor silent")
        PICKUP_FLAGGED = "pickup_flagged", _("Pickup flagged for review")
        VEHICLE_BROKEN = "vehicle_broken", _("Vehicle broken down")
        REPORT_OVERDUE = "report_overdue", _("Citizen report past its SLA")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    container = models.ForeignKey(
        Container,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    pickup = models.ForeignKey(
        Pickup, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    # Any other object the alert is about, as "app_label.model:pk".
    subject = models.CharField(_("subject"), max_length=80, blank=True)
    # Figures for the message, e.g. {"fill_level": "0.86"}; no personal data.
    details = models.JSONField(_("details"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["kind", "cleared_at"], name="waste_alert_open"),
        ]
        constraints = [
            # At most one open alert of a kind per container, pickup or vehicle.
            models.UniqueConstraint(
                fields=["kind", "container"],
                condition=Q(cleared_at__isnull=True, container__isnull=False),
                name="waste_one_open_container_alert",
            ),
            models.UniqueConstraint(
                fields=["kind", "pickup"],
                condition=Q(cleared_at__isnull=True, pickup__isnull=False),
                name="waste_one_open_pickup_alert",
            ),
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(cleared_at__isnull=True) & ~Q(subject=""),
                name="waste_one_open_subject_alert",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.opened_at:%Y-%m-%d %H:%M}"
