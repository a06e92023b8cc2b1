"""The registry's write paths: every change is validated here and journalled.

Callers (pages, the API, the importer, the demo) pass plain values; each
function checks them all and raises `RegistryInvalid` with one `FieldError`
per problem (field name and a translated message saying how to fix it), or
writes the rows and appends one journal event per fact in the same
transaction. Nothing here logs or journals personal data.
"""

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import rfc8785
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area, NeighbourhoodUnit
from kotacerdas.city.services import get_or_create_unit
from kotacerdas.journal import services as journal
from kotacerdas.registry import pii
from kotacerdas.registry.codes import (
    InvalidCode,
    clean_kk,
    clean_nik,
    mask_number,
    new_plate_code,
)
from kotacerdas.registry.events import (
    BuildingChanged,
    BuildingRegistered,
    HouseholdMoved,
    HouseholdRegistered,
    HouseholdRetired,
    MemberAdded,
    MemberChanged,
    MemberRemoved,
    PlateInstalled,
    PlateIssued,
    PlateRevoked,
)
from kotacerdas.registry.geometry import place_point
from kotacerdas.registry.levy import levy_class_for, plate_prefix
from kotacerdas.registry.models import Building, Household, Member, Plate, Residence
from kotacerdas.registry.plates import sign_plate

logger = logging.getLogger(__name__)

MAX_FLOORS = 100
MAX_FLOOR_AREA_M2 = 1_000_000
MAX_PLN_VA = 5_000_000
REVOKE_REASONS = ("damaged", "lost", "copied", "demolished", "reissued", "other")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class RegistryInvalid(ValueError):
    """Input failed validation; `errors` names each field and the fix."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def actor_label(user: Any) -> str | None:
    return f"user:{user.pk}" if user is not None and getattr(user, "pk", None) else None


def details_hash(salt: bytes | memoryview, details: Mapping[str, Any]) -> str:
    """SHA-256 over a row's salt and the canonical JSON of its personal fields."""
    return hashlib.sha256(bytes(salt) + rfc8785.dumps(dict(details))).hexdigest()


# Buildings -----------------------------------------------------------------


@dataclass(frozen=True)
class BuildingInput:
    """A building as typed in a form, an import row or an API body."""

    kelurahan_code: str
    rw: str | int
    rt: str | int
    street_address: str
    use: str
    lat: Any = None
    lng: Any = None
    floors: Any = 1
    floor_area_m2: Any = None
    pln_va: Any = None
    status: str = Building.Status.ACTIVE
    external_ref: str = ""


@dataclass
class CleanBuilding:
    kelurahan: Area
    rw: str
    rt: str
    street_address: str
    use: str
    lat: Decimal | None
    lng: Decimal | None
    floors: int
    floor_area_m2: int | None
    pln_va: int | None
    status: str
    external_ref: str
    warnings: list[FieldError] = field(default_factory=list)


def _int_or_error(
    value: Any, name: str, low: int, high: int, errors: list[FieldError], required: bool
) -> int | None:
    if value in (None, ""):
        if required:
            errors.append(FieldError(name, _("This field is required.")))
        return None
    number = _whole_number(value)
    if number is None:
        errors.append(FieldError(name, _("Enter a whole number, such as 1300.")))
        return None
    if not low <= number <= high:
        errors.append(
            FieldError(
                name,
                _("Enter a number from %(low)s to %(high)s.")
                % {"low": low, "high": high},
            )
        )
        return None
    return number


