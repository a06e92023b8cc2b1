"""The health checks in their ok, warn and fail states, and /healthz, /readyz, /health.

Ages are tested by passing a later `now` to the checks: journal blocks and
entries are append-only, so a test cannot age them by rewriting their times.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from kotacerdas.city.models import Area
from kotacerdas.command import projector
from kotacerdas.journal import anchoring
from kotacerdas.journal import chain as chains
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import (
    Anchor,
    Block,
    ChainDeployment,
    Cosignature,
    Witness,
)
from kotacerdas.journal.worker import Job, Worker
from kotacerdas.ops import health
from kotacerdas.ops.heartbeat import SENSOR_INTAKE, WORKER, ProcessHeartbeat
from kotacerdas.ops.models import Heartbeat
from kotacerdas.waste.models import Container, Site
from kotacerdas.waste.sensors_mqtt import Broker, SensorIntake

PASAR_BARU = "13.74.02.1006"


def append(count: int) -> None:
    for number in range(count):
        with transaction.atomic():
            journal.append(
                "accounts.roles.changed",
                {"user_id": number + 1, "roles": ["citizen"], "actor_id": None},
            )


def seal(count: int) -> Block:
    append(count)
    block = journal.seal_pending()
    assert block is not None
    return block


def later(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def check(name: str, now: datetime | None = None) -> health.CheckResult:
    (result,) = health.run_checks(now, [name])
    return result


def add_witness(name: str, last_size: int = 0) -> Witness:
    return Witness.objects.create(
        name=name,
        url="http://127.0.0.1:9",
        vkey=f"{name}+0000aaaa+{uuid.uuid4().hex}",
        last_size=last_size,
    )


def cosign(block: Block, witness: Witness) -> None:
    Cosignature.objects.create(
        block=block, witness=witness, timestamp=0, line=f"— {witness.name} x\n"
    )
    witness.last_size = block.tree_size
    witness.save(update_fields=["last_size"])


def beat(kind: str = WORKER, **stats) -> Heartbeat:
    heartbeat = ProcessHeartbeat(kind, instance="test-host")
    for name, value in stats.items():
        setattr(heartbeat, name, value)
    assert heartbeat.beat(force=True)
    return Heartbeat.objects.get(kind=kind, instance="test-host")


def sensor_container(city) -> Container:
    site = Site.objects.create(
        code="tps-pasar-baru",
        name="TPS Pasar Baru",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code=PASAR_BARU),
        lat="-0.465233",
        lng="100.400130",
    )
    return Container.objects.create(
        site=site,
        plate_code="PPJ-C-TEST01-1",
        plate_key_id="test",
        plate_signature="test",
        name="TPS Pasar Baru container 1",
        kelurahan=site.kelurahan,
        lat=site.lat,
        lng=site.lng,
        volume_m3="6.00",
        max_load_kg=2000,
        sensor_id=f"ppj-health-{uuid.uuid4().hex[:8]}",
    )


# --- endpoints ----------------------------------------------------------------


# No django_db mark: pytest-django raises on any database access here.
def test_healthz_reads_no_database(client):
    response = client.get(reverse("ops:healthz"))

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response.headers["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_runs_database_check_only(client):
    response = client.get(reverse("ops:readyz"))

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database"]
    assert body["checks"]["database"]["vendor"] == connection.vendor


@pytest.mark.django_db
def test_readyz_503_when_database_fails(client, monkeypatch):
    def broken(now):
        raise OperationalError("connection to the database server failed")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    response = client.get(reverse("ops:readyz"))

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["message"] == (
        "the check failed with a database error (OperationalError)"
    )


@pytest.mark.django_db
def test_database_down_skips_other_checks(client, monkeypatch, caplog):
    def broken(now):
        raise OperationalError("connection to the database server failed")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    with caplog.at_level("WARNING", logger="kotacerdas.ops.health"):
        checks = client.get(reverse("ops:health")).json()["checks"]

    skipped = [name for name in health.CHECKS if name != "database"]
    for name in skipped:
        assert checks[name] == {
            "status": "fail",
            "message": "not run because the database check failed",
        }
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage() == (
        "health check database failed: connection to the database server failed"
    )


@pytest.mark.django_db
def test_health_503_until_worker_beats(client):
    before = client.get(reverse("ops:health"))
    beat()
    after = client.get(reverse("ops:health"))

    assert before.status_code == 503
    assert before.json()["checks"]["worker"]["status"] == "fail"
    assert after.status_code == 200
    assert after.json()["status"] == "ok"
    assert set(after.json()["checks"]) == set(health.CHECKS)


@pytest.mark.django_db
def test_health_warn_still_200(client, settings):
    beat()
    settings.KOTACERDAS_HEALTH_DB_WARN_MS = 0.000001

    response = client.get(reverse("ops:health"))

    assert response.status_code == 200
    assert response.json()["status"] == "warn"
    assert response.json()["checks"]["database"]["status"] == "warn"


@pytest.mark.django_db
def test_health_post_not_allowed(client):
    assert client.post(reverse("ops:health")).status_code == 405


# --- worker -------------------------------------------------------------------


@pytest.mark.django_db
def test_worker_check_ages_into_warn_fail():
    beat()

    assert check("worker").status == "ok"
    assert check("worker", later(121)).status == "warn"
    assert check("worker", later(601)).status == "fail"
    assert "is 601 s old" in check("worker", later(601)).message


@pytest.mark.django_db
def test_worker_check_names_failing_job():
    class FailingJob:
        name = "levy-billing"
        failures = 0

    heartbeat = ProcessHeartbeat(WORKER, instance="test-host")
    for _ in range(3):
        FailingJob.failures += 1
        heartbeat.record_job(FailingJob, 0.5, failed=True)
    heartbeat.beat(force=True)

    result = check("worker")
    assert result.status == "warn"
    assert result.values["failing_jobs"] == ["levy-billing"]
    assert result.message.endswith("; failing jobs: levy-billing")


@pytest.mark.django_db(transaction=True)
def test_worker_loop_writes_heartbeat():
    worker = Worker([])
    worker.heartbeat.interval_s = 0.0
    runs: list[int] = []

    def count() -> None:
        runs.append(1)
        if len(runs) == 3:
            worker.stop()

    worker.jobs = [Job("seal", journal.seal_pending, 0.01), Job("count", count, 0.01)]
    worker.run_forever()

    row = Heartbeat.objects.get(kind=WORKER)
    jobs = row.stats["jobs"]
    assert row.pid == os.getpid()
    assert jobs["count"]["runs"] == 3
    assert jobs["seal"]["failures"] == 0
    assert jobs["seal"]["duration_sum_s"] >= jobs["seal"]["last_duration_s"] >= 0
    assert check("worker").status == "ok"


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


@pytest.mark.django_db(transaction=True)
def test_worker_process_beats_until_stopped():
    append(3)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
        "DATABASE_URL": child_database_url(),
        "KOTACERDAS_HEARTBEAT_INTERVAL_S": "1",
    }
    command = [sys.executable, "-m", "django", "worker", "--seal-interval", "0.1"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            row = Heartbeat.objects.filter(kind=WORKER).first()
            if row and "seal" in row.stats.get("jobs", {}):
                break
            time.sleep(0.2)
        ok_while_running = check("worker")
        checkpoint = check("checkpoint")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    log = process.stderr.read().decode() if process.stderr else ""
    stopped_at = Heartbeat.objects.get(kind=WORKER).beat_at

    assert code == 0, log[-1000:]
    assert ok_while_running.status == "ok", ok_while_running.message
    assert checkpoint.values["unsealed_entries"] == 0
    assert check("worker", stopped_at + timedelta(seconds=200)).status == "warn"
    assert check("worker", stopped_at + timedelta(seconds=700)).status == "fail"


# --- checkpoint ---------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoint_unsealed_entries_age():
    seal(2)
    append(3)

    waiting = check("checkpoint")
    assert waiting.status == "ok"
    assert waiting.values["unsealed_entries"] == 3
    assert waiting.values["sealed_entries"] == 2
    assert check("checkpoint", later(61)).status == "warn"
    failing = check("checkpoint", later(601))
    assert failing.status == "fail"
    assert failing.message.startswith("3 journal entries wait to be sealed")


@pytest.mark.django_db
def test_checkpoint_ok_once_sealed():
    append(3)
    journal.seal_pending()

    result = check("checkpoint", later(10_000))

    assert result.status == "ok"
    assert result.message == "all 3 journal entries are sealed"
    assert result.values["latest_block"] == 0


# --- witnesses ----------------------------------------------------------------


@pytest.mark.django_db
def test_witness_check_without_witnesses_ok():
    seal(2)

    result = check("witness", later(10_000))

    assert result.status == "ok"
    assert result.values["active_witnesses"] == 0


@pytest.mark.django_db
def test_witness_too_few_for_quorum_fails(settings):
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    add_witness("witness.pemkot.test")

    result = check("witness")

    assert result.status == "fail"
    assert result.message == "1 active witnesses cannot meet the quorum of 2"


@pytest.mark.django_db
def test_witness_lag_warns_then_fails(settings):
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    first = seal(2)
    pemkot = add_witness("witness.pemkot.test")
    bank = add_witness("witness.bank.test")
    cosign(first, pemkot)
    cosign(first, bank)
    second = seal(3)
    cosign(second, pemkot)

    current = check("witness")
    warned = check("witness", later(301))
    failed = check("witness", later(1801))

    assert current.status == "ok"
    assert current.values["quorum_met"] is True
    assert warned.status == "warn"
    assert warned.message.endswith("; lagging: witness.bank.test")
    bank_row = next(
        row for row in warned.values["witnesses"] if row["name"] == bank.name
    )
    assert bank_row["backlog_entries"] == 3
    assert failed.status == "fail"
    assert failed.values["quorum_met"] is False


@pytest.mark.django_db
def test_one_lagging_witness_warns_only(settings):
    settings.KOTACERDAS_WITNESS_QUORUM = 1
    first = seal(2)
    pemkot = add_witness("witness.pemkot.test")
    bank = add_witness("witness.bank.test")
    cosign(first, pemkot)

    result = check("witness", later(1801))

    assert result.status == "warn"
    assert result.values["quorum_lag_s"] == 0
    assert [row["status"] for row in result.values["witnesses"]] == ["fail", "ok"]
    assert bank.name in result.message


# --- anchors ------------------------------------------------------------------


def deployment(in_process: bool = False) -> ChainDeployment:
    return ChainDeployment.objects.create(
        chain_id=31337,
        genesis_hash="0x" + "00" * 32,
        address="0x" + "11" * 20,
        deploy_tx="0x" + "22" * 32,
        partners=[],
        threshold=1,
        in_process=in_process,
    )


def confirm_anchor(block: Block, chain: ChainDeployment) -> Anchor:
    return Anchor.objects.create(
        block=block,
        deployment=chain,
        sender="0x" + "44" * 20,
        nonce=block.height,
        tx_hash=f"0x{block.height:064x}",
        status=Anchor.Status.CONFIRMED,
        sent_at=timezone.now(),
        confirmed_at=timezone.now(),
    )


@pytest.mark.django_db
def test_anchor_lag_warns_then_fails():
    seal(4)

    assert check("anchor").status == "ok"
    assert check("anchor", later(901)).status == "warn"
    failed = check("anchor", later(3601))
    assert failed.status == "fail"
    assert failed.values["lag_entries"] == 4


@pytest.mark.django_db
def test_confirmed_anchor_clears_lag():
    first = seal(2)
    confirm_anchor(first, deployment())
    seal(3)

    lagging = check("anchor", later(1000))
    confirm_anchor(Block.objects.get(height=1), ChainDeployment.objects.get())
    anchored = check("anchor", later(1000))

    assert lagging.status == "warn"
    assert lagging.values["lag_entries"] == 3
    assert anchored.status == "ok"
    assert anchored.message == "every witnessed checkpoint is anchored"


@pytest.mark.django_db
def test_anchor_targets_witnessed_block(settings):
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    first = seal(2)
    pemkot = add_witness("witness.pemkot.test")
    bank = add_witness("witness.bank.test")
    cosign(first, pemkot)
    cosign(first, bank)
    second = seal(3)
    cosign(second, pemkot)
    confirm_anchor(first, deployment())

    result = check("anchor", later(10_000))

    assert result.status == "ok"
    assert result.values["target_block"] == first.height
    assert result.values["lag_entries"] == 0


@pytest.mark.django_db
def test_in_process_chain_anchor_warns():
    seal(2)
    chain = chains.new_in_process_chain()

    anchor = anchoring.anchor_now(chain, timeout_s=30)
    result = check("anchor")

    assert anchor is not None
    assert anchor.status == Anchor.Status.CONFIRMED
    assert result.values["lag_entries"] == 0
    assert result.values["in_process_chain"] is True
    assert result.status == "warn"
    assert result.message.endswith("which is lost on restart")


# --- sensor intake ------------------------------------------------------------


@pytest.mark.django_db
def test_mqtt_check_without_sensors_ok(city):
    assert check("mqtt").message == "no active container has a sensor"


@pytest.mark.django_db
def test_mqtt_check_fails_without_intake(city):
    sensor_container(city)

    result = check("mqtt")

    assert result.status == "fail"
    assert "start `kotacerdas sensor-intake`" in result.message


@pytest.mark.django_db
def test_mqtt_check_off_by_setting(city, settings):
    sensor_container(city)
    settings.KOTACERDAS_HEALTH_MQTT_INTAKE = False

    assert check("mqtt").status == "ok"


@pytest.mark.django_db
def test_mqtt_message_age_warns_then_fails(city):
    sensor_container(city)
    beat(SENSOR_INTAKE, last_message_at=timezone.now(), messages={"stored": 4})

    assert check("mqtt").status == "ok"
    # The heartbeat keeps coming while no message arrives.
    Heartbeat.objects.update(beat_at=later(1801))
    assert check("mqtt", later(1802)).status == "warn"
    Heartbeat.objects.update(beat_at=later(10801))
    assert check("mqtt", later(10802)).status == "fail"


@pytest.mark.django_db
def test_mqtt_stopped_intake_fails(city):
    sensor_container(city)
    beat(SENSOR_INTAKE, last_message_at=timezone.now())

    result = check("mqtt", later(601))

    assert result.status == "fail"
    assert result.values["heartbeat_age_s"] >= 601


def broker_or_skip() -> tuple[str, int]:
    """Return the local Mosquitto's address; fail under CI=true when it is down."""
    host, port = "127.0.0.1", 1883
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return host, port
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("Mosquitto is not answering at 127.0.0.1:1883 (CI=true)")
        pytest.skip("Mosquitto is not answering at 127.0.0.1:1883")


