"""Where a building's coordinates fall: inside the city, inside its kelurahan.

The kelurahan polygons of the city profile are simplified, so both checks
allow a margin: a point within about 500 m of the city passes, and a point
outside its kelurahan polygon but near it only gets a warning.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from shapely import prepared
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from kotacerdas.city.models import Area

# Degrees near the equator: 0.0045° is about 500 m, 0.0018° about 200 m.
CITY_MARGIN_DEG = 0.0045
KELURAHAN_MARGIN_DEG = 0.0018


@dataclass(frozen=True)
class _CityShape:
    city: prepared.PreparedGeometry | None
    kelurahan: dict[int, prepared.PreparedGeometry]


@cache
def _shapes(city_id: int, profile_sha256: str) -> _CityShape:
    # Keyed on the profile's hash, so a reloaded profile is read again.
    polygons: dict[int, BaseGeometry] = {}
    for area in Area.objects.filter(city_id=city_id).exclude(level="kecamatan"):
        if area.boundary:
            polygons[area.pk] = shape(area.boundary)
    if not polygons:
        return _CityShape(None, {})
    city = unary_union(list(polygons.values())).buffer(CITY_MARGIN_DEG)
    return _CityShape(
        prepared.prep(city),
        {
            pk: prepared.prep(polygon.buffer(KELURAHAN_MARGIN_DEG))
            for pk, polygon in polygons.items()
        },
    )


def place_point(kelurahan: Area, lat: Decimal, lng: Decimal) -> tuple[bool, bool]:
    """Return (inside the city, inside the kelurahan), each with its margin.

    A city whose profile has no boundaries accepts every point.
    """
    city = kelurahan.city
    shapes = _shapes(city.pk, city.profile_sha256)
    if shapes.city is None:
        return True, True
    point = Point(float(lng), float(lat))
    in_city = bool(shapes.city.contains(point))
    own = shapes.kelurahan.get(kelurahan.pk)
    in_kelurahan = own is None or bool(own.contains(point))
    return in_city, in_kelurahan
