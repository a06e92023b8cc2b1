"""Benchmark the wallet's transfers against pgbench on the same PostgreSQL.

Usage: .venv/bin/python bench/wallet.py [--accounts N] [--batches N] [--backends ...]

First it runs pgbench's TPC-B-like script (`pgbench -i`, then 16 clients for
20 s) on a database it creates, kc_bench_pgbench at 127.0.0.1:5432, as the
reference figure. Then, for each backend, it creates a fresh database (a
temporary SQLite file, or a PostgreSQL database named kc_bench_<hex>) and:

(a) opens N citizen wallets, funds them, and times `services.submit_batch`
    carrying random person-to-person transfers in batches of 1,000;
(b) starts the web server as `kotacerdas run` does (gunicorn on 127.0.0.1 on a
    free port) and sends one HTTP request per transfer from 16 concurrent
    clients with API tokens: counter cash-ins (POST /api/wallet/counter/cash-in),
    then wallet-to-wallet transfers (POST /api/wallet/transfers), which also
    check the payer's PIN.

It prints the machine first, then each figure with pgbench's beside it and
their ratio. After each backend it checks the ledger (`verify_ledger`, and
that debits equal credits). The web server runs without the worker that
`kotacerdas run` also starts, so no block is sealed during the runs.
"""

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import print_machine

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
PGBENCH_DATABASE = "kc_bench_pgbench"
ROOT = Path(__file__).resolve().parent.parent
PIN = "246813"
# Each HTTP client is its own citizen, paying from its own wallet.
FUND_PAYER = 2_000_000
FUND_WALLET = 1_000_000


# ------------------------------------------------------------------ pgbench


def run_pgbench(args: argparse.Namespace) -> float | None:
    """Run pgbench's TPC-B-like script; return its tps, or None if it cannot run."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        print(
            "[pgbench] NOT RUN: pgbench is not installed; on Debian it comes with "
            "`apt-get install postgresql-client`",
            flush=True,
        )
        return None
    admin_url = f"{POSTGRES_SERVER}/postgres"
    connection = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{PGBENCH_DATABASE}" WITH (FORCE)')
    _admin(admin_url, f'CREATE DATABASE "{PGBENCH_DATABASE}"')

    try:
        scale = str(args.pgbench_scale)
        initialize = [pgbench, *connection, "-i", "-q", "-s", scale, PGBENCH_DATABASE]
        subprocess.run(initialize, check=True, capture_output=True)
        run = [pgbench, *connection, "-c", str(args.clients), "-j", "2"]
        run += ["-T", str(args.pgbench_seconds), PGBENCH_DATABASE]
        output = subprocess.run(run, check=True, capture_output=True, text=True)
    finally:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{PGBENCH_DATABASE}" WITH (FORCE)')

    found = re.search(
        r"tps = ([\d.]+) \(without initial connection time\)", output.stdout
    )
    if found is None:
        print(f"[pgbench] output not understood:\n{output.stdout}", flush=True)
        return None
    tps = float(found.group(1))
    print(
        f"[pgbench] TPC-B-like, scale {args.pgbench_scale}, {args.clients} clients, "
        f"2 threads, {args.pgbench_seconds} s: {tps:,.0f} tps",
        flush=True,
    )
    return tps


def _admin(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(statement)


# ------------------------------------------------------------------ backends


def child_env(database_url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
        "DATABASE_URL": database_url,
        "KOTACERDAS_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }


def run_child(step: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    """Run one step in a child process set up for the backend; return its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        result_file = out.name
    command = [sys.executable, __file__, "--child", step, "--result", result_file]
    command += ["--accounts", str(args.accounts), "--batches", str(args.batches)]
    command += ["--batch-size", str(args.batch_size), "--clients", str(args.clients)]
    try:
        subprocess.run(command, env=env, check=True)
        return json.loads(Path(result_file).read_text() or "{}")
    finally:
        Path(result_file).unlink(missing_ok=True)


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    var_dir = tempfile.mkdtemp(prefix="kc-bench-")
    name = f"kc_bench_{secrets.token_hex(4)}"
    admin_url = f"{POSTGRES_SERVER}/postgres"
    if backend == "postgresql":
        _admin(admin_url, f'CREATE DATABASE "{name}"')
        url = f"{POSTGRES_SERVER}/{name}"
    else:
        url = f"sqlite:///{var_dir}/bench.sqlite3"
    env = child_env(url, var_dir)
    try:
        figures = run_child("batch", env, args)
        if args.http_seconds > 0:
            figures |= bench_http(backend, env, args, figures)
        run_child("verify", env, args)
        return figures
    finally:
        if backend == "postgresql":
            _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


# ------------------------------------------------------------------ HTTP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int, args: argparse.Namespace, log: Path):
    """Start gunicorn with the options `kotacerdas run` gives it."""
    command = [
        sys.executable, "-m", "gunicorn", "kotacerdas.config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
        "--threads", str(args.web_threads), "--graceful-timeout", "10",
        "--no-control-socket",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; its log:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not accept connections within 60 s")


@dataclass
class ClientStats:
    created: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)


