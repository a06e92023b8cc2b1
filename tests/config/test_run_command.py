"""`kotacerdas run` brings the whole city up from an empty var/ directory."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from kotacerdas.config.management.commands.run import DEMO_WITNESS_FIRST_PORT

STARTUP_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.status, response.read()


def wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"kotacerdas run exited early with {process.returncode}"
            )
        try:
            fetch(url)
            return
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{url} answered {error.code}") from error
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {STARTUP_TIMEOUT_S} s")


@pytest.fixture
def city_process(tmp_path: Path):
    if connection.vendor != "sqlite":
        pytest.skip(
            "the embedded city runs on SQLite; PostgreSQL is covered by the other tests"
        )
    port = free_port()
    env = {
        **os.environ,
        "KOTACERDAS_VAR_DIR": str(tmp_path / "var"),
        "KOTACERDAS_SEAL_INTERVAL_S": "0.5",
        # The city-size demo takes minutes to build; the run flow is the same.
        "KOTACERDAS_DEMO_SIZE": "small",
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
    }
    env.pop("DATABASE_URL", None)
    # Hold the first demo witness's usual port, as another city on the same
    # machine would: the witness must move to a free port, not stop the city.
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", DEMO_WITNESS_FIRST_PORT))
        blocker.listen()
    except OSError:
        pass  # Already taken by something else, which tests the same thing.
    # The output goes to a file: an unread pipe would fill up and block the server.
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kotacerdas.config.cli", "run", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/login/", process)
        yield base, process, tmp_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        log.close()
        blocker.close()


def test_run_serves_city_and_seals(city_process) -> None:
    base, _process, tmp_path = city_process

    deadline = time.monotonic() + 30
    checkpoint: dict[str, object] = {}
    while time.monotonic() < deadline:
        try:
            status, body = fetch(f"{base}/api/journal/checkpoint")
        except OSError:
            time.sleep(0.5)
            continue
        checkpoint = json.loads(body)
        if checkpoint.get("tree_size") == checkpoint.get("journal_size"):
            break
        time.sleep(0.5)

    assert checkpoint.get("tree_size", 0) > 0
    assert checkpoint.get("tree_size") == checkpoint.get("journal_size")
    # The demo witnesses, started beside the city, co-sign it.
    witnessed = ""
    while time.monotonic() < deadline + 30:
        try:
            witnessed = fetch(f"{base}/api/journal/checkpoint/witnessed.txt")[
                1
            ].decode()
        except urllib.error.HTTPError:
            witnessed = ""
        if witnessed.count("\n\u2014 witness.") >= 2:
            break
        time.sleep(0.5)
    assert witnessed.count("\n\u2014 witness.") >= 2, witnessed
    # The publication names this city's own address, not the default port.
    publication = fetch(f"{base}/ledger/publication/")[1].decode()
    assert f"{base}/verify/" in publication
    status, page = fetch(f"{base}/ledger/")
    assert status == 200
    assert b'<html lang="id">' in page
    assert b'data-testid="checkpoint-note"' in page
    key_file = tmp_path / "var" / "keys" / "node-ed25519.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_run_stops_on_sigterm(city_process) -> None:
    _base, process, tmp_path = city_process

    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    output = (tmp_path / "run.log").read_text()

    assert process.returncode == 0
    assert "Kota Cerdas is running at" in output
    assert "Demo logins" in output


def test_run_restarts_a_witness_that_exits(city_process) -> None:
    base, process, tmp_path = city_process
    log = tmp_path / "run.log"
    deadline = time.monotonic() + 60
    started = None
    while started is None and time.monotonic() < deadline:
        started = re.search(r"started witness pemkot process (\d+)", log.read_text())
        time.sleep(0.5)
    assert started, "the log names the witness process"

    os.kill(int(started[1]), signal.SIGTERM)
    while time.monotonic() < deadline:
        if "restarted witness pemkot as process" in log.read_text():
            break
        time.sleep(0.5)

    output = log.read_text()
    assert "witness pemkot process" in output
    assert "restarting in" in output
    assert "restarted witness pemkot as process" in output
    assert process.poll() is None, "the city keeps running"
    assert fetch(f"{base}/ledger/")[0] == 200
