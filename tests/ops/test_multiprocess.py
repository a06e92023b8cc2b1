"""The city node, two partner witnesses and the worker as separate processes.

This is the deployment of docs/operations.md and docs/scale-out.md on one
machine: gunicorn serving `kotacerdas.config.wsgi`, `kotacerdas worker`, and two
`kotacerdas witness serve` processes, each with its own directory and port on
127.0.0.1, against a fresh database that the test creates and drops. The city is
set up with the same commands the guide gives. A building registered through
the web server's API must end up in a checkpoint that both witnesses co-signed.

On the PostgreSQL run the web server and the commands use the production
settings profile, with secrets passed as files and requests sent as nginx
would forward them. On the SQLite run they use the default settings.
"""

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from psycopg import sql

from kotacerdas.config.ports import free_port
from kotacerdas.journal.notes import (
    COSIGNATURE_TYPE,
    Checkpoint,
    Verifier,
    split_note,
    verify_cosignature,
    verify_note,
)

STARTUP_TIMEOUT_S = 60
COSIGNED_TIMEOUT_S = 60
COMMAND_TIMEOUT_S = 300
ADMIN = "cityadmin"
WITNESSES = [
    ("banknagari", "witness.banknagari.test"),
    ("universitas", "witness.universitas.test"),
]
# What nginx adds to every request it forwards over HTTPS.
PROXIED = {"X-Forwarded-Proto": "https"}
BUILDING = {
    "kelurahan_code": "13.74.02.1002",
    "rw": 3,
    "rt": "1",
    "street_address": "Jl. Sudirman No. 12",
    "use": "house",
    "lat": -0.4655,
    "lng": 100.4001,
    "floors": 1,
    "pln_va": 1300,
}


