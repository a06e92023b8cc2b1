"""Several processes appending at once, and the worker that seals behind them.

These tests commit for real, so they run with `transaction=True`; the
appenders and the worker are separate processes on the same test database.
"""

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from kotacerdas.journal import services
from kotacerdas.journal.models import Block, Entry
from kotacerdas.journal.worker import Job, Worker

from .conftest import append_roles_changed

AppendEntries = Callable[[int], list[Entry]]

APPENDERS = 4
APPENDS_PER_PROCESS = 40

APPEND_SCRIPT = """
import sys
import django

django.setup()

from django.db import transaction
from kotacerdas.journal import services

for number in range(int(sys.argv[1])):
    with transaction.atomic(durable=True):
        services.append(
            "accounts.roles.changed",
            {"user_id": number + 1, "roles": ["collector"], "actor_id": None},
        )
"""


def database_url() -> str:
    """Return a URL for the test database, which the child processes share."""
    settings = connection.settings_dict
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
        "DATABASE_URL": database_url(),
    }


@pytest.mark.django_db(transaction=True)
def test_parallel_appends_leave_no_gaps(postgres_only: None) -> None:
    command = [sys.executable, "-c", APPEND_SCRIPT, str(APPENDS_PER_PROCESS)]
    processes = [
        subprocess.Popen(command, env=child_env(), stderr=subprocess.PIPE)
        for _ in range(APPENDERS)
    ]
    failures = [
        process.stderr.read().decode()
        for process in processes
        if process.wait(timeout=120) != 0 and process.stderr
    ]
    total = APPENDERS * APPENDS_PER_PROCESS

    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    services.seal_pending()
    output = io.StringIO()
    call_command("ledger", "verify", stdout=output, stderr=io.StringIO())

    assert not failures, f"an appender failed: {failures[:1]}"
    assert len(seqs) == total, f"expected {total} entries, found {len(seqs)}"
    assert len(set(seqs)) == total, "a sequence number was used twice"
    assert seqs == list(range(total)), "sequence numbers should be 0..total-1"
    assert services.journal_size() == total, "the head should count every entry"
    assert "ledger valid" in output.getvalue(), output.getvalue()


@pytest.mark.django_db(transaction=True)
def test_worker_command_seals_and_stops(postgres_only: None) -> None:
    for user_id in range(3):
        with transaction.atomic():
            append_roles_changed(user_id)
    command = [sys.executable, "-m", "django", "worker", "--seal-interval", "0.1"]
    process = subprocess.Popen(command, env=child_env(), stderr=subprocess.PIPE)

    deadline = time.monotonic() + 30
    while not Block.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=10)
    log = process.stderr.read().decode() if process.stderr else ""

    assert Block.objects.filter(tree_size=3).exists(), "the worker should seal 3"
    assert code == 0, f"the worker should exit cleanly on SIGTERM: {log[-500:]}"


# The worker calls close_old_connections() before each job, which on PostgreSQL
# closes a connection inside an open transaction, so the loop tests commit.
@pytest.mark.django_db(transaction=True)
def test_worker_loop_seals_then_stops(append_entries: AppendEntries) -> None:
    append_entries(4)
    worker = Worker([])
    deadline = time.monotonic() + 10

    def stop_when_sealed() -> None:
        if Block.objects.exists() or time.monotonic() > deadline:
            worker.stop()

    worker.jobs = [
        Job("seal", services.seal_pending, interval_s=0.01),
        Job("stop", stop_when_sealed, interval_s=0.01),
    ]
    worker.run_forever()

    assert worker.stopping.is_set(), "the loop should end only after stop()"
    assert Block.objects.get().tree_size == 4, "the block should hold 4 entries"


@pytest.mark.django_db(transaction=True)
def test_worker_stops_on_sigterm() -> None:
    worker = Worker([])
    worker.jobs = [Job("signal", lambda: os.kill(os.getpid(), signal.SIGTERM), 0.01)]
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        worker.install_signal_handlers()
        worker.run_forever()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])

    assert worker.stopping.is_set(), "SIGTERM should stop the loop"


@pytest.mark.django_db(transaction=True)
def test_failing_job_backs_off() -> None:
    calls: list[str] = []
    worker = Worker([])

    def fail() -> None:
        calls.append("fail")
        raise RuntimeError("sensor feed timed out")

    def count() -> None:
        calls.append("count")
        if calls.count("count") == 5:
            worker.stop()

    worker.jobs = [Job("fail", fail, 0.01), Job("count", count, 0.01)]
    worker.run_forever()
    failing = worker.jobs[0]

    assert calls.count("count") == 5, "the healthy job should keep running"
    assert failing.failures == calls.count("fail"), "failures should be counted"
    assert failing.next_run > time.monotonic(), "the failing job should wait longer"
