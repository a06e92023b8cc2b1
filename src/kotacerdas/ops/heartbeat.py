"""Heartbeats of long-running processes, written to the `ops.Heartbeat` table.

The worker and the sensor intake keep their counters in memory and write them
with the heartbeat, at most once per KOTACERDAS_HEARTBEAT_INTERVAL_S. So the
health report and /metrics read one small row per process, on any app server,
instead of asking the processes themselves.
"""

import logging
import os
import threading
import time
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from kotacerdas.ops.models import Heartbeat

logger = logging.getLogger(__name__)

WORKER = "worker"
SENSOR_INTAKE = "sensor-intake"


class FinishedJob(Protocol):
    """The attributes of a worker job (`journal.worker.Job`) that the heartbeat reads."""

    name: str
    failures: int


class ProcessHeartbeat:
    """Counters of one process, written to its heartbeat row when a beat is due.

    Methods may be called from several threads: the sensor intake counts
    messages in paho's network thread while `HeartbeatThread` writes.
    """

    def __init__(
        self,
        kind: str,
        instance: str | None = None,
        interval_s: float | None = None,
    ) -> None:
        self.kind = kind
        self.instance = instance or settings.KOTACERDAS_INSTANCE_NAME
        self.interval_s = (
            interval_s
            if interval_s is not None
            else float(settings.KOTACERDAS_HEARTBEAT_INTERVAL_S)
        )
        self.started_at = timezone.now()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, int] = {}
        self.last_message_at: datetime | None = None
        self._last_write = float("-inf")
        self._failed_writes = 0
        self._lock = threading.Lock()

    def record_job(self, job: FinishedJob, duration_s: float, *, failed: bool) -> None:
        """Count one run of a worker job; `job.failures` is its failures in a row."""
        now = timezone.now()
        with self._lock:
            stats = self.jobs.setdefault(
                job.name,
                {"runs": 0, "failures": 0, "duration_sum_s": 0.0},
            )
            stats["runs"] += 1
            stats["duration_sum_s"] += duration_s
            stats["last_duration_s"] = duration_s
            stats["failures_in_a_row"] = job.failures
            if failed:
                stats["failures"] += 1
                stats["last_failure_at"] = now.isoformat()
            else:
                stats["last_success_at"] = now.isoformat()

    def record_message(self, outcome: str) -> None:
        """Count one sensor message by its intake outcome (stored, rejected, ...)."""
        with self._lock:
            self.messages[outcome] = self.messages.get(outcome, 0) + 1
            self.last_message_at = timezone.now()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            stats: dict[str, Any] = {}
            if self.jobs:
                stats["jobs"] = {name: dict(job) for name, job in self.jobs.items()}
            if self.kind == SENSOR_INTAKE:
                stats["messages"] = dict(self.messages)
                stats["last_message_at"] = (
                    self.last_message_at.isoformat() if self.last_message_at else None
                )
            return stats

    def beat(self, *, force: bool = False) -> bool:
        """Write the heartbeat row if the interval has passed; return whether it wrote.

        A database error is logged on its first occurrence and on recovery,
        and the next call tries again, so a database outage does not stop the
        process that beats.
        """
        monotonic_now = time.monotonic()
        if not force and monotonic_now - self._last_write < self.interval_s:
            return False
        self._last_write = monotonic_now
        try:
            Heartbeat.objects.update_or_create(
                kind=self.kind,
                instance=self.instance,
                defaults={
                    "pid": os.getpid(),
                    "started_at": self.started_at,
                    "beat_at": timezone.now(),
                    "stats": self.snapshot(),
                },
            )
        except DatabaseError as error:
            self._failed_writes += 1
            if self._failed_writes == 1:
                logger.warning(
                    "%s heartbeat on %s could not be written: %s",
                    self.kind,
                    self.instance,
                    error,
                )
            return False
        if self._failed_writes:
            logger.info(
                "%s heartbeat on %s written again after %s failed writes",
                self.kind,
                self.instance,
                self._failed_writes,
            )
            self._failed_writes = 0
        return True


class HeartbeatThread:
    """A daemon thread that writes a heartbeat every interval until `stop()`.

    For processes whose main loop waits on something else, such as the sensor
    intake, which waits for MQTT messages.
    """

    def __init__(self, heartbeat: ProcessHeartbeat) -> None:
        self.heartbeat = heartbeat
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"{heartbeat.kind}-heartbeat", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout_s)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                # Drops a connection that a database outage left broken.
                close_old_connections()
                self.heartbeat.beat(force=True)
                self.stopping.wait(self.heartbeat.interval_s)
        finally:
            # The thread's own connection, so that no test database or
            # PostgreSQL session is left open after the process stops beating.
            connections.close_all()
