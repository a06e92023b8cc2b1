"""Recording pickups from the collector's phone: scans, exceptions and review.

A pickup names the building or container whose plate was scanned. The phone
chooses its `client_id`, so a pickup re-sent after a lost reply or from the
offline queue is stored once. The same id with the same request returns the
stored pickup, and the same id with another request is rejected.

A scan farther than KOTACERDAS_PICKUP_FLAG_DISTANCE_M from the point's
registered location is stored with the flag "far", waits for review and opens
a PICKUP_FLAGGED alert. An exception (anything but "collected") also waits for
review, because a confirmed missed pickup may earn a levy credit (see
`pickups_credit`). A second scan of the same point within
KOTACERDAS_PICKUP_REPEAT_WINDOW_S of a counted one is stored with
`duplicate_of` set and is left out of totals.
"""

import logging
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kotacerdas.journal import checks as journal_checks
from kotacerdas.journal import services as journal
from kotacerdas.registry.models import Building, Plate
from kotacerdas.registry.plates import Verdict, read_plate_text
from kotacerdas.registry.services import FieldError
from kotacerdas.waste.events import PickupRecorded, PickupReviewed
from kotacerdas.waste.models import (
    Alert,
    Container,
    Crew,
    Pickup,
    RoutePlan,
    RouteStop,
    SortingGroup,
    Vehicle,
)
from kotacerdas.waste.pickups_photos import PhotoRejected, check_photo
from kotacerdas.waste.places import set_vehicle_status
from kotacerdas.waste.routing.distances import haversine_m as great_circle_m
from kotacerdas.waste.sensors import clear_fill_alert

logger = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
REASON_MAX = 300
NOTE_MAX = 300
# A collector's estimate above these is a typing slip: a three-wheeled cart
# carries about 1 t and a dump truck about 8 t.
MAX_WEIGHT_G = 10_000_000
MAX_VOLUME_L = 40_000
# The largest GPS accuracy figure accepted, in metres. A larger one is a
# broken reading.
MAX_ACCURACY_M = 100_000
# A phone clock may run ahead of the server's. A scan further in the future
# than this is rejected as a wrong clock.
CLOCK_SKEW = timedelta(minutes=10)
# Scans older than this are rejected, so a pickup stuck in a phone's queue for
# a week is reported to the office instead of changing old totals.
MAX_SCAN_AGE = timedelta(days=7)

FLAG_FAR = "far"
FLAG_TYPED = "typed"
# Outcomes that leave the point's waste where it was.
EXCEPTIONS = frozenset(Pickup.Outcome.values) - {Pickup.Outcome.COLLECTED}
ACTIVE_PLAN_STATUSES = (RoutePlan.Status.PLANNED, RoutePlan.Status.IN_PROGRESS)


class PickupInvalid(ValueError):
    """The request failed validation; `errors` names each field and the fix."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class PickupConflict(ValueError):
    """A client id reused for a different pickup, or a review of a reviewed pickup."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PickupInput:
    """A pickup as the phone sends it, before validation.

    `plate` is the scanned QR text or the typed plate code. `weight_kg` is a
    decimal number of kilograms with at most three decimals, stored as grams.
    """

    client_id: str
    plate: str
    outcome: str
    scanned_at: str | datetime
    category: str = SortingGroup.MIXED
    lat: str | float | None = None
    lng: str | float | None = None
    accuracy_m: str | float | None = None
    weight_kg: str | float | None = None
    volume_l: str | int | None = None
    reason: str = ""


@dataclass(frozen=True)
class RecordedPickup:
    pickup: Pickup
    created: bool


# ------------------------------------------------------------------ geometry


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    return great_circle_m((lat1, lng1), (lat2, lng2))


