"""The command center map's layers as GeoJSON FeatureCollections.

Each layer function reads its rows and returns a dict ready for JSON:

- `kelurahan_layer`: boundaries with each kelurahan's figures (from the
  rollups, as the dashboard shows them) and the drill-down list of each.
- `buildings_layer`: buildings in a bounding box, at most
  `MAX_BUILDING_POINTS`, and none below `BUILDING_MIN_ZOOM`.
- `containers_layer`: active containers with their latest fill level.
- `routes_layer`: one line per route plan of today, stops in order.
- `pickups_layer`: the last `LAST_PICKUPS` pickups of today.
- `reports_layer`: open citizen reports with their age and SLA.

Properties carry codes, counts and times, never personal data: no names,
addresses, descriptions, reporters or collectors.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import DecimalField, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from kotacerdas.city.models import Area
from kotacerdas.command import figures
from kotacerdas.registry.models import Building
from kotacerdas.registry.queries import BoundingBox, boundary_features
from kotacerdas.waste.models import Container, Pickup, RoutePlan, RouteStop
from kotacerdas.waste.reports.models import OPEN_STATUSES, Kind, Report

# Kelurahan figures the boundaries can be shaded by, in the order of the
# select. Each is a FIGURES key and a KelurahanRow attribute of the same name.
SHADING_FIGURES = (
    "collection_rate",
    "arrears",
    "buildings",
    "plates_installed",
    "pickups_today",
    "containers_waiting",
    "reports_open",
)
DEFAULT_SHADING = "collection_rate"
# The good end of each figure's colour scale, for the legend's palette.
# Figures not listed here are neutral.
SHADING_SCALES = {
    "collection_rate": "higher_better",
    "arrears": "higher_worse",
    "containers_waiting": "higher_worse",
    "reports_open": "higher_worse",
}

BUILDING_MIN_ZOOM = 15
MAX_BUILDING_POINTS = 2000
LAST_PICKUPS = 200

FeatureCollection = dict[str, Any]


@dataclass(frozen=True)
class LayerQuery:
    """The map view a layer is requested for; both parts are optional."""

    bbox: BoundingBox | None = None
    zoom: int | None = None


def collection(features: list[dict[str, Any]], **members: Any) -> FeatureCollection:
    """Wrap features in a FeatureCollection with extra top-level members."""
    return {"type": "FeatureCollection", "features": features, **members}


def point(lng: Decimal | float, lat: Decimal | float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [float(lng), float(lat)]}


def local_iso(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _in_bbox(rows: QuerySet[Any], bbox: BoundingBox | None, prefix: str = "") -> Any:
    if bbox is None:
        return rows
    six = Decimal("0.000001")
    return rows.filter(
        **{
            f"{prefix}lat__gte": Decimal(str(bbox.south)).quantize(six),
            f"{prefix}lat__lte": Decimal(str(bbox.north)).quantize(six),
            f"{prefix}lng__gte": Decimal(str(bbox.west)).quantize(six),
            f"{prefix}lng__lte": Decimal(str(bbox.east)).quantize(six),
        }
    )


# ------------------------------------------------------------------ kelurahan


def shading_figures() -> list[dict[str, str]]:
    """Describe each shading figure for the select and the legend."""
    return [
        {
            "key": key,
            "label": str(figures.FIGURES_BY_KEY[key].label),
            "unit": figures.FIGURES_BY_KEY[key].unit,
            "scale": SHADING_SCALES.get(key, "neutral"),
        }
        for key in SHADING_FIGURES
    ]


def drill_url(figure_key: str, kelurahan_code: str) -> str:
    """Return the drill-down list behind a figure, narrowed to one kelurahan."""
    list_name, params = figures.FIGURES_BY_KEY[figure_key].drill
    query = urlencode({**params, "kelurahan": kelurahan_code})
    return f"{reverse('command:list', kwargs={'name': list_name})}?{query}"


def _empty_row(code: str) -> figures.KelurahanRow:
    counts = {f.name: 0 for f in fields(figures.KelurahanRow) if f.name != "code"}
    return figures.KelurahanRow(code=code, **counts)


def kelurahan_layer(query: LayerQuery) -> FeatureCollection:
    """Return kelurahan boundaries with their figures; `query` is not used.

    A kelurahan with no tallies yet gets zero for counts and null for the
    collection rate, the same as the dashboard.
    """
    rows = figures.by_kelurahan(figures.StoredTallies())
    boundaries = boundary_features(Area.objects.all())
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        row = rows.get(code) or _empty_row(code)
        feature["properties"]["values"] = {
            key: getattr(row, key) for key in SHADING_FIGURES
        }
        feature["properties"]["lists"] = {
            key: drill_url(key, code) for key in SHADING_FIGURES
        }
    return collection(
        boundaries["features"],
        figures=shading_figures(),
        default_figure=DEFAULT_SHADING,
    )


# ------------------------------------------------------------------ buildings


def buildings_layer(query: LayerQuery) -> FeatureCollection:
    """Return the buildings in `query.bbox`, which the caller must give.

    Below BUILDING_MIN_ZOOM the collection is empty, because a whole city
    of points is unreadable and slow to draw. Above MAX_BUILDING_POINTS
    the first ones by id are sent and `truncated` is true.
    """
    if query.zoom is not None and query.zoom < BUILDING_MIN_ZOOM:
        return collection([], truncated=False, min_zoom=BUILDING_MIN_ZOOM)
    # NOTE: buildings have no index on lat/lng, so the box filter scans the
    # table. That is not measured on the large demo.
    located = Building.objects.filter(lat__isnull=False, lng__isnull=False).exclude(
        status=Building.Status.DEMOLISHED
    )
    rows = list(
        _in_bbox(located, query.bbox)
        .order_by("id")
        .values("plate_code", "lat", "lng", "use", "levy_class", "unit__rw", "unit__rt")
        [: MAX_BUILDING_POINTS + 1]
    )  # fmt: skip
    features = [
        {
            "type": "Feature",
            "geometry": point(row["lng"], row["lat"]),
            "properties": {
                "plate_code": row["plate_code"],
                "rw": row["unit__rw"],
                "rt": row["unit__rt"],
                "use": row["use"],
                "use_label": str(Building.Use(row["use"]).label),
                "levy_class": row["levy_class"],
            },
        }
        for row in rows[:MAX_BUILDING_POINTS]
    ]
    return collection(
        features,
        truncated=len(rows) > MAX_BUILDING_POINTS,
        limit=MAX_BUILDING_POINTS,
        min_zoom=BUILDING_MIN_ZOOM,
    )


# ----------------------------------------------------------------- containers


def fill_percent(fraction: Decimal | None) -> int | None:
    """Whole percent, rounded half up, of a 0-1 fill fraction."""
    if fraction is None:
        return None
    return int((Decimal(fraction) * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def containers_layer(query: LayerQuery) -> FeatureCollection:
    """Return active containers with their fill level and threshold."""
    containers = _in_bbox(
        Container.objects.filter(active=True).select_related("site", "kelurahan"),
        query.bbox,
    ).order_by("id")
    features = []
    for container in containers:
        above = (
            container.fill_level is not None
            and container.fill_level >= container.fill_threshold
        )
        features.append(
            {
                "type": "Feature",
                "geometry": point(container.lng, container.lat),
                "properties": {
                    "plate_code": container.plate_code,
                    "name": container.name,
                    "site": container.site.name,
                    "kelurahan": container.kelurahan.name,
                    "fill_percent": fill_percent(container.fill_level),
                    "threshold_percent": fill_percent(container.fill_threshold),
                    "above": above,
                    "observed_at": local_iso(container.fill_observed_at),
                    "status": container.status,
                    "status_label": str(container.get_status_display()),
                },
            }
        )
    return collection(features)


# --------------------------------------------------------------------- routes


def today_bounds() -> tuple[datetime, datetime]:
    """Return the start of today and of tomorrow in the city's time zone."""
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    return start, start + timedelta(days=1)


