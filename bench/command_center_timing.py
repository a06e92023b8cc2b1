"""The timing step of the command center benchmark (see command_center.py).

Runs in the child process, with Django set up for a database the build step
filled. Every URL is requested with Django's test client in this process,
so the times are server time: URL routing, middleware, the view, its
queries and the template, with no network and no web server.
"""

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from command_center_build import read_run_file

TARGET_P95_MS = 300.0
WARMUP_REQUESTS = 5
PROFILED_REQUESTS = 10
PROFILE_LINES = 14
# URL names under /command/ that are not timed, and why.
NOT_TIMED: dict[str, str] = {
    "list": "drill-down list: reads the raw tables, not the rollups",
    "list_export": "CSV/XLSX export of a drill-down list",
    "monthly_report": "PDF report for the mayor",
    "explain": "folds the whole journal on each request, by design",
}
# The map view the layers are requested for: about 1.3 by 0.9 km around the
# centre of Kelurahan Pasar Usang, at the zoom where buildings are drawn.
MAP_CENTRE_KELURAHAN = "13.74.02.1002"
MAP_HALF_SPAN_DEGREES = (0.006, 0.004)
MAP_ZOOM = 16


@dataclass
class Target:
    label: str
    path: str


@dataclass
class Result:
    target: Target
    status: int
    samples_ms: list[float] = field(default_factory=list)
    # CPU time of this process per request, which other work on the machine
    # changes less than the wall time.
    cpu_ms: list[float] = field(default_factory=list)
    queries: int | None = None

    def cut(self, percent: int) -> float:
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[
            percent - 1
        ]

    @property
    def met(self) -> bool:
        return self.cut(95) <= TARGET_P95_MS


