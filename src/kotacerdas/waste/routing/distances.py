"""Distance and travel-time matrices for the routing engines.

By default a distance is the great-circle (haversine) distance times
KOTACERDAS_ROAD_FACTOR, and a travel time is that distance at
KOTACERDAS_ROUTING_SPEED_KMH. When KOTACERDAS_OSRM_URL or
KOTACERDAS_VALHALLA_URL is set, the matrices come from that road-network
service instead (OSRM first if both are set). If the service fails, times out
or returns something unreadable, the great-circle matrices are used and a
warning is logged, because a plan on estimated distances beats no plan.

Points are (latitude, longitude) in WGS 84 degrees. Matrices are whole metres
and whole seconds, row = from, column = to.
"""

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence

from django.conf import settings

logger = logging.getLogger(__name__)

Point = tuple[float, float]
Matrices = tuple[list[list[int]], list[list[int]]]

# Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
# Locations per request side: osrm-routed rejects tables over 100 locations by
# default (--max-table-size) and Valhalla's default limit for auto is 2,500
# source-target pairs, so blocks of 50 sources x 50 targets fit both.
BLOCK_SIZE = 50
REQUEST_TIMEOUT_S = 10.0


class TableServiceError(Exception):
    pass


def haversine_m(a: Point, b: Point) -> float:
    """Return the great-circle distance between two (lat, lon) points in metres."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def great_circle_matrices(points: Sequence[Point]) -> Matrices:
    """Build matrices from haversine distance x road factor at the routing speed."""
    road_factor = settings.KOTACERDAS_ROAD_FACTOR
    speed_m_per_s = settings.KOTACERDAS_ROUTING_SPEED_KMH / 3.6
    distances = [
        [round(haversine_m(a, b) * road_factor) for b in points] for a in points
    ]
    durations = [[round(value / speed_m_per_s) for value in row] for row in distances]
    return distances, durations


def build_matrices(points: list[Point]) -> Matrices:
    """Build (metres, seconds) matrices from the configured service or great-circle."""
    for point in points:
        _check_point(point)
    if len(points) < 2:
        return great_circle_matrices(points)

    if settings.KOTACERDAS_OSRM_URL:
        service, url, fetch_block = "OSRM", settings.KOTACERDAS_OSRM_URL, osrm_block
    elif settings.KOTACERDAS_VALHALLA_URL:
        service, url = "Valhalla", settings.KOTACERDAS_VALHALLA_URL
        fetch_block = valhalla_block
    else:
        return great_circle_matrices(points)
    try:
        distances, durations = _table_in_blocks(
            points, lambda sources, targets: fetch_block(url, sources, targets)
        )
        return _fill_unroutable(distances, durations, points, service)
    except TableServiceError as error:
        logger.warning(
            "%s table request failed for %d points, using great-circle "
            "distances instead: %s",
            service,
            len(points),
            error,
        )
    return great_circle_matrices(points)


def _check_point(point: Point) -> None:
    lat, lon = point
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(
            f"Point ({lat}, {lon}) is not a (latitude, longitude) pair in "
            "degrees; latitude must be within -90..90 and longitude -180..180."
        )


RawTable = list[list[float | None]]
FetchBlock = Callable[[Sequence[Point], Sequence[Point]], tuple[RawTable, RawTable]]


def _table_in_blocks(
    points: Sequence[Point], fetch: FetchBlock
) -> tuple[RawTable, RawTable]:
    """Fill the full tables from blocks of at most BLOCK_SIZE sources x targets."""
    size = len(points)
    distances: RawTable = [[0.0] * size for _ in range(size)]
    durations: RawTable = [[0.0] * size for _ in range(size)]
    starts = range(0, size, BLOCK_SIZE)
    for source_start in starts:
        sources = range(source_start, min(source_start + BLOCK_SIZE, size))
        for target_start in starts:
            targets = range(target_start, min(target_start + BLOCK_SIZE, size))
            block_distances, block_durations = fetch(
                [points[i] for i in sources], [points[j] for j in targets]
            )
            for row, i in enumerate(sources):
                for column, j in enumerate(targets):
                    if i != j:
                        distances[i][j] = block_distances[row][column]
                        durations[i][j] = block_durations[row][column]
    return distances, durations


def _fill_unroutable(
    distances: RawTable,
    durations: RawTable,
    points: Sequence[Point],
    service: str,
) -> Matrices:
    """Round the service's values, using great-circle values where it found no route."""
    estimate_distances, estimate_durations = great_circle_matrices(points)
    missing = 0
    whole_distances = []
    whole_durations = []
    for i, (distance_row, duration_row) in enumerate(
        zip(distances, durations, strict=True)
    ):
        distance_out = []
        duration_out = []
        for j, (distance, duration) in enumerate(
            zip(distance_row, duration_row, strict=True)
        ):
            if distance is None or duration is None:
                missing += 1
                distance_out.append(estimate_distances[i][j])
                duration_out.append(estimate_durations[i][j])
            elif _is_number(distance) and _is_number(duration):
                distance_out.append(round(distance))
                duration_out.append(round(duration))
            else:
                raise TableServiceError(
                    f"{service} returned a non-numeric value for pair ({i}, {j})."
                )
        whole_distances.append(distance_out)
        whole_durations.append(duration_out)
    if missing:
        logger.warning(
            "%s found no route for %d point pairs; using great-circle values for them",
            service,
            missing,
        )
    return whole_distances, whole_durations


