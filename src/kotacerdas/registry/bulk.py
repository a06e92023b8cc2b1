"""Registering many buildings and households at once: imports and the demo city.

The same checks and the same journal events as `registry.services`, written
in batches: rows are validated first, then inserted with `bulk_create` and
journalled with one `journal.append_many` per batch, all in the caller's
transaction. Callers that want every row or none wrap the call in one
transaction; the importer commits batch by batch to show progress.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from kotacerdas.city.models import Area, NeighbourhoodUnit
from kotacerdas.city.services import get_or_create_unit
from kotacerdas.journal import services as journal
from kotacerdas.journal.events import EventSchema
from kotacerdas.registry import pii
from kotacerdas.registry.codes import new_plate_code
from kotacerdas.registry.events import (
    BuildingRegistered,
    HouseholdRegistered,
    MemberAdded,
    PlateIssued,
)
from kotacerdas.registry.levy import levy_classes, plate_prefix
from kotacerdas.registry.models import Building, Household, Member, Plate, Residence
from kotacerdas.registry.plates import sign_plate
from kotacerdas.registry.services import (
    BuildingInput,
    CleanBuilding,
    CleanMember,
    actor_label,
    building_state,
    clean_building,
    household_state,
    member_state,
    new_building,
)


class _UnitCache:
    """RT units by (kelurahan id, RW, RT), loaded in one query, created when missing."""

    def __init__(self, kelurahan_ids: set[int]) -> None:
        self.units: dict[tuple[int, str, str], NeighbourhoodUnit] = {
            (unit.kelurahan_id, unit.rw, unit.rt): unit
            for unit in NeighbourhoodUnit.objects.filter(kelurahan__in=kelurahan_ids)
        }

    def get(self, kelurahan: Area, rw: str, rt: str) -> NeighbourhoodUnit:
        key = (kelurahan.pk, rw, rt)
        if key not in self.units:
            self.units[key] = get_or_create_unit(kelurahan, rw, rt)
        return self.units[key]


def clean_buildings(rows: Sequence[BuildingInput]) -> list[CleanBuilding]:
    """Validate rows (raises RegistryInvalid on the first bad row)."""
    return [clean_building(row) for row in rows]


def register_buildings(
    cleaned: Sequence[CleanBuilding], *, actor: Any = None
) -> list[Building]:
    """Store validated buildings with their plates and journal them, in order."""
    if not cleaned:
        return []
    with transaction.atomic():
        units = _UnitCache({clean.kelurahan.pk for clean in cleaned})
        classes = levy_classes()
        prefix = plate_prefix()
        codes = _fresh_codes(prefix, len(cleaned))
        buildings = []
        for clean, code in zip(cleaned, codes, strict=True):
            levy = next(
                (c for c in classes if c.matches(clean.use, clean.pln_va)), None
            )
            buildings.append(
                new_building(
                    clean,
                    units.get(clean.kelurahan, clean.rw, clean.rt),
                    code,
                    levy.code if levy else "",
                )
            )
        Building.objects.bulk_create(buildings, batch_size=1000)
        plates = []
        for building in buildings:
            signed = sign_plate(building.plate_code)
            plates.append(
                Plate(
                    code=building.plate_code,
                    building=building,
                    key_id=signed.key_id,
                    signature=signed.signature,
                )
            )
        Plate.objects.bulk_create(plates, batch_size=1000)
        events: list[tuple[str, EventSchema]] = []
        for building, plate in zip(buildings, plates, strict=True):
            events.append(
                (
                    "registry.building.registered",
                    BuildingRegistered(**building_state(building)),
                )
            )
            events.append(
                (
                    "registry.plate.issued",
                    PlateIssued(
                        plate_id=plate.pk,
                        building_id=building.pk,
                        plate_code=plate.code,
                        key_id=plate.key_id,
                    ),
                )
            )
        journal.append_many(events, actor=actor_label(actor))
    return buildings


def _fresh_codes(prefix: str, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        batch = {new_plate_code(prefix) for _ in range(wanted)} - codes
        taken = set(
            Plate.objects.filter(code__in=list(batch)).values_list("code", flat=True)
        )
        codes |= batch - taken
    return sorted(codes)


@dataclass(frozen=True)
class CleanHousehold:
    building: Building
    kk_number: str
    members: tuple[CleanMember, ...]


def register_households(
    households: Sequence[CleanHousehold], *, actor: Any = None
) -> list[Household]:
    """Store validated households and members and journal them, in order.

    The caller has checked KK numbers and NIKs (`registry.services.clean_kk`,
    `clean_member`) and that none is registered yet; the unique blind indexes
    still refuse a duplicate with IntegrityError.
    """
    if not households:
        return []
    with transaction.atomic():
        now = timezone.now()
        rows = [
            Household(
                kk_sealed=pii.seal(item.kk_number, "household.kk"),
                kk_index=pii.blind_index(item.kk_number, "kk"),
                building=item.building,
                details_salt=secrets.token_bytes(16),
            )
            for item in households
        ]
        Household.objects.bulk_create(rows, batch_size=1000)
        Residence.objects.bulk_create(
            [
                Residence(household=row, building=row.building, moved_in=now)
                for row in rows
            ],
            batch_size=1000,
        )
        members = [
            Member(
                household=row,
                full_name=member.full_name,
                nik_sealed=pii.seal(member.nik, "member.nik"),
                nik_index=pii.blind_index(member.nik, "nik"),
                sex=member.sex,
                birth_date=member.birth_date,
                phone=member.phone,
                relation=member.relation,
                details_salt=secrets.token_bytes(16),
            )
            for row, item in zip(rows, households, strict=True)
            for member in item.members
        ]
        Member.objects.bulk_create(members, batch_size=1000)
        # States are computed from the numbers in hand rather than by opening
        # each sealed NIK and KK again.
        events: list[tuple[str, EventSchema]] = []
        added = iter(members)
        for row, item in zip(rows, households, strict=True):
            state = household_state(row, item.kk_number)
            events.append(
                ("registry.household.registered", HouseholdRegistered(**state))
            )
            events.extend(
                (
                    "registry.member.added",
                    MemberAdded(**member_state(next(added), clean.nik)),
                )
                for clean in item.members
            )
        journal.append_many(events, actor=actor_label(actor))
    return rows
