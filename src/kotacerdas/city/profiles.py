"""Reading a city profile directory: profile.toml, the area table and boundaries.

A profile directory holds `profile.toml` (the city's name, codes, map defaults,
tariffs and limits), a CSV of administrative areas and a GeoJSON file of their
polygons. Built-in profiles live under `city/data/<slug>/`.
"""

import csv
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.sharing import schedule

BUILT_IN_DIR = Path(__file__).resolve().parent / "data"
PROFILE_FILE = "profile.toml"
COORDINATE_PLACES = Decimal("0.000001")
AREA_LEVELS = {"kecamatan", "kelurahan", "desa"}


class ProfileError(ValueError):
    """A profile is missing or one of its files is invalid."""


@dataclass(frozen=True)
class AreaRow:
    """One kecamatan, kelurahan or desa as read from the profile's CSV."""

    code: str
    parent_code: str
    name: str
    level: str
    postal_code: str
    centroid_lat: Decimal | None
    centroid_lng: Decimal | None
    area_ha: int | None
    population: int | None
    boundary: dict[str, Any] | None


@dataclass(frozen=True)
class Profile:
    """A city profile as read from disk, before it is stored."""

    slug: str
    code: str
    name: str
    province_code: str
    province_name: str
    center_lat: Decimal
    center_lng: Decimal
    zoom: int
    settings: dict[str, Any]
    boundary: dict[str, Any] | None
    sha256: str
    areas: list[AreaRow] = field(default_factory=list)


def built_in_slugs() -> list[str]:
    return sorted(p.parent.name for p in BUILT_IN_DIR.glob(f"*/{PROFILE_FILE}"))


def find_profile_dir(name_or_path: str) -> Path:
    """Return the directory of a built-in profile slug or of a profile path."""
    built_in = BUILT_IN_DIR / name_or_path
    if "/" not in name_or_path and (built_in / PROFILE_FILE).is_file():
        return built_in
    path = Path(name_or_path)
    if (path / PROFILE_FILE).is_file():
        return path
    raise ProfileError(
        f"city profile {name_or_path!r} not found: it is neither a built-in profile "
        f"({', '.join(built_in_slugs())}) nor a directory containing {PROFILE_FILE}"
    )


def read_profile(directory: Path) -> Profile:
    """Read and check a profile directory; raise ProfileError naming the bad file."""
    toml_path = directory / PROFILE_FILE
    try:
        config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{toml_path}: invalid TOML: {error}") from error

    try:
        areas_path = directory / config["areas_file"]
        boundaries_path = directory / config["boundaries_file"]
        city_code = normalize_code(config["code"])
        map_defaults = config["map"]
        center_lat = _coordinate(map_defaults["center_lat"])
        center_lng = _coordinate(map_defaults["center_lng"])
    except KeyError as error:
        raise ProfileError(f"{toml_path}: missing key {error.args[0]!r}") from error
    except InvalidAreaCode as error:
        raise ProfileError(f"{toml_path}: {error}") from error

    try:
        fee_schedule = schedule.read_section(config)
    except schedule.ScheduleError as error:
        raise ProfileError(f"{toml_path}: {error}") from error

    digest = hashlib.sha256()
    for path in (toml_path, areas_path, boundaries_path):
        digest.update(_read_bytes(path))
    boundaries = _read_boundaries(boundaries_path)
    areas = _read_areas(areas_path, city_code, boundaries)

    return Profile(
        slug=config["slug"],
        code=city_code,
        name=config["name"],
        province_code=config["province_code"],
        province_name=config["province_name"],
        center_lat=center_lat,
        center_lng=center_lng,
        zoom=int(map_defaults.get("zoom", 14)),
        settings={
            "tariffs": config.get("tariffs", {}),
            "limits": config.get("limits", {}),
            "wallet": config.get("wallet", {}),
            "plate_prefix": str(config.get("plate_prefix", "KC")).upper(),
            **fee_schedule,
        },
        boundary=boundaries.get(city_code),
        sha256=digest.hexdigest(),
        areas=areas,
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ProfileError(f"{path}: cannot be read: {error.strerror}") from error


def _read_boundaries(path: Path) -> dict[str, dict[str, Any]]:
    """Return each feature's geometry keyed by its dotted area code."""
    try:
        collection = json.loads(_read_bytes(path))
        features = collection["features"]
        return {
            normalize_code(str(feature["properties"]["kode"])): feature["geometry"]
            for feature in features
        }
    except (ValueError, KeyError, TypeError) as error:
        raise ProfileError(
            f"{path}: invalid boundary file (expected a GeoJSON FeatureCollection "
            f"whose features have a 'kode' property): {error}"
        ) from error


def _read_areas(
    path: Path, city_code: str, boundaries: dict[str, dict[str, Any]]
) -> list[AreaRow]:
    rows: list[AreaRow] = []
    known_parents = {city_code}
    with path.open(encoding="utf-8", newline="") as stream:
        for line, record in enumerate(csv.DictReader(stream), start=2):
            try:
                row = _area_row(record, boundaries)
            except (KeyError, ValueError, ArithmeticError) as error:
                raise ProfileError(f"{path}, line {line}: {error}") from error
            if row is None:
                continue
            if row.parent_code not in known_parents:
                raise ProfileError(
                    f"{path}, line {line}: parent {row.parent_code!r} of "
                    f"{row.code!r} is not the city or an earlier kecamatan"
                )
            known_parents.add(row.code)
            rows.append(row)
    return rows


def _area_row(
    record: dict[str, str], boundaries: dict[str, dict[str, Any]]
) -> AreaRow | None:
    level = record["jenis"].strip()
    if level not in AREA_LEVELS:
        return None  # the province or city row, which is not an Area
    code = normalize_code(record["kode"])
    if record["kode_ringkas"].strip() != code.replace(".", ""):
        raise ValueError(
            f"compact code {record['kode_ringkas']!r} does not match code {code!r}"
        )
    return AreaRow(
        code=code,
        parent_code=normalize_code(record["parent_kode"]),
        name=record["nama"].strip(),
        level=level,
        postal_code=record["kode_pos"].strip(),
        centroid_lat=_coordinate(record["centroid_lat"])
        if record["centroid_lat"]
        else None,
        centroid_lng=_coordinate(record["centroid_lng"])
        if record["centroid_lng"]
        else None,
        area_ha=int(record["luas_ha_bps2020"]) if record["luas_ha_bps2020"] else None,
        population=int(record["penduduk_dkb_2024s2"])
        if record["penduduk_dkb_2024s2"]
        else None,
        boundary=boundaries.get(code),
    )


def _coordinate(value: object) -> Decimal:
    return Decimal(str(value)).quantize(COORDINATE_PLACES)
