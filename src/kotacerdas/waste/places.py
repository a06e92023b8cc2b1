"""Sites, containers and their plates, vehicles: the write paths, journalled.

Callers (the operator pages, the demo) pass plain values in an input
dataclass. Each `save_*` function checks every field and raises
`PlacesInvalid` with one `FieldError` per problem (the field's name and a
translated message saying how to fix it), or writes the row and appends its
`waste.*.saved` event in the same transaction. Crews and schedules live in
`places_crews`. Nothing here logs or journals personal data.
"""

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.models import Area
from kotacerdas.journal import services as journal
from kotacerdas.journal.checks import register_checker
from kotacerdas.registry.services import FieldError, actor_label
from kotacerdas.waste import places_fields as fields
from kotacerdas.waste.container_plates import issue_container_plate
from kotacerdas.waste.events import ContainerSaved, SiteSaved, VehicleSaved
from kotacerdas.waste.models import Alert, Container, Site, SortingGroup, Vehicle

logger = logging.getLogger(__name__)

# Sites that need no kelurahan: they serve the whole city.
CITY_WIDE_KINDS = (Site.Kind.TPA, Site.Kind.TPST, Site.Kind.DEPOT)
# Sites that hold containers.
CONTAINER_SITE_KINDS = (Site.Kind.TPS, Site.Kind.TPS3R, Site.Kind.TPST)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,59}$")
# Indonesian number plates: region letters, 1-4 digits, up to 3 letters.
NUMBER_PLATE = re.compile(r"^([A-Z]{1,2}) ?(\d{1,4}) ?([A-Z]{0,3})$")
MAX_SERVICE_MINUTES = 240
MAX_CONTAINER_VOLUME_M3 = Decimal(40)
MAX_CONTAINER_LOAD_KG = 20_000
MAX_VEHICLE_LOAD_KG = 30_000
MAX_VEHICLE_VOLUME_M3 = Decimal(60)


