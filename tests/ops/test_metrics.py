"""/metrics: parses as Prometheus text, counts requests across processes, reads the DB."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from kotacerdas.command import projector
from kotacerdas.config.ports import free_port
from kotacerdas.demo import services as demo
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import Entry, Witness
from kotacerdas.ops import health, metrics
from kotacerdas.ops.heartbeat import WORKER, ProcessHeartbeat
from kotacerdas.waste.models import Pickup

NAMED_FAMILIES = {
    "kotacerdas_http_request_duration_seconds",
    "kotacerdas_transfers",
    "kotacerdas_transfer_value_rupiah",
    "kotacerdas_pickups",
    "kotacerdas_journal_unsealed_entries",
    "kotacerdas_journal_unsealed_age_seconds",
    "kotacerdas_witness_backlog_entries",
    "kotacerdas_route_plans_waiting",
    "kotacerdas_verify_duration_seconds",
    "kotacerdas_worker_job_duration_seconds",
    "kotacerdas_worker_job_failures",
    "kotacerdas_worker_job_runs",
    "kotacerdas_health_status",
    "kotacerdas_database_up",
    "kotacerdas_anchor_lag_seconds",
    "kotacerdas_rollups_lag_entries",
    "kotacerdas_heartbeat_age_seconds",
}


def scrape(client) -> dict[str, dict[tuple, float]]:
    """GET /metrics and return each sample's value by name and label set."""
    response = client.get(reverse("ops:metrics"))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def families(client) -> set[str]:
    response = client.get(reverse("ops:metrics"))
    text = response.content.decode()
    return {family.name for family in text_string_to_metric_families(text)}


def append(count: int) -> None:
    for number in range(count):
        with transaction.atomic():
            journal.append(
                "accounts.roles.changed",
                {"user_id": number + 1, "roles": ["citizen"], "actor_id": None},
            )


def request_count(samples, view: str, status: str = "2xx") -> float:
    key = (("method", "GET"), ("status", status), ("view", view))
    return samples["kotacerdas_http_request_duration_seconds_count"].get(key, 0.0)


def worker_beat() -> None:
    class Job:
        name = "seal"
        failures = 0

    heartbeat = ProcessHeartbeat(WORKER, instance="test-host")
    heartbeat.record_job(Job, 0.25, failed=False)
    Job.failures = 1
    heartbeat.record_job(Job, 1.5, failed=True)
    Job.failures = 0
    heartbeat.record_job(Job, 0.25, failed=False)
    heartbeat.beat(force=True)


@pytest.mark.django_db
def test_scrape_contains_named_series(client, city):
    append(2)
    journal.seal_pending()
    append(1)
    Witness.objects.create(name="witness.test", url="http://127.0.0.1:9", vkey="w+1")
    call_command("ledger", "verify", stdout=StringIO(), stderr=StringIO())
    worker_beat()
    client.get(reverse("ops:healthz"))

    names = families(client)

    assert names >= NAMED_FAMILIES, NAMED_FAMILIES - names


@pytest.mark.django_db
def test_queue_depth_and_verify_values(client, city):
    append(2)
    block = journal.seal_pending()
    append(3)
    Witness.objects.create(name="witness.test", url="http://127.0.0.1:9", vkey="w+1")
    call_command("ledger", "verify", stdout=StringIO(), stderr=StringIO())

    samples = scrape(client)

    assert block is not None
    assert samples["kotacerdas_journal_unsealed_entries"][()] == 3
    backlog = samples["kotacerdas_witness_backlog_entries"]
    assert backlog[(("witness", "witness.test"),)] == block.tree_size
    assert samples["kotacerdas_verify_ok"][()] == 1
    assert samples["kotacerdas_verify_duration_seconds"][()] >= 0
    assert samples["kotacerdas_database_up"][()] == 1
    status = samples["kotacerdas_health_status"]
    assert status[(("check", "worker"),)] == 2


@pytest.mark.django_db
def test_worker_job_counters(client):
    worker_beat()

    samples = scrape(client)

    key = (("instance", "test-host"), ("job", "seal"))
    assert samples["kotacerdas_worker_job_runs_total"][key] == 3
    assert samples["kotacerdas_worker_job_failures_total"][key] == 1
    assert samples["kotacerdas_worker_job_duration_seconds_count"][key] == 3
    assert samples["kotacerdas_worker_job_duration_seconds_sum"][key] == 2.0
    assert samples["kotacerdas_worker_job_last_duration_seconds"][key] == 0.25
    assert samples["kotacerdas_worker_job_failures_in_a_row"][key] == 0


