"""The /metrics endpoint in the Prometheus text format, version 0.0.4.

Version 0.0.4 is the classic format that every Prometheus server reads, so
no content negotiation is needed.

Two sources make up one scrape:

- Request latency is measured in every web server process and kept in
  prometheus_client's multiprocess files under PROMETHEUS_MULTIPROC_DIR, which
  the scrape adds up. So each gunicorn worker's requests count, whichever
  process serves the scrape.
- Everything else is read from the database at scrape time: the health
  checks' numbers, the command center's tallies (transfers and pickups), the
  heartbeat rows of the worker and the sensor intake, and the last ledger
  verification. So any app server returns the same figures, and no table is
  scanned: each figure reads indexed rows or a few tally rows per day.

Counters read from the tallies follow the command center's rollups, so they
lag the journal by the rollups lag that /health reports.
"""

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from kotacerdas.command.models import Tally
from kotacerdas.journal.models import VerifyRun
from kotacerdas.ops import health
from kotacerdas.ops.heartbeat import SENSOR_INTAKE, WORKER
from kotacerdas.ops.models import Heartbeat

logger = logging.getLogger(__name__)

PREFIX = "kotacerdas"
STATUS_VALUES = {health.OK: 0, health.WARN: 1, health.FAIL: 2}

# The client writes values to files in this directory from the first request on.
Path(settings.PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

REQUEST_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time from the request reaching Django to the response, by URL name.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_request(view: str, method: str, status: str, duration_s: float) -> None:
    REQUEST_DURATION.labels(view, method, status).observe(duration_s)


def gauge(name: str, documentation: str, value: float | None) -> Iterator[Metric]:
    """Yield one unlabelled gauge, or nothing when the value is unknown."""
    if value is not None:
        yield GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        results = {result.name: result for result in health.run_checks(now)}
        database_up = results["database"].status != health.FAIL
        yield GaugeMetricFamily(
            f"{PREFIX}_database_up",
            "1 when the health check's query on the database succeeded, else 0.",
            value=1 if database_up else 0,
        )
        yield from self.check_metrics(results)
        if not database_up:
            return
        try:
            # Collected first, so that a database error yields no half family.
            families = [
                *self.business_metrics(),
                *self.verify_metrics(),
                *self.heartbeat_metrics(now),
            ]
        except DatabaseError as error:
            logger.warning("metrics could not be read from the database: %s", error)
            return
        yield from families

    def check_metrics(self, results: dict[str, health.CheckResult]) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            f"{PREFIX}_health_status",
            "Status of each health check: 0 ok, 1 warn, 2 fail.",
            labels=["check"],
        )
        for name, result in results.items():
            status.add_metric([name], STATUS_VALUES[result.status])
        yield status

        database = results["database"].values
        latency_ms = database.get("latency_ms")
        yield from gauge(
            "database_latency_seconds",
            "Time the health check's SELECT 1 took.",
            latency_ms / 1000 if latency_ms is not None else None,
        )
        checkpoint = results["checkpoint"].values
        yield from gauge(
            "journal_entries", "Entries in the journal.", checkpoint.get("entries")
        )
        yield from gauge(
            "journal_unsealed_entries",
            "Journal entries that no signed block contains yet.",
            checkpoint.get("unsealed_entries"),
        )
        yield from gauge(
            "journal_unsealed_age_seconds",
            "Age of the oldest journal entry not yet sealed (0 when none waits).",
            checkpoint.get("oldest_unsealed_age_s"),
        )
        yield from self.witness_metrics(results["witness"].values)
        anchor = results["anchor"].values
        yield from gauge(
            "anchor_lag_entries",
            "Witnessed journal entries that no confirmed anchor covers yet.",
            anchor.get("lag_entries"),
        )
        yield from gauge(
            "anchor_lag_seconds",
            "Wait of the oldest block that no confirmed anchor covers yet.",
            anchor.get("lag_s"),
        )
        rollups = results["rollups"].values
        yield from gauge(
            "rollups_lag_entries",
            "Journal entries the command center's rollups have not folded yet.",
            rollups.get("lag_entries"),
        )
        yield from gauge(
            "rollups_lag_seconds",
            "Age of the oldest journal entry the rollups have not folded yet.",
            rollups.get("lag_s"),
        )
        yield from gauge(
            "sensor_last_message_age_seconds",
            "Age of the last MQTT message any sensor intake received.",
            results["mqtt"].values.get("last_message_age_s"),
        )

    def witness_metrics(self, values: dict[str, Any]) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            f"{PREFIX}_witness_backlog_entries",
            "Journal entries beyond the size each witness last co-signed.",
            labels=["witness"],
        )
        lag = GaugeMetricFamily(
            f"{PREFIX}_witness_lag_seconds",
            "Wait of the oldest block each witness has not co-signed.",
            labels=["witness"],
        )
        for row in values.get("witnesses", []):
            backlog.add_metric([row["name"]], row["backlog_entries"])
            lag.add_metric([row["name"]], row["lag_s"])
        yield backlog
        yield lag
        yield from gauge(
            "witness_quorum_lag_seconds",
            "Lag of the quorum-th most current witness.",
            values.get("quorum_lag_s"),
        )

    def business_metrics(self) -> Iterator[Metric]:
        transfers = CounterMetricFamily(
            f"{PREFIX}_transfers",
            "Posted wallet transfers, by kind, as folded into the rollups.",
            labels=["kind"],
        )
        value = CounterMetricFamily(
            f"{PREFIX}_transfer_value_rupiah",
            "Rupiah moved by posted wallet transfers, by kind.",
            labels=["kind"],
        )
        for kind, total in tally_sums("transfers").items():
            transfers.add_metric([kind], total)
        for kind, total in tally_sums("transfer_value").items():
            value.add_metric([kind], total)
        pickups = CounterMetricFamily(
            f"{PREFIX}_pickups",
            "Recorded pickups that are not repeat scans, by outcome.",
            labels=["outcome"],
        )
        for outcome, total in tally_sums("pickups").items():
            pickups.add_metric([outcome], total)
        yield from (transfers, value, pickups)
        yield GaugeMetricFamily(
            f"{PREFIX}_route_plans_waiting",
            "Vehicles scheduled today that have no route plan yet.",
            value=len(route_plans_waiting()),
        )

    def verify_metrics(self) -> Iterator[Metric]:
        run = VerifyRun.objects.order_by("-started_at").first()
        if run is None:
            return
        duration_s = (run.finished_at - run.started_at).total_seconds()
        yield from gauge(
            "verify_duration_seconds", "Duration of the last ledger verify.", duration_s
        )
        yield from gauge(
            "verify_ok", "1 when the last ledger verify passed, else 0.", int(run.ok)
        )
        yield from gauge(
            "verify_finished_timestamp_seconds",
            "Unix time the last ledger verify finished.",
            run.finished_at.timestamp(),
        )
        yield from gauge(
            "verify_entries_checked",
            "Journal entries the last ledger verify checked.",
            run.entries_checked,
        )

    def heartbeat_metrics(self, now: datetime) -> Iterator[Metric]:
        rows = list(Heartbeat.objects.filter(kind__in=[WORKER, SENSOR_INTAKE]))
        age = GaugeMetricFamily(
            f"{PREFIX}_heartbeat_age_seconds",
            "Age of each process's latest heartbeat.",
            labels=["kind", "instance"],
        )
        for row in rows:
            age.add_metric(
                [row.kind, row.instance], health.seconds_since(row.beat_at, now)
            )
        yield age
        workers = [row for row in rows if row.kind == WORKER]
        yield from job_metrics(workers)
        intakes = [row for row in rows if row.kind == SENSOR_INTAKE]
        messages = CounterMetricFamily(
            f"{PREFIX}_sensor_messages",
            "MQTT sensor messages since the intake started, by outcome.",
            labels=["instance", "outcome"],
        )
        for row in intakes:
            for outcome, count in sorted(row.stats.get("messages", {}).items()):
                messages.add_metric([row.instance, outcome], count)
        yield messages