def routes_layer(query: LayerQuery) -> FeatureCollection:
    """Return one LineString per route plan of today; `query` is not used.

    The line runs through the plan's live stops in order, depot and unload
    stops included. Planned and done count only building and container
    stops, as the route's own page does. A plan whose live stops give
    fewer than two positions has no line and is left out.
    """
    plans = list(
        RoutePlan.objects.filter(date=timezone.localdate())
        .exclude(status=RoutePlan.Status.CANCELLED)
        .select_related("vehicle")
        .order_by("id")
    )
    stops = (
        RouteStop.objects.filter(plan__in=plans)
        .exclude(status=RouteStop.Status.CANCELLED)
        .order_by("plan_id", "sequence")
        .values("plan_id", "lat", "lng", "kind", "status")
    )
    lines: defaultdict[int, list[list[float]]] = defaultdict(list)
    planned: defaultdict[int, int] = defaultdict(int)
    done: defaultdict[int, int] = defaultdict(int)
    for stop in stops:
        lines[stop["plan_id"]].append([float(stop["lng"]), float(stop["lat"])])
        if stop["kind"] in (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER):
            planned[stop["plan_id"]] += 1
            done[stop["plan_id"]] += stop["status"] == RouteStop.Status.DONE
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": lines[plan.id]},
            "properties": {
                "plan_id": plan.id,
                "vehicle": plan.vehicle.plate_number,
                "vehicle_kind": str(plan.vehicle.get_kind_display()),
                "status": plan.status,
                "status_label": str(plan.get_status_display()),
                "revision": plan.revision,
                "stops_planned": planned[plan.id],
                "stops_done": done[plan.id],
            },
        }
        for plan in plans
        if len(lines[plan.id]) >= 2
    ]
    return collection(features)


