"""Fail the test run when a log line or a journal payload carries personal data.

For the whole session, every log record that reaches the root logger is written
to var/test-output/logs/<run>.log, and every journal body encoded by
`journal.services` (the one place entries are built) to
var/test-output/journal-payloads/<run>.jsonl. The full names of the registry
members that tests created are collected after each database test. When the
session ends, `kotacerdas.ops.pii_scan` searches both files for NIK/KK-like
numbers, phone numbers and those names; any finding fails the run and is
listed, masked, in var/test-output/pii-findings-<run>.txt.

Log records written while a test under tests/fuzz/ runs are not kept: those
tests send random input on purpose, and Django logs the random request paths
("Not Found: /api/journal/entries/<16 random digits>"), which look like a NIK
but are not anyone's data.

Set KOTACERDAS_PII_SCAN=0 to switch the check off for a local run. Processes
that tests start (web servers, workers) log to their own output and are not
captured here.
"""

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "var" / "test-output"
DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
# Each run writes up to tens of megabytes, so files of older runs are deleted.
# A day is longer than any session, so no running session loses its files.
KEEP_FOR_S = 24 * 3600
# Tests under these directories feed random input; their log lines are not kept.
RANDOM_INPUT_DIRS = (ROOT / "tests" / "fuzz",)


def enabled() -> bool:
    return os.environ.get("KOTACERDAS_PII_SCAN", "1") != "0"


class PersonalDataCheck:
    """The plugin that captures and checks the logs and payloads of one session."""

    def __init__(self) -> None:
        database = (
            "postgresql"
            if os.environ.get("DATABASE_URL", "").startswith("postgres")
            else "sqlite"
        )
        self.run = (
            f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-{database}"
        )
        self.log_path = OUTPUT_DIR / "logs" / f"{self.run}.log"
        self.payload_path = OUTPUT_DIR / "journal-payloads" / f"{self.run}.jsonl"
        self.findings_path = OUTPUT_DIR / f"pii-findings-{self.run}.txt"
        self.names: set[str] = set()
        self.finding_count = 0
        self.handler: logging.Handler | None = None
        self.payload_file: Any = None
        self.original_encode_body: Any = None
        self.random_input_test = False

    # Capture -----------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # Django configures logging in pytest-django's setup, which replaces the
        # root logger's handlers, so the handler is attached after that.
        from kotacerdas.journal import services as journal_services

        for directory in (self.log_path.parent, self.payload_path.parent):
            directory.mkdir(parents=True, exist_ok=True)
            _prune(directory)
        self.handler = logging.FileHandler(self.log_path, encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
        self.handler.addFilter(lambda record: not self.random_input_test)
        self._attach_handler()

        self.payload_file = self.payload_path.open("wb")
        self.original_encode_body = journal_services.encode_body
        original = self.original_encode_body
        payload_file = self.payload_file

        def encode_body(*args: Any, **kwargs: Any) -> bytes:
            body: bytes = original(*args, **kwargs)
            payload_file.write(body + b"\n")
            return body

        journal_services.encode_body = encode_body  # type: ignore[assignment]

    def _attach_handler(self) -> None:
        root = logging.getLogger()
        if self.handler is not None and self.handler not in root.handlers:
            root.addHandler(self.handler)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        path = Path(str(item.path))
        self.random_input_test = any(
            path.is_relative_to(directory) for directory in RANDOM_INPUT_DIRS
        )
        yield
        self.random_input_test = False

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        # A test that reconfigures logging (dictConfig) drops the handler.
        self._attach_handler()
        yield
        if item.get_closest_marker("django_db") or DB_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            self._collect_names()

    def _collect_names(self) -> None:
        from kotacerdas.ops.pii_scan import registry_names

        # A test that left its transaction broken (PostgreSQL) or dropped its
        # tables cannot be read, and its names are then not collected.
        with contextlib.suppress(DatabaseError):
            self.names.update(registry_names())

    # Check -------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from kotacerdas.journal import services as journal_services
        from kotacerdas.ops.pii_scan import Scanner

        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
        if self.payload_file is not None:
            journal_services.encode_body = self.original_encode_body
            self.payload_file.close()
        if self.handler is None:
            return

        scanner = Scanner(self.names)
        paths = [self.log_path, self.payload_path]
        findings = list(scanner.scan_paths(path for path in paths if path.exists()))
        self.finding_count = len(findings)
        if findings:
            self.findings_path.write_text(
                "".join(f"{finding}\n" for finding in findings), encoding="utf-8"
            )
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.handler is None:
            return
        if self.finding_count:
            terminalreporter.write_line(
                f"personal-data check FAILED: {self.finding_count} finding(s) in "
                f"the logs or journal payloads of this run; see {self.findings_path}",
                red=True,
            )
        else:
            terminalreporter.write_line(
                f"personal-data check: no NIK/KK, phone or registry name (of "
                f"{len(self.names)}) in {self.log_path.name} or "
                f"{self.payload_path.name}"
            )


def _prune(directory: Path) -> None:
    """Delete the files in `directory` last written more than KEEP_FOR_S ago."""
    cutoff = time.time() - KEEP_FOR_S
    for path in directory.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