def http_client(
    port: int, stop_at: float, make_body: Any, token: str, stats: ClientStats
) -> None:
    """Send POST requests on one keep-alive connection until `stop_at`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    number = 0
    while time.monotonic() < stop_at:
        path, body = make_body(number)
        number += 1
        started = time.perf_counter()
        try:
            connection.request("POST", path, json.dumps(body), headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            key = type(error).__name__
            stats.errors[key] = stats.errors.get(key, 0) + 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status == 201:
            stats.created += 1
        else:
            try:
                code = json.loads(payload)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = str(response.status)
            stats.errors[code] = stats.errors.get(code, 0) + 1
    connection.close()


def drive(port: int, seconds: float, clients: list[tuple[str, Any]]) -> dict:
    stop_at = time.monotonic() + seconds
    stats = [ClientStats() for _ in clients]
    threads = [
        threading.Thread(target=http_client, args=(port, stop_at, body, token, s))
        for (token, body), s in zip(clients, stats, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    errors: dict[str, int] = {}
    for client in stats:
        for code, count in client.errors.items():
            errors[code] = errors.get(code, 0) + count
    latencies = sorted(ms for client in stats for ms in client.latencies_ms)
    created = sum(client.created for client in stats)
    return {
        "per_s": created / elapsed,
        "created": created,
        "errors": errors,
        "median_ms": statistics.median(latencies) if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    }


def bench_http(
    backend: str, env: dict[str, str], args: argparse.Namespace, setup: dict
) -> dict[str, Any]:
    port = free_port()
    log = Path(env["KOTACERDAS_VAR_DIR"]) / "gunicorn.log"
    server = start_server(env, port, args, log)
    wallets = setup["wallets"]
    try:

        def cash_in(prefix: str) -> Any:
            rng = random.Random(prefix)
            return lambda n: (
                "/api/wallet/counter/cash-in",
                {"id": f"{prefix}-{n}", "wallet": rng.choice(wallets)}
                | {"amount": rng.randint(1, 1_000)},
            )

        def transfer(prefix: str) -> Any:
            rng = random.Random(prefix)
            return lambda n: (
                "/api/wallet/transfers",
                {"id": f"{prefix}-{n}", "to": rng.choice(wallets), "kind": "transfer"}
                | {"amount": rng.randint(1, 1_000), "pin": PIN},
            )

        counters = [
            (setup["cashier_token"], cash_in(f"c{i}")) for i in range(args.clients)
        ]
        payers = [
            (token, transfer(f"t{i}"))
            for i, token in enumerate(setup["citizen_tokens"])
        ]
        # Each gunicorn worker imports the URL conf and the API on its first
        # requests; those seconds are not part of the figure.
        warm_up = [
            (setup["cashier_token"], cash_in(f"w{i}")) for i in range(args.clients)
        ]
        drive(port, 5, warm_up)
        figures = {
            "http_cash_in": drive(port, args.http_seconds, counters),
            "http_transfer": drive(port, args.http_seconds, payers),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name in ("http_cash_in", "http_transfer"):
        figure = figures[name]
        print(
            f"[{backend}] {name}: {figure['per_s']:,.1f} transfers/s ({figure['created']} in "
            f"{args.http_seconds} s, {args.clients} clients), latency median "
            f"{figure['median_ms']:.0f} ms, p99 {figure['p99_ms']:.0f} ms"
            + (f", errors {figure['errors']}" if figure["errors"] else ""),
            flush=True,
        )
    return figures


# Everything below runs in the child process, with Django set up for one database.


def setup_django() -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()


def create_city(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, load the city, open and fund the wallets, create the API users."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from kotacerdas.accounts.api_auth import create_api_token
    from kotacerdas.accounts.services import create_user
    from kotacerdas.journal.keys import create_signing_key
    from kotacerdas.wallet import bulk, pins, services
    from kotacerdas.wallet.models import AccountKind, Tier

    call_command("migrate", verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    call_command("city", "load", settings.KOTACERDAS_CITY, verbosity=0)
    spec = bulk.NewAccount(AccountKind.CITIZEN, tier=Tier.REGISTERED)
    with transaction.atomic():
        accounts = bulk.open_accounts([spec] * args.accounts, actor="system")
    numbers = [a.number for a in accounts]
    settlement = services.settlement_account().number
    top_ups = [
        services.TransferRequest(f"fund-{i}", settlement, number, FUND_WALLET, "topup")
        for i, number in enumerate(numbers)
    ]
    for low in range(0, len(top_ups), 1_000):
        services.submit_batch(top_ups[low : low + 1_000], actor="system")

    cashier = create_user("bench-cashier", None, ["cashier"])
    citizen_tokens = []
    for index in range(args.clients):
        user = create_user(f"bench-citizen-{index}", None, ["citizen"])
        pins.set_pin(user, PIN)
        wallet = services.wallet_for(user)
        assert wallet is not None
        services.top_up(wallet.number, FUND_PAYER, transfer_id=f"fund-payer-{index}")
        citizen_tokens.append(create_api_token(user, "bench").secret)
    return {
        "wallets": numbers,
        "cashier_token": create_api_token(cashier, "bench").secret,
        "citizen_tokens": citizen_tokens,
    }


def measure_batches(args: argparse.Namespace, numbers: list[str]) -> dict[str, Any]:
    from kotacerdas.wallet import services

    rng = random.Random(1374)
    batches = []
    for batch in range(args.batches):
        requests = []
        for index in range(args.batch_size):
            payer, payee = rng.sample(numbers, 2)
            requests.append(
                services.TransferRequest(
                    f"b{batch}-{index}",
                    payer,
                    payee,
                    rng.randint(1, 10_000),
                    "transfer",
                )
            )
        batches.append(requests)
    accepted = rejected = 0
    started = time.perf_counter()
    for requests in batches:
        for result in services.submit_batch(requests, actor="system"):
            accepted += result.error is None
            rejected += result.error is not None
    elapsed = time.perf_counter() - started
    return {
        "batch_per_s": accepted / elapsed,
        "accepted": accepted,
        "rejected": rejected,
    }


def child_batch(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    setup = create_city(args)
    print(
        f"[{backend}] set up {args.accounts:,} funded wallets in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    figures = measure_batches(args, setup["wallets"])
    print(
        f"[{backend}] submit_batch: {figures['batch_per_s']:,.0f} transfers/s "
        f"({figures['accepted']:,} accepted, {figures['rejected']} rejected, "
        f"batches of {args.batch_size:,})",
        flush=True,
    )
    return setup | figures


def child_verify(backend: str) -> dict[str, Any]:
    from django.db.models import Sum

    from kotacerdas.journal.keys import node_verifier
    from kotacerdas.journal.verify import verify_ledger
    from kotacerdas.wallet.models import Account, Transfer

    report = verify_ledger(node_verifier())
    sums = Account.objects.aggregate(d=Sum("debits_posted"), c=Sum("credits_posted"))
    if not report.ok or sums["d"] != sums["c"]:
        raise SystemExit(
            f"[{backend}] ledger check failed: {report.problems[:3]} {sums}"
        )
    print(
        f"[{backend}] ledger verify: ok, {report.entries_checked:,} entries, "
        f"{Transfer.objects.count():,} transfers, debits = credits = Rp{sums['d']:,}",
        flush=True,
    )
    return {}


def child(step: str, args: argparse.Namespace) -> None:
    setup_django()
    from django.db import connection

    backend = connection.vendor
    result = child_batch(backend, args) if step == "batch" else child_verify(backend)
    Path(args.result).write_text(json.dumps(result))


# ------------------------------------------------------------------ summary


def print_summary(pgbench_tps: float | None, results: dict[str, dict]) -> None:
    print("\nsummary (transfers/s; ratio to pgbench's tps):")
    rows = [
        ("(a) submit_batch", "batch_per_s", None),
        ("(b) HTTP cash-in", "http_cash_in", "per_s"),
        ("(b) HTTP transfer with PIN", "http_transfer", "per_s"),
    ]
    for label, key, inner in rows:
        for backend, figures in results.items():
            if key not in figures:
                continue
            value = figures[key][inner] if inner else figures[key]
            ratio = f"{value / pgbench_tps:.2f}x" if pgbench_tps else "n/a"
            reference = f"{pgbench_tps:,.0f}" if pgbench_tps else "not run"
            print(
                f"  {label:<28} {backend:<10} {value:>10,.1f}   pgbench {reference}"
                f"   ratio {ratio}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="wallets opened")
    parser.add_argument("--batches", type=int, default=20, help="batches timed")
    parser.add_argument(
        "--batch-size", type=int, default=1_000, help="transfers per batch"
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=16,
        help="concurrent HTTP clients and pgbench clients",
    )
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=20,
        help="length of each HTTP run; 0 skips them",
    )
    parser.add_argument(
        "--pgbench-seconds", type=int, default=20, help="length of the pgbench run"
    )
    parser.add_argument(
        "--pgbench-scale", type=int, default=1, help="pgbench -i scale factor"
    )
    parser.add_argument(
        "--web-workers", type=int, default=2, help="gunicorn worker processes"
    )
    parser.add_argument(
        "--web-threads", type=int, default=4, help="threads per gunicorn worker"
    )
    parser.add_argument(
        "--backends", nargs="+", default=["postgresql", "sqlite"],
        help="databases to measure: postgresql, sqlite",
    )  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return 0

    print_machine()
    pgbench_tps = run_pgbench(args)
    results = {backend: bench_backend(backend, args) for backend in args.backends}
    print_summary(pgbench_tps, results)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if pgbench_tps else 1


if __name__ == "__main__":
    sys.exit(main())