class PlacesInvalid(ValueError):
    """Input failed validation; `errors` names each field and the fix."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def register() -> None:
    """Register the replay checker of sites, containers, vehicles and schedules."""
    # Imported for its `waste.crew.saved` event type as well.
    from kotacerdas.waste import places_crews  # noqa: F401
    from kotacerdas.waste.places_checks import PlacesChecker

    register_checker("waste-places", PlacesChecker)


def _active(value: Any) -> bool:
    return value not in (False, "false", "False", "0", 0, "", None)


def _slug(value: Any, errors: list[FieldError]) -> str:
    code = str(value or "").strip().lower()
    if not SLUG.match(code):
        errors.append(
            FieldError(
                "code",
                _(
                    "Enter a code of lowercase letters, digits and dashes, at most "
                    "40 characters, such as tps-pasar-baru-1."
                ),
            )
        )
    return code


# Sites -----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteInput:
    """A site as typed in a form or written by the demo."""

    code: str
    name: str
    kind: str
    lat: Any
    lng: Any
    kelurahan_code: str = ""
    address: str = ""
    service_minutes: Any = 15
    opens_at: Any = None
    closes_at: Any = None
    active: Any = True


def site_state(site: Site) -> dict[str, Any]:
    """Return the journalled view of a site."""
    return SiteSaved(
        site_id=site.pk,
        code=site.code,
        kind=site.kind,
        kelurahan_code=site.kelurahan.code if site.kelurahan is not None else None,
        lat=f"{Decimal(site.lat):.6f}",
        lng=f"{Decimal(site.lng):.6f}",
        active=site.active,
    ).model_dump()


def _clean_site(data: SiteInput, site: Site | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    code = _slug(data.code, errors)
    if (
        code
        and Site.objects.filter(code=code)
        .exclude(pk=site.pk if site is not None else 0)
        .exists()
    ):
        errors.append(FieldError("code", _("Another site already has this code.")))
    values: dict[str, Any] = {
        "code": code,
        "name": fields.text(data.name, "name", 120, errors, example="TPS Pasar Baru"),
        "kind": fields.choice(data.kind, "kind", Site.Kind, errors),
        "address": " ".join(str(data.address or "").split())[:200],
        "service_minutes": fields.whole_number(
            data.service_minutes, "service_minutes", 0, MAX_SERVICE_MINUTES, errors
        ),
        "opens_at": fields.optional_clock_time(data.opens_at, "opens_at", errors),
        "closes_at": fields.optional_clock_time(data.closes_at, "closes_at", errors),
        "active": _active(data.active),
    }
    area = None
    if data.kelurahan_code:
        area = fields.kelurahan(data.kelurahan_code, "kelurahan_code", errors)
    elif values["kind"] and values["kind"] not in CITY_WIDE_KINDS:
        errors.append(
            FieldError(
                "kelurahan_code",
                _(
                    "Choose the kelurahan this site serves; only a TPA, TPST or depot may have none."
                ),
            )
        )
    values["kelurahan"] = area
    _check_opening_hours(values, errors)
    _clean_point(data.lat, data.lng, area, values, errors)
    if errors:
        raise PlacesInvalid(errors)
    return values


def _check_opening_hours(values: dict[str, Any], errors: list[FieldError]) -> None:
    opens, closes = values["opens_at"], values["closes_at"]
    if (opens is None) != (closes is None):
        errors.append(
            FieldError(
                "closes_at" if closes is None else "opens_at",
                _("Enter both opening and closing times, or neither."),
            )
        )
    elif opens is not None and closes <= opens:
        errors.append(
            FieldError(
                "closes_at", _("The closing time must be after the opening time.")
            )
        )


def _clean_point(
    lat_value: Any,
    lng_value: Any,
    area: Any,
    values: dict[str, Any],
    errors: list[FieldError],
) -> None:
    lat = fields.coordinate(lat_value, "lat", 90, fields.EXAMPLE_LAT, errors)
    lng = fields.coordinate(lng_value, "lng", 180, fields.EXAMPLE_LNG, errors)
    if lat is not None and lng is not None:
        if area is not None:
            fields.check_location(area, lat, lng, errors)
        else:
            # A city-wide site is checked against the city's outline only.
            any_kelurahan = (
                Area.objects.filter(level=Area.Level.KELURAHAN).order_by("id").first()
            )
            if any_kelurahan is not None:
                fields.check_location(
                    any_kelurahan, lat, lng, errors, within_kelurahan=False
                )
    values["lat"], values["lng"] = lat, lng


def save_site(data: SiteInput, site: Site | None = None, *, actor: Any = None) -> Site:
    """Create a site, or change `site`, and journal `waste.site.saved`."""
    values = _clean_site(data, site)
    with transaction.atomic():
        site = site or Site()
        for name, value in values.items():
            setattr(site, name, value)
        try:
            with transaction.atomic():
                site.save()
        except IntegrityError:
            raise PlacesInvalid(
                [FieldError("code", _("Another site already has this code."))]
            ) from None
        journal.append("waste.site.saved", site_state(site), actor=actor_label(actor))
    logger.info("saved waste site %s", site.pk, extra={"site_id": site.pk})
    return site


# Containers ------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerInput:
    """A container as typed in a form or written by the demo.

    A blank kelurahan or location takes the site's.
    """

    site_id: Any
    name: str
    volume_m3: Any
    max_load_kg: Any
    lat: Any = None
    lng: Any = None
    kelurahan_code: str = ""
    stored_waste_kind: str = SortingGroup.MIXED
    fill_threshold: Any = "0.8"
    service_minutes: Any = 10
    sensor_id: str = ""
    active: Any = True


def container_state(container: Container) -> dict[str, Any]:
    """Return the journalled view of a container."""
    return ContainerSaved(
        container_id=container.pk,
        plate_code=container.plate_code,
        site_id=container.site_id,
        kelurahan_code=container.kelurahan.code,
        lat=f"{Decimal(container.lat):.6f}",
        lng=f"{Decimal(container.lng):.6f}",
        volume_m3=f"{Decimal(container.volume_m3):.2f}",
        max_load_kg=container.max_load_kg,
        fill_threshold=f"{Decimal(container.fill_threshold):.3f}",
        active=container.active,
    ).model_dump()


def _container_site(value: Any, errors: list[FieldError]) -> Site | None:
    site = (
        Site.objects.select_related("kelurahan__city").filter(pk=value).first()
        if str(value or "").isdecimal()
        else None
    )
    if site is None:
        errors.append(
            FieldError("site_id", _("Choose the TPS this container stands at."))
        )
        return None
    if site.kind not in CONTAINER_SITE_KINDS:
        errors.append(
            FieldError(
                "site_id",
                _("Containers stand at a TPS, TPS 3R or TPST; choose one of those."),
            )
        )
        return None
    return site


def _clean_container(
    data: ContainerInput, container: Container | None
) -> dict[str, Any]:
    errors: list[FieldError] = []
    site = _container_site(data.site_id, errors)
    values: dict[str, Any] = {
        "site": site,
        "name": fields.text(data.name, "name", 120, errors, example="TPS Pasar Baru 1"),
        "volume_m3": fields.decimal_number(
            data.volume_m3,
            "volume_m3",
            Decimal("0.1"),
            MAX_CONTAINER_VOLUME_M3,
            2,
            errors,
        ),
        "max_load_kg": fields.whole_number(
            data.max_load_kg, "max_load_kg", 1, MAX_CONTAINER_LOAD_KG, errors
        ),
        "stored_waste_kind": fields.choice(
            data.stored_waste_kind, "stored_waste_kind", SortingGroup, errors
        ),
        "fill_threshold": fields.decimal_number(
            data.fill_threshold,
            "fill_threshold",
            Decimal("0.05"),
            Decimal(1),
            3,
            errors,
        ),
        "service_minutes": fields.whole_number(
            data.service_minutes, "service_minutes", 1, MAX_SERVICE_MINUTES, errors
        ),
        "sensor_id": _sensor_id(data.sensor_id, container, errors),
        "active": _active(data.active),
    }
    area = None
    if data.kelurahan_code:
        area = fields.kelurahan(data.kelurahan_code, "kelurahan_code", errors)
    elif site is not None:
        area = site.kelurahan
        if area is None:
            errors.append(
                FieldError(
                    "kelurahan_code", _("Choose the kelurahan of this container.")
                )
            )
    values["kelurahan"] = area
    blank_point = data.lat in (None, "") and data.lng in (None, "")
    if blank_point and site is not None:
        values["lat"], values["lng"] = site.lat, site.lng
    else:
        _clean_point(data.lat, data.lng, area, values, errors)
    if errors:
        raise PlacesInvalid(errors)
    return values


def _sensor_id(
    value: Any, container: Container | None, errors: list[FieldError]
) -> str:
    sensor_id = str(value or "").strip()
    if not sensor_id:
        return ""
    if not SENSOR_ID.match(sensor_id):
        errors.append(
            FieldError(
                "sensor_id",
                _(
                    "Enter the sensor's device id: letters, digits, dots, dashes, "
                    "underscores or colons, at most 60, such as ppj-tps-3-1."
                ),
            )
        )
        return ""
    taken = Container.objects.filter(sensor_id=sensor_id, active=True)
    if container is not None:
        taken = taken.exclude(pk=container.pk)
    other = taken.first()
    if other is not None:
        errors.append(
            FieldError(
                "sensor_id",
                _(
                    "Container %(code)s already reports under this sensor id; remove it there first."
                )
                % {"code": other.plate_code},
            )
        )
    return sensor_id


def save_container(
    data: ContainerInput, container: Container | None = None, *, actor: Any = None
) -> Container:
    """Create a container with a new signed plate, or change `container`.

    Journals `waste.container.saved`. A new container's plate code comes from
    `container_plates.issue_container_plate`.
    """
    values = _clean_container(data, container)
    with transaction.atomic():
        if container is None:
            plate = issue_container_plate()
            container = Container(
                plate_code=plate.code,
                plate_key_id=plate.key_id,
                plate_signature=plate.signature,
            )
        for name, value in values.items():
            setattr(container, name, value)
        container.save()
        journal.append(
            "waste.container.saved",
            container_state(container),
            actor=actor_label(actor),
        )
    logger.info(
        "saved container %s", container.pk, extra={"container_id": container.pk}
    )
    return container


def reissue_container_plate(container: Container, *, actor: Any = None) -> Container:
    """Give a container a new signed plate code, for a lost or damaged plate.

    The old code stops resolving at once, because only the container row holds
    it. Journals `waste.container.saved` with the new code.
    """
    with transaction.atomic():
        plate = issue_container_plate()
        container.plate_code = plate.code
        container.plate_key_id = plate.key_id
        container.plate_signature = plate.signature
        container.save(
            update_fields=[
                "plate_code",
                "plate_key_id",
                "plate_signature",
                "updated_at",
            ]
        )
        journal.append(
            "waste.container.saved",
            container_state(container),
            actor=actor_label(actor),
        )
    logger.info(
        "reissued plate of container %s",
        container.pk,
        extra={"container_id": container.pk},
    )
    return container


# Vehicles --------------------------------------------------------------------


@dataclass(frozen=True)
class VehicleInput:
    """A vehicle as typed in a form or written by the demo."""

    plate_number: str
    kind: str
    capacity_kg: Any
    capacity_m3: Any
    depot_id: Any
    status: str = Vehicle.Status.PARKED
    active: Any = True


def vehicle_state(vehicle: Vehicle) -> dict[str, Any]:
    """Return the journalled view of a vehicle."""
    return VehicleSaved(
        vehicle_id=vehicle.pk,
        plate_number=vehicle.plate_number,
        kind=vehicle.kind,
        capacity_kg=vehicle.capacity_kg,
        capacity_m3=f"{Decimal(vehicle.capacity_m3):.2f}",
        depot_id=vehicle.depot_id,
        status=vehicle.status,
        active=vehicle.active,
    ).model_dump()


def normalize_number_plate(value: Any) -> str | None:
    """Return "BA 1234 XY" for a typed Indonesian number plate, or None."""
    compact = " ".join(str(value or "").upper().split())
    match = NUMBER_PLATE.match(compact.replace(" ", "")) or NUMBER_PLATE.match(compact)
    if match is None:
        return None
    return " ".join(part for part in match.groups() if part)


def _clean_vehicle(data: VehicleInput, vehicle: Vehicle | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    plate_number = normalize_number_plate(data.plate_number)
    if plate_number is None:
        errors.append(
            FieldError(
                "plate_number",
                _("Enter the number plate as printed, such as BA 8123 PP."),
            )
        )
    elif (
        Vehicle.objects.filter(plate_number=plate_number)
        .exclude(pk=vehicle.pk if vehicle is not None else 0)
        .exists()
    ):
        errors.append(
            FieldError(
                "plate_number", _("Another vehicle already has this number plate.")
            )
        )
    depot = (
        Site.objects.filter(pk=data.depot_id, kind=Site.Kind.DEPOT, active=True).first()
        if str(data.depot_id or "").isdecimal()
        else None
    )
    if depot is None:
        errors.append(
            FieldError(
                "depot_id", _("Choose the active depot this vehicle starts from.")
            )
        )
    values: dict[str, Any] = {
        "plate_number": plate_number,
        "kind": fields.choice(data.kind, "kind", Vehicle.Kind, errors),
        "capacity_kg": fields.whole_number(
            data.capacity_kg, "capacity_kg", 1, MAX_VEHICLE_LOAD_KG, errors
        ),
        "capacity_m3": fields.decimal_number(
            data.capacity_m3,
            "capacity_m3",
            Decimal("0.1"),
            MAX_VEHICLE_VOLUME_M3,
            2,
            errors,
        ),
        "depot": depot,
        "status": fields.choice(data.status, "status", Vehicle.Status, errors),
        "active": _active(data.active),
    }
    if errors:
        raise PlacesInvalid(errors)
    return values


def save_vehicle(
    data: VehicleInput, vehicle: Vehicle | None = None, *, actor: Any = None
) -> Vehicle:
    """Create a vehicle, or change `vehicle`, and journal `waste.vehicle.saved`.

    A change of status goes through `_sync_breakdown_alert` as in
    `set_vehicle_status`.
    """
    values = _clean_vehicle(data, vehicle)
    with transaction.atomic():
        vehicle = vehicle or Vehicle()
        for name, value in values.items():
            setattr(vehicle, name, value)
        try:
            with transaction.atomic():
                vehicle.save()
        except IntegrityError:
            raise PlacesInvalid(
                [
                    FieldError(
                        "plate_number",
                        _("Another vehicle already has this number plate."),
                    )
                ]
            ) from None
        _sync_breakdown_alert(vehicle)
        journal.append(
            "waste.vehicle.saved", vehicle_state(vehicle), actor=actor_label(actor)
        )
    logger.info("saved vehicle %s", vehicle.pk, extra={"vehicle_id": vehicle.pk})
    return vehicle


def set_vehicle_status(vehicle: Vehicle, status: str, *, actor: Any = None) -> Vehicle:
    """Set a vehicle's status, such as broken, and journal the vehicle.

    Marking a vehicle broken opens a `vehicle_broken` alert (the planner's
    re-plan reads the status); any other status clears that alert.
    """
    errors: list[FieldError] = []
    fields.choice(status, "status", Vehicle.Status, errors)
    if errors:
        raise PlacesInvalid(errors)
    with transaction.atomic():
        vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        vehicle.status = status
        vehicle.save(update_fields=["status", "updated_at"])
        _sync_breakdown_alert(vehicle)
        journal.append(
            "waste.vehicle.saved", vehicle_state(vehicle), actor=actor_label(actor)
        )
    logger.info(
        "vehicle %s status set to %s",
        vehicle.pk,
        status,
        extra={"vehicle_id": vehicle.pk},
    )
    return vehicle


def _sync_breakdown_alert(vehicle: Vehicle) -> None:
    open_alerts = Alert.objects.filter(
        kind=Alert.Kind.VEHICLE_BROKEN, vehicle=vehicle, cleared_at__isnull=True
    )
    if vehicle.status == Vehicle.Status.BROKEN:
        if not open_alerts.exists():
            Alert.objects.create(
                kind=Alert.Kind.VEHICLE_BROKEN,
                vehicle=vehicle,
                details={"plate_number": vehicle.plate_number},
            )
    else:
        open_alerts.update(cleared_at=timezone.now())
