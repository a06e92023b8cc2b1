"""Transfers, pickups and sealing survive the web server and worker being killed.

gunicorn and `kotacerdas worker` run as processes on 127.0.0.1 against a
fresh database of the run's kind. Client threads pay, cash in and record
pickups, resending a request with the same id whenever the server is down,
while the web server, the worker or both are killed with SIGKILL at least 20
times and started again. Afterwards every acknowledged request must be stored
once, money must balance, no wallet may be negative, the blocks must form one
chain over the whole journal and `kotacerdas ledger verify` must pass, and
the processes' logs must hold no personal data.

The kill moments are random; the seed is printed, and KOTACERDAS_CRASH_SEED
replays its choices (the moments still depend on timing).
"""

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from kotacerdas.config.ports import free_port
from kotacerdas.ops.pii_scan import Scanner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crash_run import ClientPlan, RunResult, run_under_kills, wait_sealed
from live_city import (
    FUNDING_RUPIAH,
    Deployment,
    create_database,
    drop_database,
    environment,
)

KILLS = 22
CLIENTS = 6
# Seconds between a restart and the next kill.
GAP_S = (0.3, 1.5)
CITY = {"citizens": 8, "merchants": 2, "crews": 3, "buildings": 12}


def postgres_server() -> str:
    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    return f"postgres://{database['USER']}{password}@{host}:{port}"


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    server = postgres_server() if connection.vendor == "postgresql" else ""
    url = create_database(connection.vendor, tmp_path, server)
    env = environment(tmp_path, url, "kotacerdas.config.test_settings")
    # One gunicorn worker process: it restarts faster after each kill.
    deployed = Deployment(tmp_path, env, free_port(0), web_workers=1)
    try:
        yield deployed
    finally:
        deployed.stop()
        if server:
            drop_database(url, server)


def run_city(deployment: Deployment, seed: int) -> tuple[dict, RunResult]:
    city = deployment.child("setup", CITY)
    deployment.start("web")
    deployment.start("worker")
    deployment.wait_web()
    plan = ClientPlan(city, seed)
    return city, run_under_kills(deployment, plan, CLIENTS, KILLS, gap_s=GAP_S)


def test_kills_lose_nothing_acknowledged(deployment: Deployment):
    seed = int(os.environ.get("KOTACERDAS_CRASH_SEED", random.randrange(10**6)))
    print(f"crash test seed {seed} (KOTACERDAS_CRASH_SEED={seed} replays it)")

    # Given a city whose processes are killed again and again under load.
    city, run = run_city(deployment, seed)
    killer, tally = run.killer, run.tally
    assert killer.error is None, killer.error
    sealed = wait_sealed(deployment)
    deployment.stop()
    print(
        f"{run.seconds:.0f} s, kills {dict(killer.kills)}, "
        f"{len(tally.transfers)} transfers and {len(tally.pickups)} pickups "
        f"acknowledged, {len(tally.rejected_transfers)} rejected, "
        f"{tally.retried} retried ({tally.replayed} answered from the stored row), "
        f"5xx {dict(tally.server_errors)}, {sealed['height'] + 1} blocks, "
        f"web restarts {sum(killer.restart_s) / len(killer.restart_s):.1f} s on average"
    )

    # When the database is compared with what the clients saw acknowledged.
    findings = deployment.child("check", tally.acks(len(city["citizens"])))
    report = deployment.command("ledger", "verify")

    # Then the run was a real one: enough kills, work and retries.
    assert killer.total >= 20
    assert killer.kills["web"] >= 5
    assert killer.kills["worker"] >= 5
    assert tally.unexpected == []
    assert len(tally.transfers) >= 50
    assert len(tally.pickups) >= 10
    assert tally.retried > 0

    # And every acknowledged request is stored, once, and nothing else is.
    assert findings["transfers_missing"] == []
    assert findings["transfers_rejected_but_stored"] == []
    assert findings["transfers_stored_unacknowledged"] == []
    assert findings["transfer_ids_duplicated"] == []
    assert findings["transfers_stored"] == len(tally.transfers)
    assert findings["pickups_missing"] == []
    assert findings["pickups_stored_unacknowledged"] == []
    assert findings["pickup_ids_duplicated"] == []

    # And no rupiah was created or lost, and no wallet is negative.
    assert findings["debits_posted"] == findings["credits_posted"]
    assert findings["held_total"] == findings["expected_held_total"]
    assert findings["held_total"] == -findings["settlement_balance"]
    assert findings["held_total"] >= len(city["citizens"]) * FUNDING_RUPIAH
    assert findings["negative_accounts"] == []
    assert findings["accounts_not_matching_transfers"] == []

    # And the blocks form one chain over the whole journal, which verifies.
    assert findings["block_problems"] == []
    assert findings["blocks"] == sealed["height"] + 1
    assert findings["sealed_size"] == findings["journal_size"]
    assert "ledger valid" in report, report

    # And the web server and worker logs contain no NIK, KK or phone number.
    # The session's own check reads only the pytest process's log.
    logs = [deployment.root / f"{name}.log" for name in ("web", "worker")]
    assert all(log.stat().st_size > 0 for log in logs)
    assert [str(finding) for finding in Scanner().scan_paths(logs)] == []