@pytest.mark.django_db
def test_request_latency_counted_by_view(client):
    before = scrape(client)
    client.get(reverse("accounts:login"))
    client.get("/no-such-page/")
    after = scrape(client)

    login_before = request_count(before, "accounts:login")
    assert request_count(after, "accounts:login") == login_before + 1
    unmatched = request_count(after, "unmatched", "4xx")
    assert unmatched == request_count(before, "unmatched", "4xx") + 1
    assert request_count(after, "ops:metrics") >= 1


CHILD_SCRIPT = """
import django

django.setup()

from kotacerdas.ops.metrics import observe_request

observe_request("test:child-process", "GET", "2xx", 0.3)
"""


@pytest.mark.django_db
def test_other_process_requests_add_up(client):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", CHILD_SCRIPT], env=env, check=True)

    samples = scrape(client)

    assert request_count(samples, "test:child-process") == 2
    total = samples["kotacerdas_http_request_duration_seconds_sum"]
    key = (("method", "GET"), ("status", "2xx"), ("view", "test:child-process"))
    assert total[key] == pytest.approx(0.6)


def test_clear_request_metrics_empties_directory(tmp_path, settings):
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    (tmp_path / "histogram_4242.db").write_bytes(b"old run")
    (tmp_path / "counter_4243.db").write_bytes(b"old run")
    (tmp_path / "notes.txt").write_text("kept")

    removed = metrics.clear_request_metrics()

    assert removed == 2
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.django_db
def test_transfers_and_pickups_match_tables(client, city):
    demo.create_demo_city()
    demo.build_demo_registry("small", 5)
    demo.build_demo_activity(5)
    projector.catch_up()

    samples = scrape(client)

    posted = Counter(
        json.loads(bytes(body))["payload"]["kind"]
        for body in Entry.objects.filter(event_type="wallet.transfer.posted")
        .values_list("body", flat=True)
        .iterator()
    )
    transfers = {
        dict(key)["kind"]: value
        for key, value in samples["kotacerdas_transfers_total"].items()
    }
    pickups = {
        dict(key)["outcome"]: value
        for key, value in samples["kotacerdas_pickups_total"].items()
    }
    recorded = Counter(
        Pickup.objects.filter(duplicate_of__isnull=True).values_list(
            "outcome", flat=True
        )
    )
    assert sum(posted.values()) > 0
    assert transfers == dict(posted)
    assert sum(recorded.values()) > 0
    assert pickups == dict(recorded)


@pytest.mark.django_db
def test_scrape_when_database_fails(client, monkeypatch):
    def broken(now):
        raise OperationalError("connection to the database server failed")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    samples = scrape(client)

    assert samples["kotacerdas_database_up"][()] == 0
    assert samples["kotacerdas_health_status"][(("check", "database"),)] == 2
    assert "kotacerdas_transfers_total" not in samples


@pytest.mark.django_db
def test_scrape_reads_few_rows(client, city, django_assert_max_num_queries):
    append(5)
    journal.seal_pending()
    worker_beat()

    # Every check and figure is one or two indexed queries; a loop over rows
    # would show here as a count that grows with the data.
    with django_assert_max_num_queries(40):
        client.get(reverse("ops:metrics"))


def child_database_url() -> str:
    """Return a URL for the test database that a child process can open."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
        return response.read()


def wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited during start"
        try:
            get(url)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer {url} within 120 s")


BURST = 12
MAX_REQUESTS = 600


def metric_files(tmp_path: Path) -> set[str]:
    """Return the names of the workers' histogram files: one per process."""
    return {path.name for path in (tmp_path / "prometheus").glob("histogram_*.db")}


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_add_up(tmp_path: Path):
    port = free_port(0)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
        "DATABASE_URL": child_database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "KOTACERDAS_METRICS_TOKEN": "",
    }
    command = [
        sys.executable, "-m", "gunicorn", "kotacerdas.config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "3", "--no-control-socket",
    ]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    sent = 0
    with log.open("w") as stderr:
        process = subprocess.Popen(command, env=env, stderr=stderr)
        try:
            wait_until_serving(f"{base}/readyz", process)
            # Sequential requests may all reach one worker, so they are sent in
            # concurrent bursts until a second worker has served one.
            with ThreadPoolExecutor(max_workers=BURST) as pool:
                while sent < MAX_REQUESTS and len(metric_files(tmp_path)) < 2:
                    list(pool.map(get, [f"{base}/healthz"] * BURST))
                    sent += BURST
            text = get(f"{base}/metrics").decode()
        finally:
            process.terminate()
            process.wait(timeout=30)

    counts = {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "kotacerdas_http_request_duration_seconds_count"
    }
    pids = metric_files(tmp_path)
    key = (("method", "GET"), ("status", "2xx"), ("view", "ops:healthz"))
    assert counts[key] == sent
    assert len(pids) >= 2, f"one process answered every request: {pids}"
