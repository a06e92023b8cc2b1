"""Distance matrices: haversine sanity, and the OSRM and Valhalla clients.

The table services are played by a small HTTP server on 127.0.0.1 that answers
in each project's published response format, computing its figures from the
request so the test can tell its values from the great-circle fallback.
"""

import json
import logging
import math
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.waste.routing import distances
from kotacerdas.waste.routing.distances import (
    build_matrices,
    great_circle_matrices,
    haversine_m,
)

# Approximate points: central Padang Panjang, a place 2.5 km to its north-west
# and central Bukittinggi. Only the distances between them matter here.
CENTRE = (-0.4571, 100.4097)
NORTH_WEST = (-0.4386, 100.3969)
BUKITTINGGI = (-0.3051, 100.3693)

# The fake service's road distance is 1.7 x great-circle and its speed 10 m/s,
# both unlike the settings' defaults.
SERVICE_FACTOR = 1.7
SERVICE_SPEED_M_PER_S = 10.0
# A point at this latitude is unreachable by road in the fake service.
ISLAND_LAT = -0.5


def service_pair(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    metres = haversine_m(a, b) * SERVICE_FACTOR
    return metres, metres / SERVICE_SPEED_M_PER_S


def _indexes(query: dict[str, list[str]], name: str, count: int) -> list[int]:
    # OSRM: `sources` and `destinations` are ;-separated indexes, default all.
    if name not in query:
        return list(range(count))
    return [int(index) for index in query[name][0].split(";")]


class FakeTableService(BaseHTTPRequestHandler):
    """Answer OSRM /table/v1/driving GETs and Valhalla /sources_to_targets POSTs."""

    requests: list[dict] = []
    mode = "ok"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def misbehave(self) -> bool:
        if self.mode == "slow":
            time.sleep(1.0)
        if self.mode == "error":
            self.send_json(500, {"error": "internal"})
            return True
        return False

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        coordinates = url.path.removeprefix("/table/v1/driving/")
        self.requests.append({"path": url.path, "query": url.query})
        if self.misbehave():
            return
        if self.mode == "no-segment":
            self.send_json(400, {"code": "NoSegment", "message": "Could not find"})
            return
        points = []
        for pair in coordinates.split(";"):
            lon, lat = map(float, pair.split(","))
            points.append((lat, lon))
        query = urllib.parse.parse_qs(url.query)
        source_indexes = _indexes(query, "sources", len(points))
        target_indexes = _indexes(query, "destinations", len(points))
        sources = [points[i] for i in source_indexes]
        targets = [points[j] for j in target_indexes]
        durations, meters = [], []
        for a in sources:
            duration_row, distance_row = [], []
            for b in targets:
                metres, seconds = service_pair(a, b)
                unreachable = a != b and ISLAND_LAT in (a[0], b[0])
                duration_row.append(None if unreachable else seconds)
                distance_row.append(None if unreachable else metres)
            durations.append(duration_row)
            meters.append(distance_row)
        self.send_json(
            200,
            {
                "code": "Ok",
                "durations": durations,
                "distances": meters,
                "sources": [{"location": [lon, lat]} for lat, lon in sources],
                "destinations": [{"location": [lon, lat]} for lat, lon in targets],
            },
        )

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.requests.append({"path": self.path, "body": body})
        if self.misbehave():
            return
        sources = [(s["lat"], s["lon"]) for s in body["sources"]]
        targets = [(t["lat"], t["lon"]) for t in body["targets"]]
        rows = []
        for i, a in enumerate(sources):
            row = []
            for j, b in enumerate(targets):
                metres, seconds = service_pair(a, b)
                row.append(
                    {
                        "distance": round(metres / 1000, 3),
                        "time": round(seconds),
                        "to_index": j,
                        "from_index": i,
                    }
                )
            rows.append(row)
        self.send_json(
            200,
            {
                "sources_to_targets": rows,
                "sources": [{"lat": lat, "lon": lon} for lat, lon in sources],
                "targets": [{"lat": lat, "lon": lon} for lat, lon in targets],
                "units": "kilometers",
            },
        )


@pytest.fixture
def table_service() -> Iterator[str]:
    FakeTableService.requests = []
    FakeTableService.mode = "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTableService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def spread_points(count: int) -> list[tuple[float, float]]:
    return [(-0.47 + 0.0007 * i, 100.39 + 0.0011 * (i % 17)) for i in range(count)]


def test_haversine_one_degree_of_latitude() -> None:
    a = (CENTRE[0], CENTRE[1])
    b = (CENTRE[0] + 1, CENTRE[1])
    assert haversine_m(a, b) == pytest.approx(math.pi * 6_371_008.8 / 180, rel=1e-9)


def test_haversine_padang_panjang_distances() -> None:
    # Reference figures from the spherical law of cosines, an independent formula.
    def cosines_m(a: tuple[float, float], b: tuple[float, float]) -> float:
        lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
        cos_angle = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(
            lat2
        ) * math.cos(lon2 - lon1)
        return 6_371_008.8 * math.acos(cos_angle)

    to_north_west = haversine_m(CENTRE, NORTH_WEST)
    to_bukittinggi = haversine_m(CENTRE, BUKITTINGGI)
    assert 2_400 < to_north_west < 2_600
    assert 17_000 < to_bukittinggi < 18_000
    assert to_north_west == pytest.approx(cosines_m(CENTRE, NORTH_WEST), abs=0.5)
    assert to_bukittinggi == pytest.approx(cosines_m(CENTRE, BUKITTINGGI), abs=0.5)


coordinates = st.tuples(
    st.floats(min_value=-1.0, max_value=0.0),
    st.floats(min_value=100.0, max_value=101.0),
)


@given(coordinates, coordinates, coordinates)
def test_haversine_symmetric_and_triangle(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> None:
    assert haversine_m(a, a) == 0
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a), abs=1e-6)
    assert haversine_m(a, c) <= haversine_m(a, b) + haversine_m(b, c) + 1e-6


