"""Health checks and the /healthz, /readyz and /health endpoints.

Each check returns ok, warn or fail, a sentence for a person and the numbers
behind it. The age limits come from KOTACERDAS_HEALTH_AGE_LIMITS_S. Every
check reads a few indexed rows, never a whole large table, so a monitor may
poll /health every few seconds. docs/monitoring.md lists each check.

- /healthz returns 200 while the process serves requests. It reads nothing.
- /readyz runs the database check only: whether this app server can serve.
  Point a load balancer here, because a lagging witness or a stopped worker
  is no reason to take an app server out of rotation.
- /health runs every check and returns 503 when any check fails.

Who gets the numbers and names (witnesses, hosts) is decided by
`may_read_details`. Everyone else gets each check's status only. No check
reports secrets or personal data.
"""

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kotacerdas.command import projector
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import (
    Anchor,
    Block,
    ChainDeployment,
    Cosignature,
    Entry,
    Witness,
)
from kotacerdas.ops.heartbeat import SENSOR_INTAKE, WORKER
from kotacerdas.ops.models import Heartbeat
from kotacerdas.waste.models import Container

logger = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
SEVERITY = {OK: 0, WARN: 1, FAIL: 2}
# A worker job that failed this many runs in a row makes the worker check warn.
FAILING_JOB_RUNS = 3
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


@dataclass
class CheckResult:
    """The outcome of one check: status, a sentence, and the numbers behind it."""

    name: str
    status: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)


