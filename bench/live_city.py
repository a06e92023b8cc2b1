"""A small city deployed as processes on 127.0.0.1, for the crash and load runs.

The web server (gunicorn) and the worker run as separate process groups, so a
run can kill either with SIGKILL and start it again. Setting the city up and
checking it afterwards run in child processes of this script with Django set up
for the run's database:

    python bench/live_city.py setup|check INPUT_JSON OUTPUT_JSON

`setup` migrates, loads the city profile, creates the node key and the users,
wallets, merchants, buildings and API tokens a run needs. `check` compares
the database with the requests the clients saw acknowledged (see `check_city`).
"""

import contextlib
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
PIN = "246813"
FUNDING_RUPIAH = 1_000_000
# Client ids of the transfers `setup` makes start with this; the clients' ids
# never do.
SETUP_PREFIX = "setup-"
READY_TIMEOUT_S = 90
PASAR_USANG = "13.74.02.1002"
HOUSE_LAT = -0.4651
HOUSE_LNG = 100.4002


# ------------------------------------------------------------------ databases


def admin_execute(statement: str, server: str = POSTGRES_SERVER) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(statement)


def create_database(kind: str, root: Path, server: str = POSTGRES_SERVER) -> str:
    """Create an empty database of `kind` (sqlite or postgresql); return its URL."""
    if kind == "sqlite":
        return f"sqlite:///{root / 'city.sqlite3'}"
    if kind != "postgresql":
        raise SystemExit(f"unknown database {kind!r}: use sqlite or postgresql")
    name = f"kc_live_{secrets.token_hex(5)}"
    admin_execute(f'CREATE DATABASE "{name}"', server)
    return f"{server}/{name}"


def drop_database(url: str, server: str = POSTGRES_SERVER) -> None:
    """Drop a PostgreSQL database made by `create_database`; SQLite needs nothing."""
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        # FORCE ends the connections a killed process may have left behind.
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server)


# ------------------------------------------------------------------ processes


def environment(root: Path, database_url: str, settings_module: str) -> dict[str, str]:
    """Return the environment of every process, without the caller's own settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KOTACERDAS_", "DJANGO_"))
        and name not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url,
            "KOTACERDAS_VAR_DIR": str(root / "var"),
            "KOTACERDAS_SEAL_INTERVAL_S": "0.5",
            # No witnesses are configured, and the anchor job has nothing to
            # anchor without witnessed checkpoints.
            "KOTACERDAS_ANCHOR_INTERVAL_S": "3600",
            "KOTACERDAS_SENSOR_SIM": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


@dataclass
class Deployment:
    """The web server and the worker of one city, started and killed by a run."""

    root: Path
    env: dict[str, str]
    port: int
    web_workers: int = 2
    web_threads: int = 4
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str, timeout_s: float = 600) -> str:
        """Run `kotacerdas ARGS`; return its output, or raise with its log."""
        result = subprocess.run(
            [sys.executable, "-m", "kotacerdas.config.cli", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"kotacerdas {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def child(self, step: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run a step of this script in a child process; return its JSON output."""
        given = self.root / f"{step}-in.json"
        output = self.root / f"{step}-out.json"
        given.write_text(json.dumps(payload))
        result = subprocess.run(
            [sys.executable, __file__, step, str(given), str(output)],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{step} exited with {result.returncode}:\n{result.stderr[-4000:]}"
            )
        return dict(json.loads(output.read_text()))

    def start(self, name: str) -> None:
        if name == "web":
            command = [
                sys.executable, "-m", "gunicorn", "kotacerdas.config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.web_workers),
                "--threads", str(self.web_threads),
                "--graceful-timeout", "10", "--no-control-socket",
            ]  # fmt: skip
        else:
            command = [sys.executable, "-m", "kotacerdas.config.cli", "worker"]
        self.starts[name] += 1
        # Appended, because a restarted process writes after the killed one. A
        # file, because an unread pipe would fill up and block the process.
        with (self.root / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so a kill reaches gunicorn's workers.
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """Kill a process and its children with SIGKILL and reap it."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL after 15 s."""
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

    def exited(self) -> str | None:
        """Return the name of a process that exited on its own, if any."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def log(self, name: str, chars: int = 4000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def get(self, path: str, timeout_s: float = 10) -> tuple[int, bytes]:
        """GET `path` from the web server; raise OSError when it is down."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout_s
        )
        try:
            connection.request("GET", path)
            reply = connection.getresponse()
            return reply.status, reply.read()
        except http.client.HTTPException as error:
            raise OSError(str(error)) from error
        finally:
            connection.close()

    def web_ready(self) -> bool:
        try:
            return self.get("/healthz", timeout_s=5)[0] == 200
        except OSError:
            return False

    def wait_web(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Wait until the web server responds; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.processes["web"].poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log('web')}")
            if self.web_ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn timed out: no response in {timeout_s} s:\n{self.log('web')}"
        )