THOUSANDS = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def _whole_number(value: Any) -> int | None:
    """Read 1300, "1300", "1.300" or "1,300" (thousands) and 1300.0 from Excel.

    A decimal fraction such as "12.5" is not a whole number and returns None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if THOUSANDS.match(text):
        return int(re.sub(r"[.,]", "", text))
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _coordinate(
    value: Any, name: str, limit: int, example: str, errors: list[FieldError]
) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        errors.append(
            FieldError(
                name,
                _("Enter a decimal number, such as %(example)s.")
                % {"example": example},
            )
        )
        return None
    if not number.is_finite() or abs(number) > limit:
        errors.append(
            FieldError(
                name,
                _("Enter a number from -%(limit)s to %(limit)s.") % {"limit": limit},
            )
        )
        return None
    return number.quantize(Decimal("0.000001"))


def _labels(choices: Any) -> str:
    """Join the translated labels of a choices class for a "choose one of" message."""
    return ", ".join(str(label) for label in choices.labels)


def _unit_number(value: Any, name: str, errors: list[FieldError]) -> str:
    text = str(value if value is not None else "").strip()
    if not text.isdecimal() or not 1 <= int(text) <= 999:
        errors.append(
            FieldError(name, _("Enter a number from 1 to 999, such as 3 or 003."))
        )
        return ""
    return text.zfill(3)


def clean_building(
    data: BuildingInput, *, areas: Mapping[str, Area] | None = None
) -> CleanBuilding:
    """Check every field of a building; raise RegistryInvalid listing all problems.

    Bulk callers pass `areas` (dotted code to Area) to spare a query per row;
    a code missing from it is looked up as usual.
    """
    errors: list[FieldError] = []
    kelurahan = _kelurahan(data.kelurahan_code, errors, areas or {})
    rw = _unit_number(data.rw, "rw", errors)
    rt = _unit_number(data.rt, "rt", errors)
    address = " ".join(str(data.street_address or "").split())
    if not address:
        errors.append(
            FieldError(
                "street_address",
                _("Enter the street address, such as Jl. Sudirman No. 12."),
            )
        )
    elif len(address) > 200:
        errors.append(
            FieldError(
                "street_address", _("Shorten the address to 200 characters or fewer.")
            )
        )
    if data.use not in Building.Use.values:
        errors.append(
            FieldError(
                "use",
                _("Choose one of: %(choices)s.") % {"choices": _labels(Building.Use)},
            )
        )
    if data.status not in Building.Status.values:
        errors.append(
            FieldError(
                "status",
                _("Choose one of: %(choices)s.")
                % {"choices": _labels(Building.Status)},
            )
        )
    lat = _coordinate(data.lat, "lat", 90, "-0.4725", errors)
    lng = _coordinate(data.lng, "lng", 180, "100.4023", errors)
    if (lat is None) != (lng is None) and not any(
        e.field in ("lat", "lng") for e in errors
    ):
        errors.append(
            FieldError(
                "lng" if lng is None else "lat",
                _("Enter both latitude and longitude, or neither."),
            )
        )
    floors = _int_or_error(data.floors, "floors", 1, MAX_FLOORS, errors, required=True)
    area = _int_or_error(
        data.floor_area_m2,
        "floor_area_m2",
        1,
        MAX_FLOOR_AREA_M2,
        errors,
        required=False,
    )
    va = _int_or_error(data.pln_va, "pln_va", 1, MAX_PLN_VA, errors, required=False)
    external_ref = str(data.external_ref or "").strip()
    if len(external_ref) > 60:
        errors.append(
            FieldError(
                "external_ref", _("Shorten the reference to 60 characters or fewer.")
            )
        )
    in_kelurahan = True
    if kelurahan is not None and lat is not None and lng is not None:
        in_city, in_kelurahan = place_point(kelurahan, lat, lng)
        if not in_city:
            errors.append(
                FieldError(
                    "lat",
                    _(
                        "This point is outside %(city)s; check the latitude and "
                        "longitude (the city centre is -0.4725, 100.4023)."
                    )
                    % {"city": kelurahan.city.name},
                )
            )
    if errors:
        raise RegistryInvalid(errors)
    assert kelurahan is not None and floors is not None
    clean = CleanBuilding(
        kelurahan,
        rw,
        rt,
        address,
        data.use,
        lat,
        lng,
        floors,
        area,
        va,
        data.status,
        external_ref,
    )
    if not in_kelurahan:
        clean.warnings.append(
            FieldError(
                "lat",
                _(
                    "This point lies outside Kelurahan %(name)s on the map; "
                    "check the location or the kelurahan."
                )
                % {"name": kelurahan.name},
            )
        )
    if data.use == Building.Use.HOUSE and va is None:
        clean.warnings.append(
            FieldError(
                "pln_va",
                _(
                    "Enter the PLN connection (VA) from the electricity meter: "
                    "without it the household levy class cannot be set."
                ),
            )
        )
    return clean


def _kelurahan(
    code: str, errors: list[FieldError], areas: Mapping[str, Area]
) -> Area | None:
    try:
        dotted = normalize_code(str(code or ""))
        area = areas.get(dotted) or Area.objects.get(code=dotted)
    except (InvalidAreaCode, Area.DoesNotExist):
        errors.append(
            FieldError(
                "kelurahan_code",
                _("Enter a kelurahan code of this city, such as 13.74.02.1002."),
            )
        )
        return None
    if area.level == Area.Level.KECAMATAN:
        errors.append(
            FieldError(
                "kelurahan_code",
                _("This is a kecamatan code; enter the kelurahan code."),
            )
        )
        return None
    return area


def _building_details(building: Building) -> dict[str, Any]:
    return {
        "street_address": building.street_address,
        "lat": None if building.lat is None else f"{Decimal(building.lat):.6f}",
        "lng": None if building.lng is None else f"{Decimal(building.lng):.6f}",
    }


def building_state(building: Building) -> dict[str, Any]:
    """Return the journalled view of a building: codes and a hash of the rest."""
    return {
        "building_id": building.pk,
        "plate_code": building.plate_code,
        "kelurahan_code": building.kelurahan.code,
        "rw": building.unit.rw,
        "rt": building.unit.rt,
        "use": building.use,
        "floors": building.floors,
        "floor_area_m2": building.floor_area_m2,
        "pln_va": building.pln_va,
        "levy_class": building.levy_class,
        "status": building.status,
        "details_hash": details_hash(
            building.details_salt, _building_details(building)
        ),
    }


def new_building(
    clean: CleanBuilding, unit: NeighbourhoodUnit, plate_code: str, levy_class: str
) -> Building:
    """Return an unsaved building row for validated values, with a fresh salt."""
    return Building(
        plate_code=plate_code,
        kelurahan=clean.kelurahan,
        unit=unit,
        street_address=clean.street_address,
        lat=clean.lat,
        lng=clean.lng,
        use=clean.use,
        floors=clean.floors,
        floor_area_m2=clean.floor_area_m2,
        pln_va=clean.pln_va,
        levy_class=levy_class,
        status=clean.status,
        external_ref=clean.external_ref,
        details_salt=secrets.token_bytes(16),
    )


def register_building(data: BuildingInput, *, actor: Any = None) -> Building:
    """Validate and store a new building with its first plate; journal both."""
    clean = clean_building(data)
    with transaction.atomic():
        unit = get_or_create_unit(clean.kelurahan, clean.rw, clean.rt)
        levy = levy_class_for(clean.use, clean.pln_va, clean.kelurahan.city)
        building = new_building(
            clean, unit, _unused_plate_code(), levy.code if levy else ""
        )
        try:
            with transaction.atomic():
                building.save()
        except IntegrityError:
            raise RegistryInvalid(
                [
                    FieldError(
                        "external_ref",
                        _("Another building already has this reference."),
                    )
                ]
            ) from None
        journal.append(
            "registry.building.registered",
            BuildingRegistered(**building_state(building)),
            actor=actor_label(actor),
        )
        _issue(building, building.plate_code, actor)
    logger.info(
        "registered building %s", building.pk, extra={"building_id": building.pk}
    )
    return building


def _unused_plate_code() -> str:
    prefix = plate_prefix()
    while True:
        code = new_plate_code(prefix)
        if not Plate.objects.filter(code=code).exists():
            return code


BUILDING_FIELDS = (
    "kelurahan_code", "rw", "rt", "street_address", "use", "lat", "lng",
    "floors", "floor_area_m2", "pln_va", "status", "external_ref",
)  # fmt: skip


def building_input(building: Building) -> BuildingInput:
    """Return the current values of a building as input, to apply changes to."""
    return BuildingInput(
        kelurahan_code=building.kelurahan.code,
        rw=building.unit.rw,
        rt=building.unit.rt,
        street_address=building.street_address,
        use=building.use,
        lat=building.lat,
        lng=building.lng,
        floors=building.floors,
        floor_area_m2=building.floor_area_m2,
        pln_va=building.pln_va,
        status=building.status,
        external_ref=building.external_ref,
    )


def change_building(
    building: Building, changes: Mapping[str, Any], *, actor: Any = None
) -> Building:
    """Apply changed fields to a building; a demolished building loses its plate.

    Returns the building unchanged (and journals nothing) when no value differs.
    """
    unknown = set(changes) - set(BUILDING_FIELDS)
    if unknown:
        raise RegistryInvalid(
            [
                FieldError(name, _("This field cannot be changed."))
                for name in sorted(unknown)
            ]
        )
    with transaction.atomic():
        locked = (
            Building.objects.select_for_update()
            .select_related("kelurahan", "unit")
            .get(pk=building.pk)
        )
        before = building_state(locked)
        clean = clean_building(replace(building_input(locked), **changes))
        if (
            clean.status != Building.Status.DEMOLISHED
            and locked.status == Building.Status.DEMOLISHED
        ):
            raise RegistryInvalid(
                [
                    FieldError(
                        "status",
                        _(
                            "A demolished building cannot be brought back; register a new building."
                        ),
                    )
                ]
            )
        if (
            clean.status == Building.Status.DEMOLISHED
            and locked.households.filter(status=Household.Status.ACTIVE).exists()
        ):
            raise RegistryInvalid(
                [
                    FieldError(
                        "status",
                        _(
                            "Move or retire this building's households before marking it demolished."
                        ),
                    )
                ]
            )
        locked.kelurahan = clean.kelurahan
        locked.unit = get_or_create_unit(clean.kelurahan, clean.rw, clean.rt)
        for name in (
            "street_address",
            "lat",
            "lng",
            "use",
            "floors",
            "floor_area_m2",
            "pln_va",
            "status",
            "external_ref",
        ):
            setattr(locked, name, getattr(clean, name))
        levy = levy_class_for(clean.use, clean.pln_va, clean.kelurahan.city)
        locked.levy_class = levy.code if levy else ""
        after = building_state(locked)
        changed = sorted(name for name in after if after[name] != before[name])
        if locked.external_ref != building.external_ref:
            changed.append("external_ref")
        if not changed:
            return locked
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise RegistryInvalid(
                [
                    FieldError(
                        "external_ref",
                        _("Another building already has this reference."),
                    )
                ]
            ) from None
        journal.append(
            "registry.building.changed",
            BuildingChanged(
                **after, changed_fields=[name for name in changed if name in after]
            ),
            actor=actor_label(actor),
        )
        if locked.status == Building.Status.DEMOLISHED:
            for plate in locked.plates.exclude(status=Plate.Status.REVOKED):
                _revoke(plate, "demolished", "", actor)
    return locked


# Plates --------------------------------------------------------------------


def _issue(building: Building, code: str, actor: Any) -> Plate:
    signed = sign_plate(code)
    plate = Plate.objects.create(
        code=code, building=building, key_id=signed.key_id, signature=signed.signature
    )
    journal.append(
        "registry.plate.issued",
        PlateIssued(
            plate_id=plate.pk,
            building_id=building.pk,
            plate_code=code,
            key_id=signed.key_id,
        ),
        actor=actor_label(actor),
    )
    return plate


def current_plate(building: Building) -> Plate | None:
    return building.plates.exclude(status=Plate.Status.REVOKED).first()


def reissue_plate(
    building: Building, reason: str, note: str = "", *, actor: Any = None
) -> Plate:
    """Revoke the building's live plate (if any) and issue one with a new code."""
    _check_reason(reason)
    with transaction.atomic():
        locked = (
            Building.objects.select_for_update()
            .select_related("kelurahan", "unit")
            .get(pk=building.pk)
        )
        if locked.status == Building.Status.DEMOLISHED:
            raise RegistryInvalid(
                [FieldError("status", _("A demolished building gets no new plate."))]
            )
        for plate in locked.plates.exclude(status=Plate.Status.REVOKED):
            _revoke(plate, reason, note, actor)
        locked.plate_code = _unused_plate_code()
        locked.save(update_fields=["plate_code", "updated_at"])
        journal.append(
            "registry.building.changed",
            BuildingChanged(**building_state(locked), changed_fields=["plate_code"]),
            actor=actor_label(actor),
        )
        plate = _issue(locked, locked.plate_code, actor)
    return plate