def worst(statuses: list[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OK)


def age_status(age_s: float, check: str) -> str:
    warn_s, fail_s = settings.KOTACERDAS_HEALTH_AGE_LIMITS_S[check]
    if age_s > fail_s:
        return FAIL
    if age_s > warn_s:
        return WARN
    return OK


def seconds_since(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    return max(0.0, round((now - moment).total_seconds(), 3))


def first_block_after(tree_size: int) -> Block | None:
    """Return the oldest block that contains entries beyond `tree_size`."""
    return Block.objects.filter(tree_size__gt=tree_size).order_by("tree_size").first()


def wait_since_block_after(tree_size: int, now: datetime) -> float:
    """Return how long the first block beyond `tree_size` has waited, or 0."""
    block = first_block_after(tree_size)
    return seconds_since(block.sealed_at if block else None, now)


def entry_wait(seq: int, now: datetime) -> float:
    """Return the age of entry `seq` (by primary key), or 0 when it does not exist."""
    recorded = Entry.objects.filter(seq=seq).values_list("recorded_at", flat=True)
    return seconds_since(recorded.first(), now)


# --- the checks ---------------------------------------------------------------


def check_database(now: datetime) -> CheckResult:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    values = {"vendor": connection.vendor, "latency_ms": latency_ms}
    if latency_ms > settings.KOTACERDAS_HEALTH_DB_WARN_MS:
        message = f"SELECT 1 took {latency_ms} ms, above the warn limit"
        return CheckResult("database", WARN, message, values)
    message = f"SELECT 1 took {latency_ms} ms"
    return CheckResult("database", OK, message, values)


def heartbeat_rows(kind: str, now: datetime) -> list[dict[str, Any]]:
    """Return the heartbeats of a process kind, freshest first, with their ages."""
    rows = Heartbeat.objects.filter(kind=kind).order_by("-beat_at")
    return [
        {
            "instance": row.instance,
            "pid": row.pid,
            "started_at": row.started_at.isoformat(),
            "age_s": seconds_since(row.beat_at, now),
            "stats": row.stats,
        }
        for row in rows
    ]


def check_worker(now: datetime) -> CheckResult:
    """Fail when no worker has beaten recently; warn on a job failing in a row."""
    rows = heartbeat_rows(WORKER, now)
    if not rows:
        message = "no worker has written a heartbeat; start `kotacerdas worker`"
        return CheckResult("worker", FAIL, message)
    freshest = rows[0]
    status = age_status(freshest["age_s"], "heartbeat")
    failing = sorted(
        {
            name
            for row in rows
            if age_status(row["age_s"], "heartbeat") != FAIL
            for name, job in row["stats"].get("jobs", {}).items()
            if job.get("failures_in_a_row", 0) >= FAILING_JOB_RUNS
        }
    )
    message = f"the latest worker heartbeat is {freshest['age_s']:.0f} s old"
    if failing and status == OK:
        status = WARN
    if failing:
        message += f"; failing jobs: {', '.join(failing)}"
    instances = [
        {key: row[key] for key in ("instance", "pid", "started_at", "age_s")}
        for row in rows
    ]
    values = {"instances": instances, "failing_jobs": failing}
    return CheckResult("worker", status, message, values)


def check_checkpoint(now: datetime) -> CheckResult:
    """Measure the age of the oldest journal entry that no signed block contains."""
    size = journal.journal_size()
    latest = journal.latest_block()
    sealed = latest.tree_size if latest else 0
    unsealed = size - sealed
    age_s = entry_wait(sealed, now) if unsealed > 0 else 0.0
    values = {
        "entries": size,
        "sealed_entries": sealed,
        "unsealed_entries": unsealed,
        "oldest_unsealed_age_s": age_s,
        "latest_block": latest.height if latest else None,
        "latest_block_age_s": seconds_since(latest.sealed_at, now) if latest else None,
    }
    if unsealed == 0:
        message = f"all {size} journal entries are sealed"
        return CheckResult("checkpoint", OK, message, values)
    message = (
        f"{unsealed} journal entries wait to be sealed, the oldest for {age_s:.0f} s"
    )
    return CheckResult("checkpoint", age_status(age_s, "checkpoint"), message, values)


def check_witnesses(now: datetime) -> CheckResult:
    """Measure how far each witness and the quorum lag behind the latest block.

    A witness's lag is the age of the oldest block beyond the size it last
    co-signed, as the node recorded it. The quorum's lag is the lag of the
    quorum-th most current witness, so the quorum is met while that lag is
    within the warn age.
    """
    quorum = int(settings.KOTACERDAS_WITNESS_QUORUM)
    witnesses = list(
        Witness.objects.filter(active=True)
        .order_by("name")
        .values("name", "last_size", "failures")
    )
    values: dict[str, Any] = {"quorum": quorum, "active_witnesses": len(witnesses)}
    if not witnesses:
        message = "no witness is active, so checkpoints are not co-signed"
        return CheckResult("witness", OK, message, values)

    latest = journal.latest_block()
    tree_size = latest.tree_size if latest else 0
    rows: list[dict[str, Any]] = [
        {
            "name": witness["name"],
            "backlog_entries": max(0, tree_size - witness["last_size"]),
            "lag_s": wait_since_block_after(witness["last_size"], now),
            "failures_in_a_row": witness["failures"],
        }
        for witness in witnesses
    ]
    for row in rows:
        row["status"] = age_status(row["lag_s"], "witness")
    values["witnesses"] = rows
    if len(witnesses) < quorum:
        message = (
            f"{len(witnesses)} active witnesses cannot meet the quorum of {quorum}"
        )
        return CheckResult("witness", FAIL, message, values)

    quorum_lag_s = sorted(row["lag_s"] for row in rows)[quorum - 1]
    status = age_status(quorum_lag_s, "witness")
    lagging = [row["name"] for row in rows if row["status"] != OK]
    if status == OK and lagging:
        status = WARN
    values["quorum_lag_s"] = quorum_lag_s
    values["quorum_met"] = age_status(quorum_lag_s, "witness") == OK
    message = f"the quorum of {quorum} lags {quorum_lag_s:.0f} s behind"
    if lagging:
        message += f"; lagging: {', '.join(lagging)}"
    return CheckResult("witness", status, message, values)


def latest_witnessed_block() -> Block | None:
    """Return the latest block with a quorum of cosignatures.

    The grouped query walks the (block, witness) unique index from the newest
    block down and stops at the first block with enough cosignatures.
    """
    row = (
        Cosignature.objects.values("block_id")
        .annotate(signers=Count("witness_id"))
        .filter(signers__gte=int(settings.KOTACERDAS_WITNESS_QUORUM))
        .order_by("-block_id")
        .first()
    )
    return Block.objects.get(pk=row["block_id"]) if row else None


def check_anchor(now: datetime) -> CheckResult:
    """Measure how long the oldest block without a confirmed anchor has waited.

    When no witness is active the anchor job anchors unwitnessed blocks, so the
    latest block is the target then.
    """
    if Witness.objects.filter(active=True).exists():
        target = latest_witnessed_block()
    else:
        target = journal.latest_block()
    anchored = (
        Anchor.objects.filter(status=Anchor.Status.CONFIRMED)
        .select_related("block")
        .order_by("-block_id")
        .first()
    )
    anchored_size = anchored.block.tree_size if anchored else 0
    target_size = target.tree_size if target else 0
    lag_entries = max(0, target_size - anchored_size)
    lag_s = wait_since_block_after(anchored_size, now) if lag_entries else 0.0
    deployment = ChainDeployment.objects.order_by("-deployed_at").first()
    values = {
        "target_block": target.height if target else None,
        "anchored_block": anchored.block_id if anchored else None,
        "lag_entries": lag_entries,
        "lag_s": lag_s,
        "in_process_chain": deployment.in_process if deployment else None,
    }
    status = age_status(lag_s, "anchor")
    if lag_entries == 0:
        message = "every witnessed checkpoint is anchored"
    else:
        message = f"{lag_entries} witnessed entries wait {lag_s:.0f} s for an anchor"
    if deployment is not None and deployment.in_process:
        status = worst([status, WARN])
        message += "; anchors are on the in-process chain, which is lost on restart"
    return CheckResult("anchor", status, message, values)


def check_sensor_intake(now: datetime) -> CheckResult:
    """Check the MQTT intake's heartbeat and last message, when sensors are fitted.

    A newly started intake counts its start as its last message, so it is not
    reported silent before it has had time to receive one.
    """
    if not settings.KOTACERDAS_HEALTH_MQTT_INTAKE:
        message = "not checked (KOTACERDAS_HEALTH_MQTT_INTAKE is off)"
        return CheckResult("mqtt", OK, message)
    sensors = Container.objects.filter(active=True).exclude(sensor_id="").count()
    if sensors == 0:
        message = "no active container has a sensor"
        return CheckResult("mqtt", OK, message, {"sensors": 0})
    rows = heartbeat_rows(SENSOR_INTAKE, now)
    if not rows:
        message = (
            f"{sensors} containers have sensors but no sensor intake has written "
            "a heartbeat; start `kotacerdas sensor-intake`"
        )
        return CheckResult("mqtt", FAIL, message, {"sensors": sensors})
    heartbeat_age_s = rows[0]["age_s"]
    message_age_s = min(
        seconds_since(
            datetime.fromisoformat(
                row["stats"].get("last_message_at") or row["started_at"]
            ),
            now,
        )
        for row in rows
    )
    status = worst(
        [age_status(heartbeat_age_s, "heartbeat"), age_status(message_age_s, "mqtt")]
    )
    values = {
        "sensors": sensors,
        "heartbeat_age_s": heartbeat_age_s,
        "last_message_age_s": message_age_s,
        "instances": [row["instance"] for row in rows],
    }
    message = (
        f"the intake's heartbeat is {heartbeat_age_s:.0f} s old and its last "
        f"message {message_age_s:.0f} s old"
    )
    return CheckResult("mqtt", status, message, values)


def check_rollups(now: datetime) -> CheckResult:
    """Measure how far the command center's rollups lag behind the journal."""
    size = journal.journal_size()
    position = projector.position()
    lag_entries = max(0, size - position)
    lag_s = entry_wait(position, now) if lag_entries else 0.0
    values = {"position": position, "lag_entries": lag_entries, "lag_s": lag_s}
    if lag_entries == 0:
        message = f"the rollups contain all {size} journal entries"
        return CheckResult("rollups", OK, message, values)
    message = f"{lag_entries} journal entries wait {lag_s:.0f} s for the rollups"
    return CheckResult("rollups", age_status(lag_s, "rollups"), message, values)


CHECKS: dict[str, Callable[[datetime], CheckResult]] = {
    "database": check_database,
    "worker": check_worker,
    "checkpoint": check_checkpoint,
    "witness": check_witnesses,
    "anchor": check_anchor,
    "mqtt": check_sensor_intake,
    "rollups": check_rollups,
}


def run_checks(
    now: datetime | None = None, names: list[str] | None = None
) -> list[CheckResult]:
    """Run the named checks (all by default); a database error fails that check.

    When the database check itself fails, the checks after it fail without
    running, so an outage logs one warning per call instead of one per check.
    """
    now = now or timezone.now()
    results: list[CheckResult] = []
    database_down = False
    for name in names or list(CHECKS):
        if database_down:
            message = "not run because the database check failed"
            results.append(CheckResult(name, FAIL, message))
            continue
        try:
            results.append(CHECKS[name](now))
        except DatabaseError as error:
            logger.warning("health check %s failed: %s", name, error)
            message = f"the check failed with a database error ({type(error).__name__})"
            results.append(CheckResult(name, FAIL, message))
            database_down = name == "database"
    return results


# --- who reads the details ----------------------------------------------------


def has_metrics_token(request: HttpRequest) -> bool:
    token = settings.KOTACERDAS_METRICS_TOKEN
    scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def is_direct_loopback(request: HttpRequest) -> bool:
    """Return whether the request came from this machine without a proxy.

    A reverse proxy on the same machine also connects from 127.0.0.1, so a
    request that carries a proxy header is not trusted as local.
    """
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    proxied = any(header in request.headers for header in PROXY_HEADERS)
    return address.is_loopback and not proxied


def has_monitoring_permission(request: HttpRequest) -> bool:
    """Return whether the signed-in user has ops.view_monitoring.

    Reading the session needs the database. While the database is down this
    returns False, so the token and loopback rules still work then.
    """
    user = getattr(request, "user", None)
    if user is None:
        return False
    try:
        return bool(user.has_perm("ops.view_monitoring"))
    except DatabaseError:
        return False


def may_read_details(request: HttpRequest) -> bool:
    """Return whether the request may read metrics and the detailed health report.

    Allowed: the bearer token KOTACERDAS_METRICS_TOKEN, or a signed-in user
    with ops.view_monitoring. While no token is configured, also a request
    sent straight to the app server from this machine.
    """
    if has_metrics_token(request):
        return True
    if has_monitoring_permission(request):
        return True
    if settings.KOTACERDAS_METRICS_TOKEN:
        return False
    return is_direct_loopback(request)


# --- views --------------------------------------------------------------------


def report(results: list[CheckResult], detailed: bool) -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {}
    for result in results:
        entry: dict[str, Any] = {"status": result.status}
        if detailed:
            entry["message"] = result.message
            entry.update(result.values)
        checks[result.name] = entry
    body: dict[str, Any] = {"status": worst([r.status for r in results])}
    if detailed:
        body["checked_at"] = timezone.now().isoformat()
        body["instance"] = settings.KOTACERDAS_INSTANCE_NAME
    body["checks"] = checks
    return body


def report_response(request: HttpRequest, names: list[str] | None) -> JsonResponse:
    results = run_checks(names=names)
    body = report(results, detailed=may_read_details(request))
    response = JsonResponse(body, status=503 if body["status"] == FAIL else 200)
    # Django logs every 5xx response at ERROR; a monitor polling a failing
    # check would fill the log with one line per poll, so this one is skipped.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    return report_response(request, ["database"])


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    return report_response(request, None)
