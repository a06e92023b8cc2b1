"""Loading city profiles and creating RT/RW units: the city app's write paths."""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from kotacerdas.city.codes import InvalidAreaCode, compact_code, normalize_code
from kotacerdas.city.events import ProfileLoaded, UnitCreated
from kotacerdas.city.models import Area, City, NeighbourhoodUnit
from kotacerdas.city.profiles import (
    Profile,
    ProfileError,
    find_profile_dir,
    read_profile,
)
from kotacerdas.journal import services as journal
from kotacerdas.sharing import schedule

__all__ = [
    "InvalidAreaCode",
    "InvalidUnitNumber",
    "LoadResult",
    "compact_code",
    "find_area",
    "get_or_create_unit",
    "load_profile",
    "normalize_code",
]

logger = logging.getLogger(__name__)
UNIT_NUMBER = re.compile(r"^\d{1,3}$")


class InvalidUnitNumber(ValueError):
    """An RT or RW number is not one to three digits."""


@dataclass(frozen=True)
class LoadResult:
    city: City
    changed: bool
    area_count: int


def load_profile(name_or_path: str | Path) -> LoadResult:
    """Store a city profile (a built-in slug or a directory) and journal it.

    Loading the same files again changes nothing and appends no event, because
    the city row keeps the SHA-256 of the files it was loaded from. Areas that
    a newer file version no longer lists are kept, because buildings and staff
    may point at them (their foreign keys PROTECT).
    Raises ProfileError when the profile is missing or a file is invalid.
    """
    profile = read_profile(find_profile_dir(str(name_or_path)))
    existing = City.objects.filter(code=profile.code).first()
    if existing is not None and existing.profile_sha256 == profile.sha256:
        return LoadResult(existing, changed=False, area_count=existing.areas.count())
    if existing is not None:
        _check_fee_amendment(existing, profile)

    with transaction.atomic(durable=True):
        city = _store_city(profile)
        for row in profile.areas:
            parent = None
            if row.parent_code != profile.code:
                parent = Area.objects.get(code=row.parent_code)
            Area.objects.update_or_create(
                code=row.code,
                defaults={
                    "city": city,
                    "parent": parent,
                    "compact_code": compact_code(row.code),
                    "name": row.name,
                    "level": row.level,
                    "postal_code": row.postal_code,
                    "centroid_lat": row.centroid_lat,
                    "centroid_lng": row.centroid_lng,
                    "area_ha": row.area_ha,
                    "population": row.population,
                    "boundary": row.boundary,
                },
            )
        journal.append(
            "city.profile.loaded",
            ProfileLoaded(
                city_code=city.code,
                profile_sha256=profile.sha256,
                area_codes=[row.code for row in profile.areas],
            ),
        )

    logger.info(
        "loaded city profile %s",
        profile.slug,
        extra={"city_code": city.code, "profile_sha256": profile.sha256},
    )
    return LoadResult(city, changed=True, area_count=len(profile.areas))


def _check_fee_amendment(city: City, profile: Profile) -> None:
    """Reject a profile that changes fees or sharing rules of days already past."""
    try:
        schedule.check_amendment(city.settings, profile.settings, timezone.localdate())
    except schedule.ScheduleError as error:
        raise ProfileError(f"{profile.slug} profile.toml: {error}") from error


def _store_city(profile: Profile) -> City:
    city, _created = City.objects.update_or_create(
        code=profile.code,
        defaults={
            "slug": profile.slug,
            "name": profile.name,
            "province_code": profile.province_code,
            "province_name": profile.province_name,
            "center_lat": profile.center_lat,
            "center_lng": profile.center_lng,
            "default_zoom": profile.zoom,
            "settings": profile.settings,
            "boundary": profile.boundary,
            "profile_sha256": profile.sha256,
            "loaded_at": timezone.now(),
        },
    )
    return city


def find_area(code: str) -> Area:
    """Return the area with a dotted or compact code; raise Area.DoesNotExist."""
    return Area.objects.get(code=normalize_code(code))


def get_or_create_unit(
    kelurahan: Area, rw: str | int, rt: str | int | None = None
) -> NeighbourhoodUnit:
    """Return the RW (when `rt` is empty) or RT unit under a kelurahan.

    Numbers are padded to three digits ("3" and "003" are the same RW). Creating
    an RT also creates its RW. Each new row is journalled as
    `city.unit.created`; this runs inside the caller's transaction when there
    is one, so a registry write and the units it needs commit together.
    """
    if kelurahan.level == Area.Level.KECAMATAN:
        raise ValueError(
            "RT/RW units belong to a kelurahan or desa, "
            f"not to kecamatan {kelurahan.code}"
        )
    rw_number = _unit_number(rw, "RW")
    rt_number = "" if rt in (None, "") else _unit_number(rt, "RT")

    with transaction.atomic():
        unit = _get_or_create_one(kelurahan, rw_number, "")
        if rt_number:
            unit = _get_or_create_one(kelurahan, rw_number, rt_number)
    return unit


def _get_or_create_one(kelurahan: Area, rw: str, rt: str) -> NeighbourhoodUnit:
    unit, created = NeighbourhoodUnit.objects.get_or_create(
        kelurahan=kelurahan, rw=rw, rt=rt
    )
    if created:
        journal.append(
            "city.unit.created",
            UnitCreated(unit_id=unit.pk, kelurahan_code=kelurahan.code, rw=rw, rt=rt),
        )
    return unit


def _unit_number(value: str | int, label: str) -> str:
    text = str(value).strip()
    if not UNIT_NUMBER.match(text) or int(text) == 0:
        raise InvalidUnitNumber(
            f"{label} number {value!r} is invalid; use 1 to 999, such as 3 or 003"
        )
    return text.zfill(3)