# ---------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Clean:
    """A validated request: the point and the values to store."""

    client_id: str
    building: Building | None
    container: Container | None
    typed: bool
    outcome: str
    scanned_at: datetime
    category: str
    lat: Decimal | None
    lng: Decimal | None
    accuracy_m: int | None
    weight_g: int | None
    volume_l: int | None
    reason: str

    def same_request(self, pickup: Pickup) -> bool:
        stored = (
            pickup.building_id,
            pickup.container_id,
            pickup.outcome,
            pickup.scanned_at,
            pickup.category,
            pickup.lat,
            pickup.lng,
            pickup.weight_g,
            pickup.volume_l,
            pickup.reason,
        )
        sent = (
            self.building.pk if self.building else None,
            self.container.pk if self.container else None,
            self.outcome,
            self.scanned_at,
            self.category,
            self.lat,
            self.lng,
            self.weight_g,
            self.volume_l,
            self.reason,
        )
        return stored == sent


def _decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    # Far past every limit checked later; clamping keeps the arithmetic on it
    # (kilograms to grams, rounding) from overflowing.
    if number.adjusted() > 15:
        number = Decimal("1e16").copy_sign(number)
    return number


def _clean_client_id(value: str, errors: list[FieldError]) -> str:
    text = (value or "").strip()
    if not CLIENT_ID.fullmatch(text):
        errors.append(
            FieldError(
                "client_id",
                _(
                    "The client id is missing or invalid. Use 8 to 64 letters, "
                    "digits or . _ : - (a UUID from crypto.randomUUID() fits)."
                ),
            )
        )
    return text


def _clean_scanned_at(
    value: str | datetime, now: datetime, errors: list[FieldError]
) -> datetime:
    try:
        moment = value if isinstance(value, datetime) else parse_datetime(value or "")
    except ValueError:
        # Well-formed but impossible, such as 2026-02-30.
        moment = None
    if moment is None:
        errors.append(
            FieldError(
                "scanned_at",
                _(
                    "The scan time is missing or invalid. Send an ISO 8601 time "
                    "with its offset, e.g. 2026-03-02T07:15:00+07:00."
                ),
            )
        )
        return now
    if timezone.is_naive(moment):
        errors.append(
            FieldError(
                "scanned_at",
                _("The scan time has no UTC offset. Add one, e.g. +07:00 or Z."),
            )
        )
        return now
    # Whole seconds, so the stored time and the journal's text agree exactly.
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment > now + CLOCK_SKEW:
        errors.append(
            FieldError(
                "scanned_at",
                _("The scan time is in the future. Check the phone's clock."),
            )
        )
    elif moment < now - MAX_SCAN_AGE:
        errors.append(
            FieldError(
                "scanned_at",
                _(
                    "The scan is more than %(days)s days old and can no longer be "
                    "recorded. Report it to the waste office."
                )
                % {"days": MAX_SCAN_AGE.days},
            )
        )
    return moment


def _clean_position(
    raw: PickupInput, errors: list[FieldError]
) -> tuple[Decimal | None, Decimal | None, int | None]:
    try:
        lat = _decimal(raw.lat)
    except ValueError:
        lat = None
        errors.append(FieldError("lat", _("The latitude is not a number.")))
    try:
        lng = _decimal(raw.lng)
    except ValueError:
        lng = None
        errors.append(FieldError("lng", _("The longitude is not a number.")))
    if (lat is None) != (lng is None):
        errors.append(
            FieldError(
                "lat" if lat is None else "lng",
                _("Send both latitude and longitude, or neither."),
            )
        )
        return None, None, None
    if lat is not None and not Decimal(-90) <= lat <= Decimal(90):
        errors.append(
            FieldError("lat", _("The latitude must be between -90 and 90 degrees."))
        )
    if lng is not None and not Decimal(-180) <= lng <= Decimal(180):
        errors.append(
            FieldError("lng", _("The longitude must be between -180 and 180 degrees."))
        )
    accuracy: int | None = None
    try:
        accuracy_value = _decimal(raw.accuracy_m)
    except ValueError:
        accuracy_value = None
        errors.append(
            FieldError("accuracy_m", _("The GPS accuracy is not a number of metres."))
        )
    if accuracy_value is not None:
        if not Decimal(0) <= accuracy_value <= MAX_ACCURACY_M:
            errors.append(
                FieldError(
                    "accuracy_m",
                    _("The GPS accuracy must be between 0 and %(max)s metres.")
                    % {"max": MAX_ACCURACY_M},
                )
            )
        else:
            accuracy = math.ceil(accuracy_value)
    if lat is None or lng is None:
        return None, None, accuracy
    # Six decimals (about 0.1 m), as the building and container locations.
    quantum = Decimal("0.000001")
    return lat.quantize(quantum), lng.quantize(quantum), accuracy