@pytest.mark.django_db(transaction=True)
def test_intake_heartbeat_counts_messages(city, settings):
    host, port = broker_or_skip()
    settings.KOTACERDAS_HEARTBEAT_INTERVAL_S = 0.2
    container = sensor_container(city)
    prefix = f"kotacerdas-test/{uuid.uuid4().hex[:12]}/containers"
    intake = SensorIntake(Broker(host, port), prefix, f"test-{uuid.uuid4().hex[:8]}")
    intake.start()
    try:
        assert intake.subscribed.wait(10), "the intake did not subscribe"
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
        publisher.connect(host, port)
        publisher.loop_start()
        reading = (
            f'{{"fillingLevel": 0.4, "dateObserved": "{timezone.now().isoformat()}"}}'
        )
        publisher.publish(
            f"{prefix}/{container.sensor_id}", reading, qos=1
        ).wait_for_publish(10)
        publisher.publish(f"{prefix}/unknown-sensor", reading, qos=1).wait_for_publish(
            10
        )
        publisher.disconnect()
        publisher.loop_stop()
        deadline = time.monotonic() + 10
        stats: dict = {}
        while time.monotonic() < deadline:
            row = Heartbeat.objects.filter(kind=SENSOR_INTAKE).first()
            stats = row.stats if row else {}
            if sum(stats.get("messages", {}).values()) == 2:
                break
            time.sleep(0.1)
    finally:
        intake.stop()
        cleanup = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=intake.client_id, clean_session=True
        )
        cleanup.connect(host, port)
        cleanup.disconnect()

    assert stats["messages"] == {"stored": 1, "rejected": 1}
    assert stats["last_message_at"] is not None
    assert check("mqtt").status == "ok"
    assert not intake.heartbeat_thread.thread.is_alive()


# --- rollups ------------------------------------------------------------------


@pytest.mark.django_db
def test_rollups_lag_until_folded():
    append(5)

    waiting = check("rollups", later(301))
    failing = check("rollups", later(1801))
    projector.catch_up()
    folded = check("rollups", later(10_000))

    assert waiting.status == "warn"
    assert waiting.values["lag_entries"] == 5
    assert failing.status == "fail"
    assert folded.status == "ok"
    assert folded.values["position"] == 5