def test_great_circle_applies_road_factor_and_speed(settings) -> None:
    settings.KOTACERDAS_ROAD_FACTOR = 1.5
    settings.KOTACERDAS_ROUTING_SPEED_KMH = 18.0

    metres, seconds = great_circle_matrices([CENTRE, NORTH_WEST])

    expected_m = round(haversine_m(CENTRE, NORTH_WEST) * 1.5)
    assert metres == [[0, expected_m], [expected_m, 0]]
    assert seconds[0][1] == round(expected_m / 5.0)
    assert seconds[0][0] == 0


def test_build_matrices_default_is_great_circle(settings) -> None:
    settings.KOTACERDAS_OSRM_URL = ""
    settings.KOTACERDAS_VALHALLA_URL = ""
    points = [CENTRE, NORTH_WEST, BUKITTINGGI]

    assert build_matrices(points) == great_circle_matrices(points)


def test_build_matrices_rejects_swapped_coordinates() -> None:
    with pytest.raises(ValueError, match=r"latitude must be within -90\.\.90"):
        build_matrices([(100.4097, -0.4571), CENTRE])


def test_osrm_table_request_and_values(settings, table_service: str) -> None:
    settings.KOTACERDAS_OSRM_URL = table_service + "/"
    points = [CENTRE, NORTH_WEST, BUKITTINGGI]

    metres, seconds = build_matrices(points)

    request = FakeTableService.requests[0]
    assert request["path"].startswith("/table/v1/driving/100.409700,-0.457100;")
    assert urllib.parse.parse_qs(request["query"]) == {
        "annotations": ["distance,duration"]
    }
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            expected_m, expected_s = service_pair(a, b)
            assert metres[i][j] == round(expected_m)
            assert seconds[i][j] == round(expected_s)