def _clean_amounts(
    raw: PickupInput, outcome: str, errors: list[FieldError]
) -> tuple[int | None, int | None]:
    weight_g: int | None = None
    volume_l: int | None = None
    try:
        weight = _decimal(raw.weight_kg)
    except ValueError:
        weight = None
        errors.append(
            FieldError("weight_kg", _("The weight is not a number of kilograms."))
        )
    if weight is not None:
        grams = weight * 1000
        if grams != grams.to_integral_value():
            errors.append(
                FieldError(
                    "weight_kg",
                    _("Give the weight in kilograms with at most three decimals."),
                )
            )
        elif not 0 < grams <= MAX_WEIGHT_G:
            errors.append(
                FieldError(
                    "weight_kg",
                    _("The weight must be more than 0 and at most %(max)s kg.")
                    % {"max": MAX_WEIGHT_G // 1000},
                )
            )
        else:
            weight_g = int(grams)
    try:
        volume = _decimal(raw.volume_l)
    except ValueError:
        volume = None
        errors.append(
            FieldError("volume_l", _("The volume is not a number of litres."))
        )
    if volume is not None:
        if volume != volume.to_integral_value() or not 0 < volume <= MAX_VOLUME_L:
            errors.append(
                FieldError(
                    "volume_l",
                    _(
                        "The volume must be whole litres, more than 0 and at most %(max)s."
                    )
                    % {"max": MAX_VOLUME_L},
                )
            )
        else:
            volume_l = int(volume)
    if outcome in EXCEPTIONS and (weight_g is not None or volume_l is not None):
        field = "weight_kg" if weight_g is not None else "volume_l"
        errors.append(
            FieldError(
                field,
                _("Nothing was collected, so leave the weight and volume empty."),
            )
        )
    return weight_g, volume_l


def resolve_plate(text: str) -> tuple[Building | Container, bool]:
    """Return the building or container a scanned or typed plate names.

    The flag is True for a typed code, which carries no signature. Raises
    PickupInvalid naming the "plate" field for a forged, revoked or unknown plate.
    """
    read = read_plate_text(text or "")
    if read.verdict == Verdict.MALFORMED or read.code is None:
        raise PickupInvalid(
            [
                FieldError(
                    "plate",
                    _(
                        "This is not a plate code. Scan the QR code again or type "
                        "the code printed under it, e.g. PPJ-B-7F3K9Q-C."
                    ),
                )
            ]
        )
    if read.verdict == Verdict.FORGED:
        raise PickupInvalid(
            [
                FieldError(
                    "plate",
                    _(
                        "This QR code is not signed by the city: the plate may be "
                        "forged. Do not record it; report the plate."
                    ),
                )
            ]
        )
    typed = read.verdict == Verdict.UNSIGNED
    kind = read.code.split("-")[1]
    if kind == "C":
        container = Container.objects.filter(plate_code=read.code, active=True).first()
        if container is not None:
            return container, typed
    else:
        plate = Plate.objects.filter(code=read.code).select_related("building").first()
        if plate is not None and plate.status == Plate.Status.REVOKED:
            raise PickupInvalid(
                [
                    FieldError(
                        "plate",
                        _(
                            "Plate %(code)s was replaced by a new plate. Scan the "
                            "new plate, or report this one."
                        )
                        % {"code": read.code},
                    )
                ]
            )
        if plate is not None:
            return plate.building, typed
    raise PickupInvalid(
        [
            FieldError(
                "plate",
                _("No building or container has plate %(code)s. Check the code.")
                % {"code": read.code},
            )
        ]
    )


def _clean(raw: PickupInput, now: datetime) -> _Clean:
    errors: list[FieldError] = []
    client_id = _clean_client_id(raw.client_id, errors)

    outcome = (raw.outcome or "").strip()
    if outcome not in Pickup.Outcome.values:
        errors.append(
            FieldError(
                "outcome",
                _("Choose an outcome: %(choices)s.")
                % {"choices": ", ".join(Pickup.Outcome.values)},
            )
        )
    category = (raw.category or SortingGroup.MIXED).strip()
    if category not in SortingGroup.values:
        errors.append(
            FieldError(
                "category",
                _("Choose a category: %(choices)s.")
                % {"choices": ", ".join(SortingGroup.values)},
            )
        )
    reason = " ".join((raw.reason or "").split())
    if outcome in EXCEPTIONS and not reason:
        errors.append(
            FieldError(
                "reason",
                _("Say why nothing was collected, e.g. 'gate locked, nobody home'."),
            )
        )
    if len(reason) > REASON_MAX:
        errors.append(
            FieldError(
                "reason",
                _("The reason is longer than %(max)s characters. Shorten it.")
                % {"max": REASON_MAX},
            )
        )

    scanned_at = _clean_scanned_at(raw.scanned_at, now, errors)
    lat, lng, accuracy = _clean_position(raw, errors)
    weight_g, volume_l = _clean_amounts(raw, outcome, errors)

    point: Building | Container | None = None
    typed = False
    try:
        point, typed = resolve_plate(raw.plate)
    except PickupInvalid as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise PickupInvalid(errors)
    assert point is not None
    return _Clean(
        client_id=client_id,
        building=point if isinstance(point, Building) else None,
        container=point if isinstance(point, Container) else None,
        typed=typed,
        outcome=outcome,
        scanned_at=scanned_at,
        category=category,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy,
        weight_g=weight_g,
        volume_l=volume_l,
        reason=reason,
    )


# ------------------------------------------------------------------- routes


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def todays_plans(user: Any, day: date | None = None) -> QuerySet[RoutePlan]:
    """Return the plans of `day` (today) whose crew has `user` as a member."""
    day = day or timezone.localdate()
    return (
        # A finished plan stays on the page, so the crew sees the day's work.
        RoutePlan.objects.filter(
            date=day,
            crew__members=user,
            status__in=(*ACTIVE_PLAN_STATUSES, RoutePlan.Status.DONE),
        )
        .select_related("vehicle", "crew")
        .order_by("shift_start", "id")
    )


def _match_stop(user: Any, clean: _Clean) -> tuple[RoutePlan | None, RouteStop | None]:
    point = (
        Q(building=clean.building) if clean.building else Q(container=clean.container)
    )
    stops = (
        RouteStop.objects.filter(
            point, plan__in=todays_plans(user, local_day(clean.scanned_at))
        )
        .exclude(status=RouteStop.Status.CANCELLED)
        .select_related("plan", "plan__vehicle")
        .order_by("plan__shift_start", "sequence")
    )
    # A point visited twice in a day: the first stop still to do, else the first.
    stop = next(
        (s for s in stops if s.status == RouteStop.Status.PLANNED), stops.first()
    )
    return (stop.plan, stop) if stop else (None, None)


def _crew_vehicle(user: Any) -> Any:
    crew = (
        Crew.objects.filter(members=user, active=True, vehicle__isnull=False)
        .select_related("vehicle")
        .order_by("id")
        .first()
    )
    return crew.vehicle if crew else None


# ----------------------------------------------------------------- recording


def _point_location(clean: _Clean) -> tuple[Decimal | None, Decimal | None]:
    point = clean.building or clean.container
    assert point is not None
    return point.lat, point.lng


def _repeat_of(clean: _Clean) -> Pickup | None:
    window = timedelta(seconds=settings.KOTACERDAS_PICKUP_REPEAT_WINDOW_S)
    if not window:
        return None
    point = (
        Q(building=clean.building) if clean.building else Q(container=clean.container)
    )
    return (
        Pickup.objects.filter(
            point,
            duplicate_of__isnull=True,
            scanned_at__gte=clean.scanned_at - window,
            scanned_at__lte=clean.scanned_at + window,
        )
        .order_by("scanned_at", "id")
        .first()
    )


def record_pickup(
    raw: PickupInput,
    collector: Any,
    *,
    photo: UploadedFile | None = None,
    now: datetime | None = None,
) -> RecordedPickup:
    """Validate and store one pickup with its journal event; return it.

    Raises PickupInvalid naming each bad field, and PickupConflict when the
    client id was already used for a different pickup. Nothing is written
    when either is raised.
    """
    now = now or timezone.now()
    clean = _clean(raw, now)
    photo_extension = None
    if photo is not None:
        try:
            photo_extension = check_photo(photo)
        except PhotoRejected as rejected:
            raise PickupInvalid([FieldError("photo", rejected.message)]) from None

    known = _known(clean, collector)
    if known is not None:
        return RecordedPickup(known, created=False)
    try:
        with transaction.atomic():
            pickup = _store(clean, collector, photo, photo_extension)
    except IntegrityError:
        # A concurrent request with the same client id committed first.
        known = _known(clean, collector)
        if known is None:
            raise
        return RecordedPickup(known, created=False)
    logger.info(
        "pickup %s recorded by user %s outcome=%s flags=%s",
        pickup.pk,
        collector.pk,
        pickup.outcome,
        pickup.flags or "-",
        extra={"pickup_id": pickup.pk},
    )
    return RecordedPickup(pickup, created=True)


def _known(clean: _Clean, collector: Any) -> Pickup | None:
    pickup = Pickup.objects.filter(client_id=clean.client_id).first()
    if pickup is None:
        return None
    if pickup.collector_id != collector.pk or not clean.same_request(pickup):
        raise PickupConflict(
            "client_id",
            _(
                "Client id %(id)s was already used for a different pickup. Send "
                "a new pickup with a new client id."
            )
            % {"id": clean.client_id},
        )
    return pickup


def _store(
    clean: _Clean,
    collector: Any,
    photo: UploadedFile | None,
    photo_extension: str | None,
) -> Pickup:
    plan, stop = _match_stop(collector, clean)
    vehicle = plan.vehicle if plan else _crew_vehicle(collector)

    distance: int | None = None
    point_lat, point_lng = _point_location(clean)
    if (
        clean.lat is not None
        and clean.lng is not None
        and point_lat is not None
        and point_lng is not None
    ):
        distance = round(
            haversine_m(
                float(clean.lat), float(clean.lng), float(point_lat), float(point_lng)
            )
        )
    flags = []
    if distance is not None and distance > settings.KOTACERDAS_PICKUP_FLAG_DISTANCE_M:
        flags.append(FLAG_FAR)
    if clean.typed:
        flags.append(FLAG_TYPED)

    repeat = _repeat_of(clean)
    review = (
        Pickup.Review.PENDING
        if FLAG_FAR in flags or (clean.outcome in EXCEPTIONS and repeat is None)
        else Pickup.Review.NONE
    )
    pickup = Pickup(
        client_id=clean.client_id,
        building=clean.building,
        container=clean.container,
        stop=stop,
        plan=plan,
        collector=collector,
        vehicle=vehicle,
        scanned_at=clean.scanned_at,
        lat=clean.lat,
        lng=clean.lng,
        accuracy_m=clean.accuracy_m,
        distance_m=distance,
        outcome=clean.outcome,
        reason=clean.reason,
        category=clean.category,
        weight_g=clean.weight_g,
        volume_l=clean.volume_l,
        duplicate_of=repeat,
        flags=",".join(flags),
        review=review,
    )
    if photo is not None:
        # The stored name is random, so it says nothing about the household.
        pickup.photo.save(f"{uuid.uuid4().hex}.{photo_extension}", photo, save=False)
    pickup.save()

    if repeat is None:
        _update_point(pickup, stop)
    if FLAG_FAR in flags:
        Alert.objects.create(
            kind=Alert.Kind.PICKUP_FLAGGED,
            pickup=pickup,
            details={"distance_m": distance, "flags": pickup.flags},
        )
    entry = journal.append(
        "waste.pickup.recorded",
        recorded_event(pickup),
        actor=f"user:{collector.pk}",
    )
    Pickup.objects.filter(pk=pickup.pk).update(journal_seq=entry.seq)
    pickup.journal_seq = entry.seq
    return pickup


def _update_point(pickup: Pickup, stop: RouteStop | None) -> None:
    collected = pickup.outcome == Pickup.Outcome.COLLECTED
    if stop is not None:
        stops = RouteStop.objects.filter(pk=stop.pk)
        if collected:
            stops.update(status=RouteStop.Status.DONE)
        else:
            # A stop already done stays done when a later scan reports a problem.
            stops.exclude(status=RouteStop.Status.DONE).update(
                status=RouteStop.Status.EXCEPTION
            )
        _advance_plan(stop.plan_id)
    if collected and pickup.container_id is not None:
        # A sensor reading taken after the scan is newer than "emptied" and wins.
        Container.objects.filter(pk=pickup.container_id).filter(
            Q(last_emptied_at__isnull=True) | Q(last_emptied_at__lt=pickup.scanned_at)
        ).update(last_emptied_at=pickup.scanned_at)
        emptied = (
            Container.objects.filter(pk=pickup.container_id)
            .filter(
                Q(fill_observed_at__isnull=True)
                | Q(fill_observed_at__lt=pickup.scanned_at)
            )
            .update(fill_level=Decimal(0), fill_observed_at=pickup.scanned_at)
        )
        if emptied:
            # The container is empty now, so its threshold alert is over; a
            # later reading above the threshold opens a new one.
            clear_fill_alert(pickup.container_id)


def _advance_plan(plan_id: int) -> None:
    """Mark a plan in progress at its first pickup and done once no stop is left.

    Stops that fit no route (no planned arrival) do not hold a plan open.
    """
    left = RouteStop.objects.filter(
        plan_id=plan_id,
        kind__in=[RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER],
        status=RouteStop.Status.PLANNED,
        arrival__isnull=False,
    ).exists()
    status = RoutePlan.Status.IN_PROGRESS if left else RoutePlan.Status.DONE
    changed = (
        RoutePlan.objects.filter(pk=plan_id, status__in=ACTIVE_PLAN_STATUSES)
        .exclude(status=status)
        .update(status=status)
    )
    if changed:
        _follow_vehicle(plan_id, status)


# A vehicle shows on route while its plan runs and parked once it is done.
# A broken or out-of-service vehicle keeps the status staff gave it.
VEHICLE_MOVES = {
    RoutePlan.Status.IN_PROGRESS: (Vehicle.Status.PARKED, Vehicle.Status.ON_ROUTE),
    RoutePlan.Status.DONE: (Vehicle.Status.ON_ROUTE, Vehicle.Status.PARKED),
}


def _follow_vehicle(plan_id: int, plan_status: str) -> None:
    vehicle = RoutePlan.objects.select_related("vehicle").get(pk=plan_id).vehicle
    before, after = VEHICLE_MOVES[RoutePlan.Status(plan_status)]
    if vehicle.status == before:
        set_vehicle_status(vehicle, after)


def recorded_event(pickup: Pickup) -> PickupRecorded:
    """Return the journal payload of a stored pickup: ids, codes and figures only."""
    return PickupRecorded(
        pickup_id=pickup.pk,
        client_id=pickup.client_id,
        building_id=pickup.building_id,
        container_id=pickup.container_id,
        plan_id=pickup.plan_id,
        stop_id=pickup.stop_id,
        collector_id=pickup.collector_id,
        scanned_at=scanned_at_text(pickup.scanned_at),
        outcome=pickup.outcome,
        category=pickup.category,
        weight_g=pickup.weight_g,
        volume_l=pickup.volume_l,
        distance_m=pickup.distance_m,
        duplicate_of=pickup.duplicate_of_id,
        flags=pickup.flags,
        review=pickup.review,
    )


def scanned_at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# -------------------------------------------------------------------- review


class Decision:
    CONFIRM = "confirm"
    DISMISS = "dismiss"


@dataclass(frozen=True)
class ReviewResult:
    pickup: Pickup
    # The credit granted, or why none was: see pickups_credit.CreditOutcome.
    credit: Any


def review_pickup(
    pickup_id: int, decision: str, note: str, reviewer: Any
) -> ReviewResult:
    """Confirm or dismiss a pickup waiting for review, and journal the decision.

    Confirming a missed pickup that qualifies (see `pickups_credit`) credits
    the household in the same transaction. Raises PickupInvalid for a bad
    decision or note and PickupConflict when the pickup was already reviewed.
    """
    from kotacerdas.waste import pickups_credit

    errors = []
    if decision not in (Decision.CONFIRM, Decision.DISMISS):
        errors.append(FieldError("decision", _("Choose 'confirm' or 'dismiss'.")))
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        errors.append(
            FieldError(
                "note",
                _("The note is longer than %(max)s characters. Shorten it.")
                % {"max": NOTE_MAX},
            )
        )
    if errors:
        raise PickupInvalid(errors)

    with transaction.atomic():
        pickup = Pickup.objects.select_for_update().get(pk=pickup_id)
        if pickup.review != Pickup.Review.PENDING:
            raise PickupConflict(
                "decision",
                _("This pickup is not waiting for review (it is %(state)s).")
                % {"state": pickup.get_review_display()},
            )
        pickup.review = (
            Pickup.Review.CONFIRMED
            if decision == Decision.CONFIRM
            else Pickup.Review.DISMISSED
        )
        pickup.reviewed_by = reviewer
        pickup.reviewed_at = timezone.now()
        pickup.review_note = note
        pickup.save(
            update_fields=["review", "reviewed_by", "reviewed_at", "review_note"]
        )
        Alert.objects.filter(pickup=pickup, cleared_at__isnull=True).update(
            cleared_at=pickup.reviewed_at
        )
        journal.append(
            "waste.pickup.reviewed",
            PickupReviewed(
                pickup_id=pickup.pk, review=pickup.review, reviewer_id=reviewer.pk
            ),
            actor=f"user:{reviewer.pk}",
        )
        credit = None
        if pickup.review == Pickup.Review.CONFIRMED:
            credit = pickups_credit.credit_missed_pickup(pickup, actor=reviewer)
    logger.info(
        "pickup %s reviewed by user %s: %s",
        pickup.pk,
        reviewer.pk,
        pickup.review,
        extra={"pickup_id": pickup.pk},
    )
    return ReviewResult(pickup, credit)


def review_queue() -> QuerySet[Pickup]:
    """Return the pickups waiting for review, oldest scan first."""
    return (
        Pickup.objects.filter(review=Pickup.Review.PENDING)
        .select_related("building", "container", "collector", "plan")
        .order_by("scanned_at", "id")
    )


def register() -> None:
    """Register this area's replay checker (called from ready())."""
    from kotacerdas.waste.checks import PickupChecker

    journal_checks.register_checker("waste-pickups", PickupChecker)