# ------------------------------------------------------------------ setup (child)


def _make_user(username: str, role: str) -> tuple[Any, str]:
    from kotacerdas.accounts.api_auth import create_api_token
    from kotacerdas.accounts.services import create_user

    user = create_user(username, None, [role])
    return user, create_api_token(user, "live-city").secret


def _citizens(count: int) -> list[dict[str, str]]:
    from kotacerdas.wallet import pins, services
    from kotacerdas.wallet.models import Tier

    citizens = []
    for index in range(count):
        user, token = _make_user(f"live-citizen-{index}", "citizen")
        pins.set_pin(user, PIN)
        wallet = services.wallet_for(user)
        assert wallet is not None
        services.change_account(wallet, tier=Tier.REGISTERED, actor="system")
        services.top_up(
            wallet.number, FUNDING_RUPIAH, transfer_id=f"{SETUP_PREFIX}fund-{index}"
        )
        citizens.append({"token": token, "wallet": wallet.number})
    return citizens


def _merchants(count: int) -> list[dict[str, str]]:
    from kotacerdas.wallet import services

    merchants = []
    for index in range(count):
        user, token = _make_user(f"live-merchant-{index}", "merchant")
        account = services.open_merchant(user, f"Toko Uji {index}", actor="system")
        merchants.append({"token": token, "wallet": account.number})
    return merchants