# -------------------------------------------------------------------- pickups


def todays_pickups() -> QuerySet[Pickup]:
    """Today's pickups that have a map position, repeat scans left out.

    The position (`map_lat`, `map_lng`) is the phone's GPS fix, or the
    registered location of the building or container when the pickup has
    none. A building without a location and a pickup without a fix give
    no position, so that pickup is left out.
    """
    start, end = today_bounds()
    coordinate = DecimalField(max_digits=9, decimal_places=6)
    located = (
        Q(lat__isnull=False)
        | Q(building__lat__isnull=False)
        | Q(container__lat__isnull=False)
    )
    return Pickup.objects.filter(
        located, scanned_at__gte=start, scanned_at__lt=end, duplicate_of__isnull=True
    ).annotate(
        map_lat=Coalesce(
            F("lat"), F("building__lat"), F("container__lat"), output_field=coordinate
        ),
        map_lng=Coalesce(
            F("lng"), F("building__lng"), F("container__lng"), output_field=coordinate
        ),
    )


def pickups_layer(query: LayerQuery) -> FeatureCollection:
    """Return the last LAST_PICKUPS pickups of today, newest first."""
    rows = _in_bbox(todays_pickups(), query.bbox, prefix="map_")
    rows = rows.select_related("building", "container", "vehicle").order_by(
        "-scanned_at", "-id"
    )[:LAST_PICKUPS]
    features = []
    for pickup in rows:
        target = pickup.building or pickup.container
        features.append(
            {
                "type": "Feature",
                "geometry": point(pickup.map_lng, pickup.map_lat),
                "properties": {
                    "plate_code": target.plate_code if target else "",
                    "outcome": pickup.outcome,
                    "outcome_label": str(pickup.get_outcome_display()),
                    "scanned_at": local_iso(pickup.scanned_at),
                    "vehicle": pickup.vehicle.plate_number if pickup.vehicle else "",
                    "flagged": pickup.review == Pickup.Review.PENDING,
                },
            }
        )
    return collection(features, limit=LAST_PICKUPS)


# -------------------------------------------------------------------- reports


def reports_layer(query: LayerQuery) -> FeatureCollection:
    """Return open citizen reports with their age and whether they are overdue."""
    now = timezone.now()
    reports = _in_bbox(
        Report.objects.filter(status__in=OPEN_STATUSES), query.bbox
    ).order_by("created_at", "id")
    features = [
        {
            "type": "Feature",
            "geometry": point(report.lng, report.lat),
            "properties": {
                "report_id": report.pk,
                "kind": report.kind,
                "kind_label": str(Kind(report.kind).label),
                "status_label": str(report.get_status_display()),
                "filed_at": local_iso(report.created_at),
                "age_hours": int((now - report.created_at).total_seconds() // 3600),
                "sla_due_at": local_iso(report.sla_due_at),
                "overdue": report.sla_due_at < now,
            },
        }
        for report in reports
    ]
    return collection(features)


LAYERS: dict[str, Callable[[LayerQuery], FeatureCollection]] = {
    "kelurahan": kelurahan_layer,
    "buildings": buildings_layer,
    "containers": containers_layer,
    "routes": routes_layer,
    "pickups": pickups_layer,
    "reports": reports_layer,
}
# Layers that are only served for a bounding box: the rest are small enough
# to send whole.
BBOX_REQUIRED = frozenset({"buildings"})