def revoke_plate(
    plate: Plate, reason: str, note: str = "", *, actor: Any = None
) -> Plate:
    """Revoke a plate without a replacement (the building keeps its code on record)."""
    _check_reason(reason)
    with transaction.atomic():
        locked = Plate.objects.select_for_update().get(pk=plate.pk)
        if locked.status == Plate.Status.REVOKED:
            return locked
        _revoke(locked, reason, note, actor)
    return locked


def _check_reason(reason: str) -> None:
    if reason not in REVOKE_REASONS:
        raise RegistryInvalid(
            [
                FieldError(
                    "reason",
                    _("Choose one of: %(choices)s.")
                    % {"choices": ", ".join(REVOKE_REASONS)},
                )
            ]
        )


def _revoke(plate: Plate, reason: str, note: str, actor: Any) -> None:
    """Revoke inside the caller's transaction; the free-text note stays off the journal."""
    plate.status = Plate.Status.REVOKED
    plate.revoked_at = timezone.now()
    plate.revoke_reason = f"{reason}: {note}".strip(": ")[:200]
    plate.save(update_fields=["status", "revoked_at", "revoke_reason"])
    journal.append(
        "registry.plate.revoked",
        PlateRevoked(plate_id=plate.pk, plate_code=plate.code, reason=reason),
        actor=actor_label(actor),
    )