def time_requests(args: argparse.Namespace) -> int:
    """Time every target URL and the figure functions; print the results."""
    from django.test import Client

    from kotacerdas.accounts.models import User

    print_build()
    print(f"[time] load average {os.getloadavg()[0]:.1f}", flush=True)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="command"))
    targets, skipped = page_targets()
    api_targets, api_skipped = api_targets_from_schema()
    targets += api_targets
    for line in skipped + api_skipped:
        print(f"[time] not timed: {line}")

    results = []
    for target in targets:
        result = measure(client, target, args.requests)
        results.append(result)
        print_result(result)
    missed = [r for r in results if r.samples_ms and not r.met]
    print(
        f"[time] target p95 <= {TARGET_P95_MS:.0f} ms: met by "
        f"{sum(1 for r in results if r.samples_ms and r.met)} of "
        f"{sum(1 for r in results if r.samples_ms)} URLs timed",
        flush=True,
    )
    time_functions(args.requests)
    for result in missed:
        print_profile(client, result.target)
    print(f"[time] load average {os.getloadavg()[0]:.1f}", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[time] peak RSS of the timing process: {peak_mb:,.0f} MB", flush=True)
    failed = [r for r in results if r.status != 200]
    return 1 if failed else 0


def print_build() -> None:
    """Print what the build step built, and warn when it was another day."""
    from django.conf import settings
    from django.utils import timezone

    run = read_run_file(settings.VAR_DIR)
    print(f"[time] city: {run['size']}, {run['days']} days of events up to "
          f"{run['built_on']}, registry rows "
          f"{'written' if run['with_registry'] else 'not written'}",
          flush=True)  # fmt: skip
    if run.get("rollups_from"):
        print(f"[time] rollups copied from the city in {run['rollups_from']}",
              flush=True)  # fmt: skip
    if run["built_on"] != timezone.localdate().isoformat():
        print("[time] NOTE: today is not the day the events end, so today's "
              "figures have no synthetic events", flush=True)  # fmt: skip


# ----------------------------------------------------------------- targets


def _flatten(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    from django.urls import URLResolver

    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _flatten(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix, pattern


def page_targets() -> tuple[list[Target], list[str]]:
    """Return the GET pages under /command/ to time, and those left out with why."""
    from django.urls import reverse

    from kotacerdas.command import urls

    samples = {"layer": _map_layers()}
    queries = {"map_layer": _map_view_query()}
    targets, skipped = [], []
    for _prefix, pattern in _flatten(urls.urlpatterns):
        name = pattern.name
        if name in NOT_TIMED:
            skipped.append(f"command:{name} ({NOT_TIMED[name]})")
            continue
        converters = getattr(pattern.pattern, "converters", {})
        unknown = [kwarg for kwarg in converters if kwarg not in samples]
        if unknown:
            skipped.append(f"command:{name} (no sample value for {', '.join(unknown)})")
            continue
        query = queries.get(name, "")
        if not converters:
            targets.append(Target(f"command:{name}", reverse(f"command:{name}")))
            continue
        kwarg = next(iter(converters))
        for value in samples[kwarg]:
            path = reverse(f"command:{name}", kwargs={kwarg: value})
            targets.append(Target(f"command:{name} {value}", f"{path}{query}"))
    return targets, skipped


def _map_layers() -> list[str]:
    try:
        from kotacerdas.command.map_layers import LAYERS
    except ImportError:
        return []
    return list(LAYERS)


def _map_view_query() -> str:
    from kotacerdas.city.models import Area

    centre = Area.objects.get(code=MAP_CENTRE_KELURAHAN)
    lat, lng = float(centre.centroid_lat or 0), float(centre.centroid_lng or 0)
    half_lng, half_lat = MAP_HALF_SPAN_DEGREES
    bbox = f"{lng - half_lng:.5f},{lat - half_lat:.5f},{lng + half_lng:.5f},{lat + half_lat:.5f}"
    return f"?bbox={bbox}&zoom={MAP_ZOOM}"


def api_targets_from_schema() -> tuple[list[Target], list[str]]:
    """Return the GET operations under /api/command/ from the OpenAPI schema.

    A path parameter with an enum is timed with each of its values; for the
    first one, also with the largest `days` the operation accepts.
    """
    from kotacerdas.config.api import api

    targets, skipped = [], []
    for path, operations in api.get_openapi_schema()["paths"].items():
        if not path.startswith("/api/command/") or "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        in_path = [p for p in parameters if p["in"] == "path"]
        if not in_path:
            targets.append(Target(f"GET {path}", path))
            continue
        if len(in_path) > 1 or "enum" not in in_path[0]["schema"]:
            skipped.append(f"GET {path} (no sample value for its path parameters)")
            continue
        name = in_path[0]["name"]
        values = in_path[0]["schema"]["enum"]
        for value in values:
            concrete = path.replace("{" + name + "}", str(value))
            targets.append(Target(f"GET {concrete}", concrete))
        days = [p for p in parameters if p["in"] == "query" and p["name"] == "days"]
        if days and "maximum" in days[0]["schema"]:
            concrete = path.replace("{" + name + "}", str(values[0]))
            longest = f"{concrete}?days={days[0]['schema']['maximum']}"
            targets.append(Target(f"GET {longest}", longest))
    return targets, skipped


# ----------------------------------------------------------------- measuring


def measure(client: Any, target: Target, requests: int) -> Result:
    """Time `requests` GETs of the target after a few warm-up requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(target.path)
    result = Result(target, response.status_code)
    if response.status_code != 200 or response.streaming:
        return result
    for _ in range(WARMUP_REQUESTS - 1):
        client.get(target.path)
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        client.get(target.path)
        result.samples_ms.append((time.perf_counter() - started) * 1000)
        result.cpu_ms.append((time.process_time() - cpu_started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(target.path)
    result.queries = len(captured.captured_queries)
    return result


def print_result(result: Result) -> None:
    label = result.target.label
    if not result.samples_ms:
        print(f"[time] {label}: status {result.status}, not timed", flush=True)
        return
    verdict = "met" if result.met else "MISSED"
    print(
        f"[time] {label}: p50 {result.cut(50):.1f} ms, p95 {result.cut(95):.1f} ms, "
        f"max {max(result.samples_ms):.1f} ms, CPU p50 "
        f"{statistics.median(result.cpu_ms):.1f} ms, {result.queries} queries, "
        f"{len(result.samples_ms)} requests; target {verdict}",
        flush=True,
    )


def time_functions(requests: int) -> None:
    """Time the figure functions the pages call, on the stored rollups."""
    from django.utils import timezone

    from kotacerdas.command import figures
    from kotacerdas.command.figures import Period, StoredTallies

    tallies = StoredTallies()
    period = Period.current()
    today = timezone.localdate()
    calls: dict[str, Callable[[], object]] = {
        "figures.compute": lambda: figures.compute(tallies, period),
        "figures.by_kelurahan": lambda: figures.by_kelurahan(tallies, period),
        "figures.daily_series transfers 30 days": lambda: figures.daily_series(
            tallies, "transfers", 30, today
        ),
        "figures.daily_series tonnage_g 366 days": lambda: figures.daily_series(
            tallies, "tonnage_g", 366, today
        ),
        "figures.by_key route_stops today": lambda: figures.by_key(
            tallies, "route_stops", today, today
        ),
        "figures.by_key tonnage_g this month": lambda: figures.by_key(
            tallies, "tonnage_g", period.month_start, today
        ),
    }
    for label, call in calls.items():
        samples = []
        for _ in range(max(2, requests // 4)):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        print(f"[time] {label}: p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, "
              f"{len(samples)} calls", flush=True)  # fmt: skip


def print_profile(client: Any, target: Target) -> None:
    """Print where the time of a URL that missed the target goes (cProfile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED_REQUESTS):
        client.get(target.path)
    profiler.disable()
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output).sort_stats("cumulative")
    stats.print_stats(r"kotacerdas|django/db|django/template", PROFILE_LINES)
    print(f"[time] cProfile of {PROFILED_REQUESTS} requests of {target.label}, "
          f"by cumulative time:\n{output.getvalue()}", flush=True)  # fmt: skip