@dataclass
class City:
    """Processes and commands of one city deployed under `root`."""

    root: Path
    env: dict[str, str]
    web_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def command(self, *args: str) -> str:
        """Run `kotacerdas ARGS` and return its output; fail with its log on error."""
        result = subprocess.run(
            [sys.executable, "-m", "kotacerdas.config.cli", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, (
            f"kotacerdas {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
        return result.stdout

    def start(self, name: str, command: list[str]) -> None:
        # The output goes to a file: an unread pipe would fill up and block.
        with (self.root / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_running(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, (
                f"{name} exited with {process.returncode}:\n{self.log(name)}"
            )

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)}" for name in self.processes)

    def stop(self) -> None:
        """Stop every process the test started: SIGTERM, then SIGKILL after 15 s.

        Each one leads its own process group, so gunicorn's workers go too.
        """
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def base_environment(root: Path) -> dict[str, str]:
    """Return the environment of every process, without the test run's own settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KOTACERDAS_", "DJANGO_"))
        and name not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        {
            "KOTACERDAS_VAR_DIR": str(root / "var"),
            "KOTACERDAS_SEAL_INTERVAL_S": "0.5",
            "KOTACERDAS_WITNESS_INTERVAL_S": "0.5",
            "KOTACERDAS_WITNESS_QUORUM": "2",
            # The first anchor run, at the worker's start, finds no witnessed
            # checkpoint yet; the test is about cosignatures, not anchors.
            "KOTACERDAS_ANCHOR_INTERVAL_S": "3600",
            "KOTACERDAS_SENSOR_SIM": "0",
            "KOTACERDAS_DEMO_CREWS": "0",
            "KOTACERDAS_DEMO_CITIZENS": "0",
        }
    )
    return env


def production_environment(root: Path, database_url: str, port: int) -> dict[str, str]:
    """Return the production profile's variables, with the secrets in files."""
    secrets_dir = root / "secrets"
    secrets_dir.mkdir(mode=0o700)
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "KOTACERDAS_PERSONAL_DATA_SALT": secrets.token_urlsafe(50),
        "KOTACERDAS_PII_KEY": _random_pii_key(),
    }
    env = {
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.production",
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "KOTACERDAS_PUBLIC_URL": f"https://127.0.0.1:{port}",
    }
    for name, value in values.items():
        path = secrets_dir / name.lower()
        path.write_text(value + "\n")
        path.chmod(0o600)
        env[f"{name}_FILE"] = str(path)
    return env


def _random_pii_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """Create a fresh database of the run's kind and drop it afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'city.sqlite3'}"
        return
    assert connection.vendor == "postgresql"

    database = settings.DATABASES["default"]
    admin = psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    name = f"kc_multiprocess_{uuid.uuid4().hex[:10]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    user = database["USER"]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    try:
        yield f"postgres://{user}{password}@{host}:{port}/{name}"
    finally:
        # FORCE ends the connections a killed process may have left behind.
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        admin.close()


@pytest.fixture
def city(tmp_path: Path, database_url: str) -> Iterator[City]:
    port = free_port(0)
    env = base_environment(tmp_path)
    if database_url.startswith("postgres"):
        env.update(production_environment(tmp_path, database_url, port))
    else:
        env["DATABASE_URL"] = database_url
        env["DJANGO_SETTINGS_MODULE"] = "kotacerdas.config.settings"
    deployed = City(tmp_path, env, port)
    try:
        yield deployed
    finally:
        deployed.stop()


def wait_until(what: str, city: City, check: Any, timeout_s: float) -> Any:
    """Call `check` until it returns a true value; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        city.check_running()
        try:
            value = check()
        except (requests.ConnectionError, requests.Timeout):
            # Still starting: gunicorn's workers import the whole project first.
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(
        f"timed out after {timeout_s} s waiting for {what}\n{city.logs()}"
    )


def set_up_city(city: City) -> str:
    """Run the guide's setup commands; return the admin's API token."""
    city.command("migrate", "--noinput")
    city.command("city", "load", "padang-panjang")
    city.command("ledger", "init-key")
    city.env["DJANGO_SUPERUSER_PASSWORD"] = secrets.token_urlsafe(24)
    city.command(
        "createsuperuser", "--noinput", "--username", ADMIN, "--email", "it@kota.test"
    )
    del city.env["DJANGO_SUPERUSER_PASSWORD"]
    return city.command("token", "create", ADMIN, "multiprocess-test").strip()


def set_up_witness(city: City, short: str, name: str, node_vkey: str) -> str:
    """Create a partner's witness directory that trusts the node; return its vkey."""
    directory = str(city.root / f"witness-{short}")
    city.command("witness", "init", "--dir", directory, "--name", name)
    city.command("witness", "trust", "--dir", directory, "--vkey", node_vkey)
    return city.command("witness", "vkey", "--dir", directory).strip()


def start_processes(city: City, witness_ports: dict[str, int]) -> str:
    """Start the web server, the witnesses and the worker; return the web address."""
    port = city.web_port
    cli = [sys.executable, "-m", "kotacerdas.config.cli"]
    city.start(
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kotacerdas.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--no-control-socket",
        ],
    )
    for short, witness_port in witness_ports.items():
        directory = str(city.root / f"witness-{short}")
        city.start(
            f"witness-{short}",
            [*cli, "witness", "serve", "--dir", directory, "--port", str(witness_port)],
        )
    city.start("worker", [*cli, "worker"])
    return f"http://127.0.0.1:{port}"


def web_ready(url: str) -> bool:
    response = requests.get(f"{url}/api/journal/keys", headers=PROXIED, timeout=10)
    return response.status_code == 200


def witness_ready(port: int) -> bool:
    return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok


def witnessed_checkpoint(url: str, min_size: int) -> str | None:
    """Return the witnessed checkpoint once it covers `min_size` entries."""
    response = requests.get(
        f"{url}/api/journal/checkpoint/witnessed.txt", headers=PROXIED, timeout=10
    )
    if response.status_code != 200:
        return None
    text, _signatures = split_note(response.text)
    if Checkpoint.parse(text).tree_size < min_size:
        return None
    return response.text


def journal_size(url: str) -> int | None:
    response = requests.get(
        f"{url}/api/journal/checkpoint", headers=PROXIED, timeout=10
    )
    if response.status_code != 200:
        return None
    return int(response.json()["journal_size"])


def test_checkpoint_cosigned_by_both_witnesses(city: City):
    # Given a city set up as the operations guide does it, with two partners.
    token = set_up_city(city)
    node_vkey = city.command("ledger", "vkey").strip()
    witness_vkeys = {
        short: set_up_witness(city, short, name, node_vkey) for short, name in WITNESSES
    }
    witness_ports = {short: free_port(0) for short, _name in WITNESSES}
    url = start_processes(city, witness_ports)
    wait_until(
        "the web server answering", city, lambda: web_ready(url), STARTUP_TIMEOUT_S
    )
    for short, port in witness_ports.items():
        wait_until(
            f"witness {short} answering",
            city,
            lambda port=port: witness_ready(port),
            STARTUP_TIMEOUT_S,
        )
    for short, name in WITNESSES:
        city.command(
            "ledger",
            "witnesses",
            "add",
            name,
            f"http://127.0.0.1:{witness_ports[short]}",
            witness_vkeys[short],
        )

    if city.env["DJANGO_SETTINGS_MODULE"] == "kotacerdas.config.production":
        # Without nginx's header the production profile redirects to HTTPS.
        plain = requests.get(f"{url}/ledger/", allow_redirects=False, timeout=10)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://127.0.0.1:{city.web_port}/ledger/"

    # When a building is registered through the web server's API.
    response = requests.post(
        f"{url}/api/registry/buildings",
        data=json.dumps(BUILDING),
        headers={
            **PROXIED,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    size = wait_until(
        "a sealed checkpoint", city, lambda: journal_size(url), COSIGNED_TIMEOUT_S
    )

    # Then a checkpoint covering it carries both witnesses' cosignatures.
    note = wait_until(
        f"a checkpoint of size {size} co-signed by both witnesses",
        city,
        lambda: witnessed_checkpoint(url, size),
        COSIGNED_TIMEOUT_S,
    )
    verify_note(note, Verifier.parse(node_vkey))
    for short, vkey in witness_vkeys.items():
        cosigned_at = verify_cosignature(
            note, Verifier.parse(vkey, key_type=COSIGNATURE_TYPE)
        )
        assert cosigned_at > 0, f"witness {short} has no cosignature time"
    city.check_running()

    # And the ledger verifies, cosignatures included.
    report = city.command("ledger", "verify")
    assert "ledger valid" in report
    assert "cosignatures: " in report
    assert ", 0 problems" in report.split("cosignatures: ", 1)[1].splitlines()[0]