def mark_plates_printed(plates: Iterable[Plate]) -> None:
    """Record when plates were last printed (not a journalled fact)."""
    Plate.objects.filter(pk__in=[p.pk for p in plates]).update(
        printed_at=timezone.now()
    )


def install_plate(plate: Plate, *, actor: Any = None) -> Plate:
    """Record that a plate was fixed to its building (idempotent)."""
    with transaction.atomic():
        locked = Plate.objects.select_for_update().get(pk=plate.pk)
        if locked.status != Plate.Status.ISSUED:
            return locked
        locked.status = Plate.Status.INSTALLED
        locked.installed_at = timezone.now()
        locked.save(update_fields=["status", "installed_at"])
        journal.append(
            "registry.plate.installed",
            PlateInstalled(plate_id=locked.pk, plate_code=locked.code),
            actor=actor_label(actor),
        )
    return locked


# Households and members ------------------------------------------------------


@dataclass(frozen=True)
class MemberInput:
    full_name: str
    nik: str
    relation: str
    phone: str = ""


@dataclass
class CleanMember:
    full_name: str
    nik: str
    sex: str
    birth_date: Any
    relation: str
    phone: str
    warnings: list[FieldError] = field(default_factory=list)


def clean_member(data: MemberInput, prefix: str = "") -> CleanMember:
    errors: list[FieldError] = []
    name = " ".join(str(data.full_name or "").split())
    if not name:
        errors.append(
            FieldError(
                prefix + "full_name", _("Enter the full name as written on the KK.")
            )
        )
    elif len(name) > 120:
        errors.append(
            FieldError(
                prefix + "full_name", _("Shorten the name to 120 characters or fewer.")
            )
        )
    info = None
    try:
        info = clean_nik(str(data.nik or ""))
    except InvalidCode as error:
        errors.append(FieldError(prefix + "nik", error.message))
    if data.relation not in Member.Relation.values:
        errors.append(
            FieldError(
                prefix + "relation",
                _("Choose one of: %(choices)s.")
                % {"choices": _labels(Member.Relation)},
            )
        )
    phone = "".join(ch for ch in str(data.phone or "") if ch.isdigit() or ch == "+")
    if phone and not (8 <= len(phone.lstrip("+")) <= 15):
        errors.append(
            FieldError(
                prefix + "phone",
                _("Enter a phone number of 8 to 15 digits, such as 081234567890."),
            )
        )
    if errors:
        raise RegistryInvalid(errors)
    assert info is not None
    clean = CleanMember(name, info.nik, info.sex, info.birth_date, data.relation, phone)
    if not info.region_known:
        clean.warnings.append(
            FieldError(
                prefix + "nik",
                _(
                    "The region code of this NIK is not in the current list; it was kept as typed."
                ),
            )
        )
    return clean