def test_osrm_large_table_split_into_blocks(settings, table_service: str) -> None:
    settings.KOTACERDAS_OSRM_URL = table_service
    points = spread_points(120)

    metres, seconds = build_matrices(points)

    # 120 points in blocks of 50 sources x 50 targets: 3 x 3 requests.
    assert len(FakeTableService.requests) == 9
    for request in FakeTableService.requests:
        assert request["path"].count(";") + 1 <= 100
    for i, j in [(0, 119), (119, 0), (49, 50), (77, 3), (100, 101)]:
        expected_m, expected_s = service_pair(points[i], points[j])
        assert metres[i][j] == round(expected_m)
        assert seconds[i][j] == round(expected_s)
    assert all(metres[i][i] == 0 for i in range(120))


def test_osrm_unroutable_pair_uses_great_circle(
    settings, table_service: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings.KOTACERDAS_OSRM_URL = table_service
    island = (ISLAND_LAT, 100.41)
    points = [CENTRE, island, NORTH_WEST]

    with caplog.at_level(logging.WARNING, logger=distances.__name__):
        metres, _seconds = build_matrices(points)

    estimate_m, _estimate_s = great_circle_matrices(points)
    assert metres[0][1] == estimate_m[0][1]
    assert metres[1][2] == estimate_m[1][2]
    assert metres[0][2] == round(service_pair(CENTRE, NORTH_WEST)[0])
    assert "OSRM found no route for 4 point pairs" in caplog.text


@pytest.mark.parametrize("mode", ["error", "no-segment", "slow"])
def test_osrm_failure_falls_back(
    settings,
    table_service: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    settings.KOTACERDAS_OSRM_URL = table_service
    FakeTableService.mode = mode
    monkeypatch.setattr(distances, "REQUEST_TIMEOUT_S", 0.2)
    points = [CENTRE, NORTH_WEST]

    with caplog.at_level(logging.WARNING, logger=distances.__name__):
        result = build_matrices(points)

    assert result == great_circle_matrices(points)
    assert "OSRM table request failed for 2 points" in caplog.text


def test_osrm_unreachable_server_falls_back(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 9 (discard) on 127.0.0.1 has no listener here, so the connection is refused.
    settings.KOTACERDAS_OSRM_URL = "http://127.0.0.1:9"
    points = [CENTRE, NORTH_WEST]

    with caplog.at_level(logging.WARNING, logger=distances.__name__):
        result = build_matrices(points)

    assert result == great_circle_matrices(points)
    assert "OSRM request failed" in caplog.text


def test_service_url_must_be_http(settings, caplog: pytest.LogCaptureFixture) -> None:
    settings.KOTACERDAS_OSRM_URL = "file:///etc"
    points = [CENTRE, NORTH_WEST]

    with caplog.at_level(logging.WARNING, logger=distances.__name__):
        result = build_matrices(points)

    assert result == great_circle_matrices(points)
    assert "must start with http:// or https://" in caplog.text


def test_valhalla_request_and_values(settings, table_service: str) -> None:
    settings.KOTACERDAS_OSRM_URL = ""
    settings.KOTACERDAS_VALHALLA_URL = table_service
    points = [CENTRE, NORTH_WEST, BUKITTINGGI]

    metres, seconds = build_matrices(points)

    request = FakeTableService.requests[0]
    assert request["path"] == "/sources_to_targets"
    assert request["body"]["costing"] == "auto"
    assert request["body"]["units"] == "kilometers"
    assert request["body"]["sources"][0] == {"lat": CENTRE[0], "lon": CENTRE[1]}
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            expected_m, expected_s = service_pair(a, b)
            # Valhalla reports kilometres to 3 decimals, so metres are exact to 1.
            assert metres[i][j] == pytest.approx(expected_m, abs=1)
            assert seconds[i][j] == round(expected_s)


def test_valhalla_failure_falls_back(
    settings, table_service: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings.KOTACERDAS_OSRM_URL = ""
    settings.KOTACERDAS_VALHALLA_URL = table_service
    FakeTableService.mode = "error"
    points = [CENTRE, NORTH_WEST]

    with caplog.at_level(logging.WARNING, logger=distances.__name__):
        result = build_matrices(points)

    assert result == great_circle_matrices(points)
    assert "Valhalla table request failed for 2 points" in caplog.text
    assert "HTTP 500" in caplog.text