def _buildings(count: int) -> list[dict[str, Any]]:
    from kotacerdas.levy.services import ensure_tariffs
    from kotacerdas.registry.plates import plate_url
    from kotacerdas.registry.services import (
        BuildingInput,
        current_plate,
        register_building,
    )

    ensure_tariffs()
    buildings = []
    for index in range(count):
        # Spread over about 1 km, so the houses are distinct points on a map.
        lat = HOUSE_LAT + (index % 30) * 0.0003
        lng = HOUSE_LNG + (index // 30) * 0.0003
        building = register_building(
            BuildingInput(
                kelurahan_code=PASAR_USANG,
                rw="2",
                rt="3",
                street_address=f"Jl. Uji Beban No. {index + 1}",
                use="house",
                lat=f"{lat:.6f}",
                lng=f"{lng:.6f}",
                floors=1,
                pln_va=1300,
            )
        )
        plate = current_plate(building)
        assert plate is not None
        buildings.append(
            {
                "plate": plate_url(plate.code, plate.key_id, plate.signature),
                "lat": f"{lat:.6f}",
                "lng": f"{lng:.6f}",
            }
        )
    return buildings


def set_up_city(config: dict[str, Any]) -> dict[str, Any]:
    """Migrate and fill a new city; return the tokens, wallets and plates."""
    from django.conf import settings
    from django.core.management import call_command

    from kotacerdas.journal.keys import create_signing_key
    from kotacerdas.wallet import services

    call_command("migrate", verbosity=0)
    call_command("city", "load", settings.KOTACERDAS_CITY, verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    _cashier, cashier_token = _make_user("live-cashier", "cashier")
    _command, command_token = _make_user("live-command", "command_center")
    crews = [
        _make_user(f"live-crew-{index}", "collector")[1]
        for index in range(config.get("crews", 0))
    ]
    return {
        "cashier_token": cashier_token,
        "command_token": command_token,
        "settlement": services.settlement_account().number,
        "citizens": _citizens(config.get("citizens", 0)),
        "merchants": _merchants(config.get("merchants", 0)),
        "crews": crews,
        "buildings": _buildings(config.get("buildings", 0)),
    }


# ------------------------------------------------------------------ check (child)


def _parent_id(client_id: str) -> str:
    """Return the client id of the request that stored a transfer.

    The server stores a transfer's fees as transfers of their own, with the
    payment's id and a suffix such as ":fee-city". The clients' ids have no
    colon, so the part before one names the request.
    """
    return client_id.split(":", 1)[0]


def _transfer_findings(acks: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Count

    from kotacerdas.wallet.models import Transfer

    acknowledged: dict[str, str] = acks["transfers"]
    rejected = set(acks["rejected_transfers"])
    stored = dict(
        Transfer.objects.exclude(client_id__startswith=SETUP_PREFIX).values_list(
            "client_id", "reference"
        )
    )
    own = {i: ref for i, ref in stored.items() if _parent_id(i) == i}
    missing = [i for i, ref in acknowledged.items() if own.get(i) != ref]
    rejected_stored = [i for i in stored if _parent_id(i) in rejected]
    unacknowledged = [i for i in stored if _parent_id(i) not in acknowledged]
    duplicates = (
        Transfer.objects.values("client_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    return {
        "transfers_acknowledged": len(acknowledged),
        "transfers_stored": len(own),
        "fee_transfers_stored": len(stored) - len(own),
        "transfers_missing": missing[:10],
        "transfers_missing_count": len(missing),
        "transfers_rejected_but_stored": rejected_stored[:10],
        "transfers_stored_unacknowledged": unacknowledged[:10],
        "transfer_ids_duplicated": [row["client_id"] for row in duplicates[:10]],
    }


def _pickup_findings(acks: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Count

    from kotacerdas.waste.models import Pickup

    acknowledged: dict[str, int] = acks["pickups"]
    stored = dict(Pickup.objects.values_list("client_id", "pk"))
    missing = [i for i, pk in acknowledged.items() if stored.get(i) != pk]
    duplicates = (
        Pickup.objects.values("client_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    return {
        "pickups_acknowledged": len(acknowledged),
        "pickups_stored": len(stored),
        "pickups_missing": missing[:10],
        "pickups_missing_count": len(missing),
        "pickups_stored_unacknowledged": [i for i in stored if i not in acknowledged][
            :10
        ],
        "pickup_ids_duplicated": [row["client_id"] for row in duplicates[:10]],
    }


def _recomputed_totals() -> dict[int, dict[str, int]]:
    """Recompute each account's four totals from the transfer rows alone."""
    from kotacerdas.wallet.models import Transfer

    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = Transfer.objects.values(
        "debit_account_id", "credit_account_id", "amount", "phase", "status"
    )
    for row in rows.iterator(chunk_size=10_000):
        debit = totals[row["debit_account_id"]]
        credit = totals[row["credit_account_id"]]
        if row["phase"] in ("single", "post"):
            debit["debits_posted"] += row["amount"]
            credit["credits_posted"] += row["amount"]
        elif row["phase"] == "pending" and row["status"] == "pending":
            debit["debits_pending"] += row["amount"]
            credit["credits_pending"] += row["amount"]
    return totals


def _money_findings(acks: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Sum

    from kotacerdas.wallet.models import Account, AccountKind

    totals = Account.objects.aggregate(
        debits=Sum("debits_posted"), credits=Sum("credits_posted")
    )
    settlement = Account.objects.get(kind=AccountKind.SETTLEMENT)
    held = Account.objects.exclude(kind=AccountKind.SETTLEMENT)
    recomputed = _recomputed_totals()
    names = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
    drifted = [
        account.number
        for account in Account.objects.all()
        if any(getattr(account, n) != recomputed[account.pk][n] for n in names)
    ]
    return {
        "debits_posted": int(totals["debits"] or 0),
        "credits_posted": int(totals["credits"] or 0),
        "held_total": sum(account.balance for account in held),
        "expected_held_total": acks["expected_held_total"],
        "settlement_balance": settlement.balance,
        "negative_accounts": [a.number for a in held if a.balance < 0][:10],
        "accounts_not_matching_transfers": drifted[:10],
    }


def _block_findings() -> dict[str, Any]:
    from kotacerdas.journal.models import Block, JournalHead

    problems = []
    previous = None
    count = 0
    for block in Block.objects.order_by("height").iterator(chunk_size=1_000):
        count += 1
        if previous is None:
            if block.height != 0 or bytes(block.prev_hash) != bytes(32):
                problems.append(f"the first block is {block.height}, not a genesis")
        else:
            if block.height != previous.height + 1:
                problems.append(f"gap: block {previous.height} then {block.height}")
            if bytes(block.prev_hash) != bytes(previous.block_hash):
                problems.append(f"block {block.height} does not link to its parent")
            if block.tree_size <= previous.tree_size:
                problems.append(f"block {block.height} does not grow the tree")
        previous = block
    head = JournalHead.objects.filter(pk=1).first()
    return {
        "blocks": count,
        "block_problems": problems[:10],
        "journal_size": head.size if head else 0,
        "sealed_size": previous.tree_size if previous else 0,
    }


def check_city(acks: dict[str, Any]) -> dict[str, Any]:
    """Compare the database with the acknowledged requests; return the findings.

    `acks` holds the acknowledged transfers by client id (their receipt
    reference), the ids the server rejected, the acknowledged pickups by client
    id (their id) and the total the held accounts should contain.
    """
    return (
        _transfer_findings(acks)
        | _pickup_findings(acks)
        | _money_findings(acks)
        | _block_findings()
    )


def child_main(step: str, given: Path, output: Path) -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    payload = json.loads(given.read_text())
    result = set_up_city(payload) if step == "setup" else check_city(payload)
    output.write_text(json.dumps(result))


if __name__ == "__main__":
    child_main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