def _member_details(member: Member, nik: str) -> dict[str, Any]:
    return {
        "full_name": member.full_name,
        "nik": nik,
        "phone": member.phone,
        "sex": member.sex,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
    }


def member_state(member: Member, nik: str | None = None) -> dict[str, Any]:
    """The journalled view of a member; bulk writers pass the NIK they hold."""
    if nik is None:
        nik = pii.open_sealed(member.nik_sealed, "member.nik")
    return {
        "member_id": member.pk,
        "household_id": member.household_id,
        "relation": member.relation,
        "status": member.status,
        "details_hash": details_hash(member.details_salt, _member_details(member, nik)),
    }


def household_state(household: Household, kk: str | None = None) -> dict[str, Any]:
    """The journalled view of a household; bulk writers pass the KK they hold."""
    if kk is None:
        kk = pii.open_sealed(household.kk_sealed, "household.kk")
    return {
        "household_id": household.pk,
        "building_id": household.building_id,
        "status": household.status,
        "details_hash": details_hash(household.details_salt, {"kk_number": kk}),
    }


def register_household(
    building: Building, kk_number: str, members: list[MemberInput], *, actor: Any = None
) -> Household:
    """Store a KK with its members in a building; exactly one member is the head."""
    errors: list[FieldError] = []
    kk = ""
    try:
        kk = clean_kk(kk_number)
    except InvalidCode as error:
        errors.append(FieldError("kk_number", error.message))
    cleaned: list[tuple[int, CleanMember]] = []
    for position, member in enumerate(members):
        try:
            cleaned.append(
                (position, clean_member(member, prefix=f"members.{position}."))
            )
        except RegistryInvalid as error:
            errors.extend(error.errors)
    heads = sum(1 for m in members if m.relation == Member.Relation.HEAD)
    if heads != 1:
        errors.append(
            FieldError("members", _("Mark exactly one member as head of household."))
        )
    niks = [clean.nik for _position, clean in cleaned]
    if len(set(niks)) != len(niks):
        errors.append(FieldError("members", _("The same NIK is entered twice.")))
    if kk and Household.objects.filter(kk_index=pii.blind_index(kk, "kk")).exists():
        errors.append(
            FieldError(
                "kk_number",
                _("This KK number is already registered; open that household instead."),
            )
        )
    for position, clean in cleaned:
        if Member.objects.filter(nik_index=pii.blind_index(clean.nik, "nik")).exists():
            errors.append(
                FieldError(
                    f"members.{position}.nik",
                    _("This NIK is already registered in another household."),
                )
            )
    if building.status == Building.Status.DEMOLISHED:
        errors.append(
            FieldError("building", _("A demolished building cannot take households."))
        )
    if errors:
        raise RegistryInvalid(errors)
    with transaction.atomic():
        household = Household.objects.create(
            kk_sealed=pii.seal(kk, "household.kk"),
            kk_index=pii.blind_index(kk, "kk"),
            building=building,
            details_salt=secrets.token_bytes(16),
        )
        Residence.objects.create(
            household=household, building=building, moved_in=timezone.now()
        )
        journal.append(
            "registry.household.registered",
            HouseholdRegistered(**household_state(household)),
            actor=actor_label(actor),
        )
        for _position, clean in cleaned:
            _create_member(household, clean, actor)
    return household


