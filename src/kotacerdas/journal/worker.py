"""The background worker loop: seals blocks, and runs the jobs apps register.

Each job is a callable run every `interval_s`. A job that raises is logged with
its name and retried on the next tick with a growing delay, so one failing job
never stops the others. SIGTERM and SIGINT stop the loop between ticks.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections

from kotacerdas.ops.heartbeat import WORKER, ProcessHeartbeat

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0


@dataclass
class Job:
    name: str
    run: Callable[[], object]
    interval_s: float
    next_run: float = 0.0
    failures: int = field(default=0)


_app_jobs: list[tuple[str, Callable[[], object], float]] = []


def register_job(name: str, run: Callable[[], object], interval_s: float) -> None:
    """Add a job that every worker started afterwards runs; call it from ready()."""
    if any(known == name for known, _run, _interval in _app_jobs):
        return
    _app_jobs.append((name, run, interval_s))


def app_jobs() -> list[Job]:
    return [Job(name, run, interval_s) for name, run, interval_s in _app_jobs]


class Worker:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.stopping = threading.Event()
        self.heartbeat = ProcessHeartbeat(WORKER)

    def stop(self, signum: int = 0, frame: object = None) -> None:
        logger.info("worker stopping on signal %s", signum)
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def tick(self) -> None:
        now = time.monotonic()
        for job in self.jobs:
            if now < job.next_run or self.stopping.is_set():
                continue
            close_old_connections()
            started = time.monotonic()
            try:
                job.run()
            except Exception:
                job.failures += 1
                self.heartbeat.record_job(job, time.monotonic() - started, failed=True)
                delay_s = min(job.interval_s * 2**job.failures, MAX_BACKOFF_S)
                job.next_run = time.monotonic() + delay_s
                logger.exception(
                    "worker job %s failed (%s in a row); retrying in %.1f s",
                    job.name,
                    job.failures,
                    delay_s,
                )
                continue
            if job.failures:
                logger.info(
                    "worker job %s recovered (it had failed %s times in a row)",
                    job.name,
                    job.failures,
                )
            job.failures = 0
            self.heartbeat.record_job(job, time.monotonic() - started, failed=False)
            job.next_run = time.monotonic() + job.interval_s
        self.heartbeat.beat()

    def run_forever(self) -> None:
        logger.info(
            "worker started with jobs %s", ", ".join(job.name for job in self.jobs)
        )
        while not self.stopping.is_set():
            self.tick()
            wait_s = max(
                0.05, min(job.next_run for job in self.jobs) - time.monotonic()
            )
            self.stopping.wait(min(wait_s, 1.0))
        logger.info("worker stopped")
