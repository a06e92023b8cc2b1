"""Read-only queries behind the registry pages, the map and the API.

Kelurahan staff (users with `kelurahan` set) see and change only the buildings
of their own kelurahan. `visible_buildings` applies that rule to a query and
`in_scope` to a row, and nothing else applies it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    CharField,
    Count,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Floor

from kotacerdas.city.models import Area
from kotacerdas.journal.models import Entry
from kotacerdas.registry.codes import InvalidCode, normalize_plate_code
from kotacerdas.registry.levy import LevyClass, levy_classes
from kotacerdas.registry.models import Building, Household, Plate

# Levy-class filter value for buildings that no class applies to.
NO_LEVY_CLASS = "none"


def visible_buildings(user: Any) -> QuerySet[Building]:
    buildings = Building.objects.select_related("kelurahan", "unit")
    if getattr(user, "kelurahan_id", None):
        buildings = buildings.filter(kelurahan_id=user.kelurahan_id)
    return buildings


def in_scope(user: Any, building: Building) -> bool:
    scope = getattr(user, "kelurahan_id", None)
    return not scope or building.kelurahan_id == scope


def kelurahan_choices(user: Any) -> QuerySet[Area]:
    """Kelurahan a user may pick: her own when she is kelurahan staff, else all."""
    areas = Area.objects.exclude(level=Area.Level.KECAMATAN).order_by("name")
    if getattr(user, "kelurahan_id", None):
        areas = areas.filter(pk=user.kelurahan_id)
    return areas


def with_live_plate(buildings: QuerySet[Building]) -> QuerySet[Building]:
    """Annotate `live_plate_status`: the status of the plate that is not revoked."""
    live = Plate.objects.filter(building=OuterRef("pk")).exclude(
        status=Plate.Status.REVOKED
    )
    return buildings.annotate(live_plate_status=Subquery(live.values("status")[:1]))


def filter_buildings(
    buildings: QuerySet[Building], filters: dict[str, Any]
) -> QuerySet[Building]:
    """Apply the cleaned values of a BuildingFilterForm (empty values are ignored)."""
    text = filters.get("q") or ""
    if text:
        condition = Q(plate_code__icontains=text) | Q(street_address__icontains=text)
        try:
            # A whole code, typed in any case or without dashes, also finds the
            # building of a revoked plate.
            code = normalize_plate_code(text)
            condition |= Q(pk__in=Plate.objects.filter(code=code).values("building_id"))
        except InvalidCode:
            pass
        buildings = buildings.filter(condition)
    if filters.get("kelurahan"):
        buildings = buildings.filter(kelurahan__code=filters["kelurahan"])
    if filters.get("rw"):
        buildings = buildings.filter(unit__rw=filters["rw"])
    if filters.get("rt"):
        buildings = buildings.filter(unit__rt=filters["rt"])
    if filters.get("use"):
        buildings = buildings.filter(use=filters["use"])
    if filters.get("status"):
        buildings = buildings.filter(status=filters["status"])
    levy = filters.get("levy_class")
    if levy:
        buildings = buildings.filter(levy_class="" if levy == NO_LEVY_CLASS else levy)
    return _filter_plate_status(buildings, filters.get("plate_status") or "")


def _filter_plate_status(
    buildings: QuerySet[Building], status: str
) -> QuerySet[Building]:
    live = Plate.objects.exclude(status=Plate.Status.REVOKED).values("building_id")
    if status in (Plate.Status.ISSUED, Plate.Status.INSTALLED):
        return buildings.filter(
            pk__in=Plate.objects.filter(status=status).values("building_id")
        )
    if status == Plate.Status.REVOKED:
        # Revoked and not yet replaced: the building has no live plate.
        return buildings.exclude(pk__in=live)
    return buildings


def levy_by_code() -> dict[str, LevyClass]:
    return {levy.code: levy for levy in levy_classes()}


@dataclass(frozen=True)
class AreaCounts:
    buildings: int
    households: int
    live_plates: int
    uninstalled_plates: int
    buildings_without_plate: int


def registry_counts(kelurahan: Area | None) -> AreaCounts:
    """Count the registry of one kelurahan, or of the whole city when None.

    Buildings and households count when not demolished or retired; a live
    plate is one that is not revoked.
    """
    buildings = Building.objects.exclude(status=Building.Status.DEMOLISHED)
    households = Household.objects.filter(status=Household.Status.ACTIVE)
    plates = Plate.objects.exclude(status=Plate.Status.REVOKED)
    if kelurahan is not None:
        buildings = buildings.filter(kelurahan=kelurahan)
        households = households.filter(building__kelurahan=kelurahan)
        plates = plates.filter(building__kelurahan=kelurahan)
    return AreaCounts(
        buildings=buildings.count(),
        households=households.count(),
        live_plates=plates.count(),
        uninstalled_plates=plates.filter(status=Plate.Status.ISSUED).count(),
        buildings_without_plate=buildings.exclude(
            pk__in=plates.values("building_id")
        ).count(),
    )


# The journal -------------------------------------------------------------------


class BodyText(Func):
    """An entry's body (canonical JSON bytes) as text, to search its payload."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="CAST(%(expressions)s AS TEXT)"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="convert_from(%(expressions)s, 'UTF8')"
        )