def _create_member(household: Household, clean: CleanMember, actor: Any) -> Member:
    member = Member.objects.create(
        household=household,
        full_name=clean.full_name,
        nik_sealed=pii.seal(clean.nik, "member.nik"),
        nik_index=pii.blind_index(clean.nik, "nik"),
        sex=clean.sex,
        birth_date=clean.birth_date,
        phone=clean.phone,
        relation=clean.relation,
        details_salt=secrets.token_bytes(16),
    )
    journal.append(
        "registry.member.added",
        MemberAdded(**member_state(member)),
        actor=actor_label(actor),
    )
    return member


def add_member(household: Household, data: MemberInput, *, actor: Any = None) -> Member:
    clean = clean_member(data)
    errors = []
    if Member.objects.filter(nik_index=pii.blind_index(clean.nik, "nik")).exists():
        errors.append(
            FieldError("nik", _("This NIK is already registered in another household."))
        )
    if clean.relation == Member.Relation.HEAD and household.head is not None:
        errors.append(
            FieldError(
                "relation",
                _("This household already has a head; change that member first."),
            )
        )
    if household.status != Household.Status.ACTIVE:
        errors.append(FieldError("household", _("This household is retired.")))
    if errors:
        raise RegistryInvalid(errors)
    with transaction.atomic():
        return _create_member(household, clean, actor)


