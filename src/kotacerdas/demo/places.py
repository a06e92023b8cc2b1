"""Random points inside a kelurahan's boundary polygon, for demo buildings.

Boundaries are the city profile's GeoJSON polygons, in [lng, lat] order.
Distances are in metres on a local flat approximation, which is accurate to
well under a percent across a city a few kilometres wide.
"""

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import shapely
from shapely.geometry import shape

METRES_PER_DEGREE_LAT = 110_574.0
MAX_NEAR_TRIES = 30
COORDINATE_STEP = Decimal("0.000001")


@dataclass(frozen=True)
class Point:
    lat: Decimal
    lng: Decimal


class Boundary:
    """A kelurahan polygon that can draw random points inside itself."""

    def __init__(self, geometry: dict[str, Any]) -> None:
        self.polygon = shape(geometry)
        if self.polygon.is_empty or self.polygon.area == 0:
            raise ValueError("the boundary polygon is empty")
        shapely.prepare(self.polygon)
        self.min_lng, self.min_lat, self.max_lng, self.max_lat = self.polygon.bounds
        centre = self.polygon.centroid
        self.metres_per_degree_lng = 111_320.0 * math.cos(math.radians(centre.y))
        self.area_m2 = (
            self.polygon.area * self.metres_per_degree_lng * METRES_PER_DEGREE_LAT
        )

    def contains(self, point: Point) -> bool:
        return bool(
            shapely.contains_xy(self.polygon, float(point.lng), float(point.lat))
        )

    def random_point(self, rng: random.Random) -> Point:
        """Return a point drawn evenly from inside the polygon."""
        while True:
            point = _rounded(
                rng.uniform(self.min_lat, self.max_lat),
                rng.uniform(self.min_lng, self.max_lng),
            )
            if self.contains(point):
                return point

    def point_near(self, rng: random.Random, centre: Point, spread_m: float) -> Point:
        """Return a point inside the polygon scattered around `centre`.

        The offset is normal with a standard deviation of `spread_m` metres in
        each direction. When no scattered point lands inside (a centre near
        the edge), the point is drawn evenly from the polygon instead.
        """
        for _ in range(MAX_NEAR_TRIES):
            point = _rounded(
                float(centre.lat) + rng.gauss(0, spread_m) / METRES_PER_DEGREE_LAT,
                float(centre.lng) + rng.gauss(0, spread_m) / self.metres_per_degree_lng,
            )
            if self.contains(point):
                return point
        return self.random_point(rng)


def _rounded(lat: float, lng: float) -> Point:
    # Rounded before the inside test, so the stored six decimals are inside too.
    return Point(
        Decimal(repr(lat)).quantize(COORDINATE_STEP),
        Decimal(repr(lng)).quantize(COORDINATE_STEP),
    )


def distance_m(a: Point, b: Point) -> float:
    """Return the distance between two points in metres."""
    dlat = float(a.lat - b.lat) * METRES_PER_DEGREE_LAT
    dlng = float(a.lng - b.lng) * 111_320.0 * math.cos(math.radians(float(a.lat)))
    return math.hypot(dlat, dlng)