# Events that can name a building (by building_id or from_building_id) or one
# of its plates (by plate_id). Member events name only their household.
BUILDING_EVENT_TYPES = (
    "registry.building.registered",
    "registry.building.changed",
    "registry.plate.issued",
    "registry.plate.installed",
    "registry.plate.revoked",
    "registry.household.registered",
    "registry.household.moved",
    "registry.household.retired",
)
# Entries are recorded in the transaction that registers the building, so
# none about it predates its row; the margin covers a clock step backwards.
CLOCK_MARGIN = timedelta(hours=1)


def building_entries(building: Building, limit: int = 200) -> QuerySet[Entry]:
    """Registry journal entries about a building, its plates and moves, newest first.

    The body is RFC 8785 canonical JSON (no spaces, sorted keys), so
    `"building_id":12,` or `"building_id":12}` matches exactly that id and not
    `"from_building_id"` nor 120. Plate events carry only the plate id.
    NOTE: this reads every entry of BUILDING_EVENT_TYPES since the building
    was registered, with no index on the payload. On the demo city (116,000
    entries, SQLite) that took about 0.4 s, so the page loads it separately.
    """
    needles = [f'"building_id":{building.pk}', f'"from_building_id":{building.pk}']
    needles += [
        f'"plate_id":{pk}' for pk in building.plates.values_list("pk", flat=True)
    ]
    condition = Q()
    for needle in needles:
        condition |= Q(text__contains=needle + ",") | Q(text__contains=needle + "}")
    return (
        Entry.objects.filter(
            event_type__in=BUILDING_EVENT_TYPES,
            recorded_at__gte=building.created_at - CLOCK_MARGIN,
        )
        .annotate(text=BodyText("body"))
        .filter(condition)
        .order_by("-seq")
        .only("seq", "event_type", "recorded_at")[:limit]
    )


# The map -------------------------------------------------------------------------


MAX_MAP_POINTS = 2000
CLUSTER_GRID_CELLS = 24


@dataclass(frozen=True)
class BoundingBox:
    west: float
    south: float
    east: float
    north: float


def map_features(
    buildings: QuerySet[Building], bbox: BoundingBox | None
) -> list[dict[str, Any]]:
    """Return GeoJSON features: one per building, or grid clusters when too many.

    A whole city (about 15,000 buildings) is too many markers for a phone. So
    above MAX_MAP_POINTS the buildings in view are counted per grid cell, each
    cell becomes one point with a count, and zooming in splits them again.
    """
    located = buildings.filter(lat__isnull=False, lng__isnull=False)
    if bbox is not None:
        located = located.filter(
            lat__gte=_dec(bbox.south),
            lat__lte=_dec(bbox.north),
            lng__gte=_dec(bbox.west),
            lng__lte=_dec(bbox.east),
        )
    rows = list(
        located.order_by("id").values(
            "id", "plate_code", "lat", "lng", "use", "levy_class", "status",
            "street_address",
        )[: MAX_MAP_POINTS + 1]
    )  # fmt: skip
    if len(rows) <= MAX_MAP_POINTS:
        return [_building_feature(row) for row in rows]
    return _cluster_features(located, bbox)


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


def _building_feature(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [float(row["lng"]), float(row["lat"])],
        },
        "properties": {
            "kind": "building",
            "id": row["id"],
            "plate_code": row["plate_code"],
            "use": row["use"],
            "use_label": str(Building.Use(row["use"]).label),
            "levy_class": row["levy_class"],
            "status": row["status"],
            "address": row["street_address"],
        },
    }


def _cluster_features(
    located: QuerySet[Building], bbox: BoundingBox | None
) -> list[dict[str, Any]]:
    if bbox is None:
        extent = located.aggregate(
            south=Min(Cast("lat", FloatField())),
            north=Max(Cast("lat", FloatField())),
            west=Min(Cast("lng", FloatField())),
            east=Max(Cast("lng", FloatField())),
        )
        bbox = BoundingBox(
            extent["west"], extent["south"], extent["east"], extent["north"]
        )
    cell = (
        max(bbox.east - bbox.west, bbox.north - bbox.south, 1e-6) / CLUSTER_GRID_CELLS
    )
    cells = (
        located.annotate(
            cell_x=Floor(Cast("lng", FloatField()) / Value(cell)),
            cell_y=Floor(Cast("lat", FloatField()) / Value(cell)),
        )
        .values("cell_x", "cell_y")
        .annotate(
            count=Count("id"),
            mean_lat=Avg(Cast("lat", FloatField())),
            mean_lng=Avg(Cast("lng", FloatField())),
        )
        .order_by("cell_x", "cell_y")
    )
    return [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(row["mean_lng"], 6), round(row["mean_lat"], 6)],
            },
            "properties": {"kind": "cluster", "count": row["count"]},
        }
        for row in cells
    ]


def boundary_features(city_areas: QuerySet[Area]) -> dict[str, Any]:
    """Return the kelurahan boundaries as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": area.boundary,
                "properties": {"code": area.code, "name": area.name},
            }
            for area in city_areas.exclude(level=Area.Level.KECAMATAN).exclude(
                boundary__isnull=True
            )
        ],
    }