def job_metrics(workers: list[Heartbeat]) -> Iterator[Metric]:
    """Yield the worker jobs' counters since each worker process started."""
    labels = ["instance", "job"]
    runs = CounterMetricFamily(
        f"{PREFIX}_worker_job_runs", "Runs of each worker job.", labels=labels
    )
    failures = CounterMetricFamily(
        f"{PREFIX}_worker_job_failures",
        "Runs of each worker job that raised an error.",
        labels=labels,
    )
    in_a_row = GaugeMetricFamily(
        f"{PREFIX}_worker_job_failures_in_a_row",
        "Failed runs of each worker job since its last success.",
        labels=labels,
    )
    durations = SummaryMetricFamily(
        f"{PREFIX}_worker_job_duration_seconds",
        "Time each worker job's runs took.",
        labels=labels,
    )
    last = GaugeMetricFamily(
        f"{PREFIX}_worker_job_last_duration_seconds",
        "Time each worker job's last run took.",
        labels=labels,
    )
    for row in workers:
        for name, job in sorted(row.stats.get("jobs", {}).items()):
            key = [row.instance, name]
            runs.add_metric(key, job["runs"])
            failures.add_metric(key, job["failures"])
            in_a_row.add_metric(key, job.get("failures_in_a_row", 0))
            durations.add_metric(key, job["runs"], job["duration_sum_s"])
            last.add_metric(key, job.get("last_duration_s", 0.0))
    yield from (runs, failures, in_a_row, durations, last)


def tally_sums(metric: str) -> dict[str, int]:
    """Sum a tally metric over every day and kelurahan, by key."""
    rows = (
        Tally.objects.filter(metric=metric)
        .values("key")
        .annotate(total=Sum("value"))
        .order_by("key")
    )
    return {row["key"]: int(row["total"] or 0) for row in rows}


def route_plans_waiting() -> list[int]:
    # Imported here: the planning module pulls in the routing solver.
    from kotacerdas.waste.planning import unplanned_vehicle_ids

    return unplanned_vehicle_ids(timezone.localdate())


def clear_request_metrics() -> int:
    """Delete the request metric files of earlier web server runs; return how many.

    Call it before the web server starts, never while it runs, because the
    running processes keep their files open and would lose their counts.
    """
    removed = 0
    for path in Path(settings.PROMETHEUS_MULTIPROC_DIR).glob("*.db"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def scrape(now: datetime | None = None) -> bytes:
    """Render one scrape: the processes' request metrics and the database figures."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    registry.register(DatabaseCollector(now))
    return generate_latest(registry)


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not health.may_read_details(request):
        response = HttpResponse(
            "Metrics need the bearer token KOTACERDAS_METRICS_TOKEN "
            "(Authorization: Bearer <token>).\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="kotacerdas-metrics"'
        return response
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