def _request_json(request: urllib.request.Request, service: str) -> dict:
    try:
        with urllib.request.urlopen(  # noqa: S310 (_service_url checks the scheme)
            request, timeout=REQUEST_TIMEOUT_S
        ) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace")
        raise TableServiceError(
            f"{service} returned HTTP {error.code}: {detail}"
        ) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise TableServiceError(f"{service} request failed: {error}") from error
    except ValueError as error:
        raise TableServiceError(f"{service} returned invalid JSON: {error}") from error
    if not isinstance(body, dict):
        raise TableServiceError(f"{service} returned JSON that is not an object.")
    return body


def _service_url(base_url: str, path: str, service: str) -> str:
    """Join the configured base URL and `path`, accepting only http and https."""
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise TableServiceError(
            f"{service} URL {base_url!r} must start with http:// or https://."
        )
    return base_url.rstrip("/") + path


def osrm_block(
    base_url: str, sources: Sequence[Point], targets: Sequence[Point]
) -> tuple[RawTable, RawTable]:
    """Fetch one sources x targets table from OSRM's /table/v1/driving service.

    OSRM takes longitude,latitude pairs and returns `distances` in metres and
    `durations` in seconds, with null where it found no route.
    """
    same = list(sources) == list(targets)
    block = list(sources) if same else [*sources, *targets]
    coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in block)
    query = "annotations=distance,duration"
    if not same:
        source_indexes = ";".join(str(i) for i in range(len(sources)))
        target_indexes = ";".join(str(len(sources) + j) for j in range(len(targets)))
        query += f"&sources={source_indexes}&destinations={target_indexes}"
    url = _service_url(base_url, f"/table/v1/driving/{coordinates}?{query}", "OSRM")
    body = _request_json(urllib.request.Request(url), "OSRM")  # noqa: S310
    if body.get("code") != "Ok":
        raise TableServiceError(
            f"OSRM returned code {body.get('code')!r}: {body.get('message', '')}"
        )
    distances = _table(body.get("distances"), sources, targets, "OSRM distances")
    durations = _table(body.get("durations"), sources, targets, "OSRM durations")
    return distances, durations


def valhalla_block(
    base_url: str, sources: Sequence[Point], targets: Sequence[Point]
) -> tuple[RawTable, RawTable]:
    """Fetch one sources x targets table from Valhalla's /sources_to_targets.

    The request asks for the verbose form in kilometres: one row per source, each
    a list of {"from_index", "to_index", "distance", "time"} objects with time in
    seconds and null distance and time where no route exists.
    """
    payload = {
        "sources": [{"lat": lat, "lon": lon} for lat, lon in sources],
        "targets": [{"lat": lat, "lon": lon} for lat, lon in targets],
        "costing": "auto",
        "units": "kilometers",
        "verbose": True,
    }
    request = urllib.request.Request(  # noqa: S310 (_service_url checks the scheme)
        _service_url(base_url, "/sources_to_targets", "Valhalla"),
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    body = _request_json(request, "Valhalla")
    rows = _table(
        body.get("sources_to_targets"), sources, targets, "Valhalla sources_to_targets"
    )
    distances: RawTable = [[None] * len(targets) for _ in sources]
    durations: RawTable = [[None] * len(targets) for _ in sources]
    try:
        for row in rows:
            for cell in row:
                i, j = cell["from_index"], cell["to_index"]
                kilometres, seconds = cell.get("distance"), cell.get("time")
                distances[i][j] = None if kilometres is None else kilometres * 1000
                durations[i][j] = seconds
    except (KeyError, TypeError, IndexError) as error:
        raise TableServiceError(
            f"Valhalla returned a sources_to_targets cell without valid indexes: {error!r}"
        ) from error
    return distances, durations


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value >= 0


def _table(
    value: object, sources: Sequence[Point], targets: Sequence[Point], what: str
) -> list:
    """Return `value` if it is a list of len(sources) rows of len(targets) items."""
    rows, columns = len(sources), len(targets)
    if not (
        isinstance(value, list)
        and len(value) == rows
        and all(isinstance(row, list) and len(row) == columns for row in value)
    ):
        raise TableServiceError(f"{what} is missing or not a {rows} x {columns} table.")
    return value