def change_member(
    member: Member, changes: Mapping[str, Any], *, actor: Any = None
) -> Member:
    """Change a member's name, NIK, phone or relation; journals the changed fields."""
    allowed = {f.name for f in fields(MemberInput)}
    unknown = set(changes) - allowed
    if unknown:
        raise RegistryInvalid(
            [
                FieldError(name, _("This field cannot be changed."))
                for name in sorted(unknown)
            ]
        )
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        current = MemberInput(
            locked.full_name,
            pii.open_sealed(locked.nik_sealed, "member.nik"),
            locked.relation,
            locked.phone,
        )
        clean = clean_member(replace(current, **changes))
        if (
            clean.nik != current.nik
            and Member.objects.filter(nik_index=pii.blind_index(clean.nik, "nik"))
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise RegistryInvalid(
                [
                    FieldError(
                        "nik", _("This NIK is already registered in another household.")
                    )
                ]
            )
        if (
            clean.relation == Member.Relation.HEAD
            and current.relation != Member.Relation.HEAD
            and locked.household.head is not None
        ):
            raise RegistryInvalid(
                [
                    FieldError(
                        "relation",
                        _(
                            "This household already has a head; change that member first."
                        ),
                    )
                ]
            )
        changed = sorted(
            name
            for name in ("full_name", "nik", "relation", "phone")
            if getattr(clean, name) != getattr(current, name)
        )
        if not changed:
            return locked
        locked.full_name, locked.relation, locked.phone = (
            clean.full_name,
            clean.relation,
            clean.phone,
        )
        locked.sex, locked.birth_date = clean.sex, clean.birth_date
        locked.nik_sealed = pii.seal(clean.nik, "member.nik")
        locked.nik_index = pii.blind_index(clean.nik, "nik")
        locked.save()
        journal.append(
            "registry.member.changed",
            MemberChanged(**member_state(locked), changed_fields=changed),
            actor=actor_label(actor),
        )
    return locked


def remove_member(member: Member, *, actor: Any = None) -> Member:
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status == Member.Status.REMOVED:
            return locked
        locked.status = Member.Status.REMOVED
        locked.save(update_fields=["status", "updated_at"])
        journal.append(
            "registry.member.removed",
            MemberRemoved(**member_state(locked)),
            actor=actor_label(actor),
        )
    return locked


def move_household(
    household: Household, to_building: Building, *, actor: Any = None
) -> Household:
    """Move a household to another building, closing its current residence."""
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.status != Household.Status.ACTIVE:
            raise RegistryInvalid(
                [FieldError("household", _("This household is retired."))]
            )
        if to_building.status == Building.Status.DEMOLISHED:
            raise RegistryInvalid(
                [
                    FieldError(
                        "building", _("A demolished building cannot take households.")
                    )
                ]
            )
        if to_building.pk == locked.building_id:
            raise RegistryInvalid(
                [
                    FieldError(
                        "building", _("The household already lives in this building.")
                    )
                ]
            )
        now = timezone.now()
        from_id = locked.building_id
        locked.residences.filter(moved_out__isnull=True).update(moved_out=now)
        Residence.objects.create(household=locked, building=to_building, moved_in=now)
        locked.building = to_building
        locked.save(update_fields=["building", "updated_at"])
        journal.append(
            "registry.household.moved",
            HouseholdMoved(**household_state(locked), from_building_id=from_id),
            actor=actor_label(actor),
        )
    return locked


def retire_household(household: Household, *, actor: Any = None) -> Household:
    """Close a KK (split, merged or left the city); its members are removed too."""
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.status == Household.Status.RETIRED:
            return locked
        for member in locked.members.filter(status=Member.Status.ACTIVE):
            remove_member(member, actor=actor)
        locked.residences.filter(moved_out__isnull=True).update(
            moved_out=timezone.now()
        )
        locked.status = Household.Status.RETIRED
        locked.save(update_fields=["status", "updated_at"])
        journal.append(
            "registry.household.retired",
            HouseholdRetired(**household_state(locked)),
            actor=actor_label(actor),
        )
    return locked


# Reading identity numbers ------------------------------------------------------


def find_member_by_nik(nik: str) -> Member | None:
    try:
        digits = clean_nik(nik).nik
    except InvalidCode:
        return None
    return Member.objects.filter(nik_index=pii.blind_index(digits, "nik")).first()


def find_household_by_kk(kk_number: str) -> Household | None:
    try:
        digits = clean_kk(kk_number)
    except InvalidCode:
        return None
    return Household.objects.filter(kk_index=pii.blind_index(digits, "kk")).first()


def member_nik(member: Member, *, unmasked: bool) -> str:
    nik = pii.open_sealed(member.nik_sealed, "member.nik")
    return nik if unmasked else mask_number(nik)


def household_kk(household: Household, *, unmasked: bool) -> str:
    kk = pii.open_sealed(household.kk_sealed, "household.kk")
    return kk if unmasked else mask_number(kk)


def can_see_identity_numbers(user: Any) -> bool:
    return bool(user.has_perm("registry.view_identity_numbers"))


# Accounts ----------------------------------------------------------------------


def link_member_user(member: Member, user: Any, *, actor: Any = None) -> Member:
    """Let a user account act as this member, or unlink it with `user=None`.

    The member's journalled state does not include the account, so this
    records no journal event; the link decides only what that citizen may
    see. Raises RegistryInvalid when the account already belongs to another
    member.
    """
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if (
            user is not None
            and Member.objects.filter(user=user).exclude(pk=locked.pk).exists()
        ):
            raise RegistryInvalid(
                [
                    FieldError(
                        "user",
                        _(
                            "This account is already linked to another household member."
                        ),
                    )
                ]
            )
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
    logger.info(
        "linked member %s to user %s",
        locked.pk,
        getattr(user, "pk", None),
        extra={"member_id": locked.pk, "actor": actor_label(actor)},
    )
    return locked
