"""Load benchmark: a mixed day of crews, citizens, counters and the command center.

Usage:
    .venv/bin/python bench/load.py [--duration-s 60] [--count N] [--crews 200]
        [--database postgresql|sqlite]
    .venv/bin/python bench/load.py --url http://127.0.0.1:PORT --city CITY.json

Without --url it creates a database and sets up a city with `live_city.py
setup`: crews, citizens with a PIN, merchants, buildings with QR plates, a
cashier and a command center user, each with an API token. Then it starts
gunicorn and the worker on 127.0.0.1 with the normal settings, and stops them
at the end. With --url it loads a server already running on this machine,
and --city names the JSON that `live_city.py setup` wrote for that server's
database: a run with --keep keeps its database and leaves that JSON as
setup-out.json in the directory it prints. Any host other than 127.0.0.1,
localhost or ::1 is rejected.

Simulated actors run as asyncio tasks (aiohttp), each waiting a random think
time between its actions:
- every crew scans a plate (POST /api/plates/verify), then records the
  pickup (POST /api/waste/pickups);
- citizens pay each other and merchants with their PIN (POST
  /api/wallet/transfers) and look at their wallet (GET /api/wallet/me);
- counters take cash in (POST /api/wallet/counter/cash-in);
- command center screens refresh the dashboard's figures, kelurahan table and
  series (GET /api/command/...).
At most --max-in-flight requests are open at once. The run stops after
--count requests or --duration-s seconds, whichever comes first.

It prints the throughput, the latency p50/p95/p99 per request type (client
time, and server time from the Server-Timing header), the server time of a
scan and its pickup together, the error count per type and status, and the
peak memory (RSS) of the server processes, read from /proc.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from kotacerdas.config.ports import free_port
from live_city import PIN, Deployment, create_database, drop_database, environment
from machine import print_machine

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SERVER_TIMING_PREFIX = "app;dur="


@dataclass
class Stats:
    """Latencies and errors per request type, in milliseconds."""

    client_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    scan_pickup_server_ms: list[float] = field(default_factory=list)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    sent: int = 0


class Load:
    """The shared session, limits and statistics of one run."""

    def __init__(self, url: str, city: dict[str, Any], args: argparse.Namespace):
        self.url = url.rstrip("/")
        self.city = city
        self.args = args
        self.stats = Stats()
        self.in_flight = asyncio.Semaphore(args.max_in_flight)
        self.deadline = time.monotonic() + args.duration_s
        self.session: aiohttp.ClientSession | None = None

    def running(self) -> bool:
        return time.monotonic() < self.deadline and self.stats.sent < self.args.count

    async def request(
        self,
        kind: str,
        method: str,
        path: str,
        token: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any, float | None]:
        """Send one request; return its status, JSON body and server time in ms."""
        assert self.session is not None
        headers = {"Authorization": f"Bearer {token}"}
        async with self.in_flight:
            self.stats.sent += 1
            started = time.perf_counter()
            try:
                async with self.session.request(
                    method, self.url + path, json=json_body, data=form, headers=headers
                ) as reply:
                    body = await reply.read()
                    status = reply.status
                    timing = reply.headers.get("Server-Timing", "")
            except (aiohttp.ClientError, TimeoutError) as error:
                self.stats.errors[(kind, type(error).__name__)] += 1
                return 0, None, None
            self.stats.client_ms[kind].append((time.perf_counter() - started) * 1000)
        server_ms = None
        if timing.startswith(SERVER_TIMING_PREFIX):
            server_ms = float(timing.removeprefix(SERVER_TIMING_PREFIX))
            self.stats.server_ms[kind].append(server_ms)
        if status >= 400:
            self.stats.errors[(kind, str(status))] += 1
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        return status, payload, server_ms

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past the end of the run."""
        await asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    async def think(self, mean_s: float, rng: random.Random) -> None:
        await self.pause(min(rng.expovariate(1 / mean_s), mean_s * 5))

    async def arrive(self, mean_s: float, rng: random.Random) -> None:
        """Wait a random part of one think time, so actors do not start at once."""
        await self.pause(rng.uniform(0, mean_s))


async def crew(load: Load, number: int, token: str, rng: random.Random) -> None:
    """Scan a random house's plate, record its pickup, walk to the next house."""
    sequence = 0
    await load.arrive(load.args.crew_think_s, rng)
    while load.running():
        building = rng.choice(load.city["buildings"])
        status, _scan, scan_ms = await load.request(
            "scan",
            "POST",
            "/api/plates/verify",
            token,
            json_body={"text": building["plate"]},
        )
        sequence += 1
        form = {
            "client_id": f"load-crew{number}-{sequence}",
            "plate": building["plate"],
            "outcome": "collected",
            "scanned_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "lat": building["lat"],
            "lng": building["lng"],
            "accuracy_m": "8",
            "weight_kg": f"{rng.randint(50, 3000) / 100:.2f}",
        }
        status, _pickup, pickup_ms = await load.request(
            "pickup", "POST", "/api/waste/pickups", token, form=form
        )
        if status in (200, 201) and scan_ms is not None and pickup_ms is not None:
            load.stats.scan_pickup_server_ms.append(scan_ms + pickup_ms)
        await load.think(load.args.crew_think_s, rng)


async def citizen(load: Load, number: int, rng: random.Random) -> None:
    """Pay another citizen or a merchant, now and then check the balance."""
    me = load.city["citizens"][number]
    others = [c for c in load.city["citizens"] if c is not me]
    sequence = 0
    await load.arrive(load.args.citizen_think_s, rng)
    while load.running():
        if rng.random() < 0.3:
            await load.request("wallet", "GET", "/api/wallet/me", me["token"])
        else:
            sequence += 1
            merchant = rng.random() < 0.5 and load.city["merchants"]
            payee = rng.choice(load.city["merchants"] if merchant else others)
            body = {
                "id": f"load-pay{number}-{sequence}",
                "to": payee["wallet"],
                "amount": rng.randint(1_000, 25_000),
                "kind": "payment" if merchant else "transfer",
                "pin": PIN,
            }
            await load.request(
                "pay", "POST", "/api/wallet/transfers", me["token"], json_body=body
            )
        await load.think(load.args.citizen_think_s, rng)


async def counter(load: Load, number: int, rng: random.Random) -> None:
    """Take cash in for random citizens at a counter."""
    sequence = 0
    await load.arrive(load.args.counter_think_s, rng)
    while load.running():
        sequence += 1
        body = {
            "id": f"load-cash{number}-{sequence}",
            "wallet": rng.choice(load.city["citizens"])["wallet"],
            "amount": rng.choice([20_000, 50_000, 100_000]),
        }
        await load.request(
            "top-up",
            "POST",
            "/api/wallet/counter/cash-in",
            load.city["cashier_token"],
            json_body=body,
        )
        await load.think(load.args.counter_think_s, rng)


async def dashboard(load: Load, rng: random.Random) -> None:
    """Refresh the command center's figures, kelurahan table and a series."""
    token = load.city["command_token"]
    await load.arrive(load.args.dashboard_think_s, rng)
    while load.running():
        await load.request("dashboard", "GET", "/api/command/figures", token)
        await load.request("dashboard", "GET", "/api/command/kelurahan", token)
        await load.request("dashboard", "GET", "/api/command/series/transfers", token)
        await load.think(load.args.dashboard_think_s, rng)


async def drive(load: Load) -> None:
    """Run every actor until the load's count or time is used up."""
    city, args = load.city, load.args
    rng = random.Random(args.seed)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=args.max_in_flight)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        load.session = session
        actors = [
            crew(
                load,
                n,
                city["crews"][n % len(city["crews"])],
                random.Random(rng.random()),
            )
            for n in range(args.crews)
        ]
        actors += [
            citizen(load, n, random.Random(rng.random()))
            for n in range(len(city["citizens"]))
        ]
        actors += [
            counter(load, n, random.Random(rng.random())) for n in range(args.counters)
        ]
        actors += [
            dashboard(load, random.Random(rng.random())) for _ in range(args.screens)
        ]
        await asyncio.gather(*actors)


# ------------------------------------------------------------------ memory


def process_tree(root_pid: int) -> list[int]:
    """Return `root_pid` and its descendants, read from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry.name))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def watch_memory(pids: list[int], peak: dict[str, int], load: Load) -> None:
    """Sample the RSS of the server processes every 0.5 s; keep the peaks."""
    while load.running():
        total = 0
        for root in pids:
            for pid in process_tree(root):
                kib = rss_kib(pid)
                total += kib
                peak["process"] = max(peak.get("process", 0), kib)
        peak["total"] = max(peak.get("total", 0), total)
        await asyncio.sleep(0.5)


# ------------------------------------------------------------------ report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def print_report(load: Load, seconds: float, peak: dict[str, int]) -> None:
    stats = load.stats
    done = sum(len(v) for v in stats.client_ms.values())
    print(f"\n{done:,} requests in {seconds:.1f} s: {done / seconds:,.1f} requests/s")
    print(
        f"{'type':<10}{'count':>8}{'errors':>8}   client p50/p95/p99 ms"
        "      server p50/p95/p99 ms"
    )
    for kind in sorted(stats.client_ms):
        client, server = stats.client_ms[kind], stats.server_ms.get(kind, [])
        errors = sum(n for (k, _), n in stats.errors.items() if k == kind)
        row = "/".join(f"{percentile(client, q):.0f}" for q in (0.5, 0.95, 0.99))
        served = (
            "/".join(f"{percentile(server, q):.1f}" for q in (0.5, 0.95, 0.99))
            if server
            else "-"
        )
        print(f"{kind:<10}{len(client):>8}{errors:>8}   {row:<26}{served}")
    pairs = stats.scan_pickup_server_ms
    if pairs:
        figures = "/".join(f"{percentile(pairs, q):.1f}" for q in (0.5, 0.95, 0.99))
        print(
            f"scan + pickup server time p50/p95/p99: {figures} ms ({len(pairs):,} pairs)"
        )
    failed = {f"{kind} {what}": count for (kind, what), count in stats.errors.items()}
    print(f"errors: {sum(failed.values())} {failed if failed else ''}")
    if peak:
        print(
            f"server peak RSS: {peak['total'] / 1024:,.0f} MiB in all, "
            f"{peak['process'] / 1024:,.0f} MiB the largest process"
        )
    else:
        print("server peak RSS: not measured (no server process id)")


# ------------------------------------------------------------------ main


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(
            f"--url {url} is not on this machine; load only a server on "
            "127.0.0.1, localhost or ::1"
        )


async def run(
    url: str, city: dict[str, Any], args: argparse.Namespace, pids: list[int]
) -> None:
    load = Load(url, city, args)
    peak: dict[str, int] = {}
    started = time.monotonic()
    watcher = asyncio.create_task(watch_memory(pids, peak, load)) if pids else None
    await drive(load)
    if watcher is not None:
        await watcher
    print_report(load, time.monotonic() - started, peak)


def start_city(
    args: argparse.Namespace, root: Path, database_url: str
) -> tuple[Deployment, dict[str, Any]]:
    env = environment(root, database_url, "kotacerdas.config.settings")
    deployment = Deployment(root, env, free_port(0), web_workers=args.web_workers)
    started = time.monotonic()
    city = deployment.child(
        "setup",
        {
            "citizens": args.citizens,
            "merchants": args.merchants,
            "crews": args.crews,
            "buildings": args.buildings,
        },
    )
    print(f"city set up in {time.monotonic() - started:.0f} s", flush=True)
    deployment.start("web")
    deployment.start("worker")
    deployment.wait_web()
    return deployment, city


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", help="load this server instead of starting one")
    parser.add_argument(
        "--city", help="with --url: the JSON `live_city.py setup` wrote"
    )
    parser.add_argument("--server-pid", type=int, help="with --url: measure its memory")
    parser.add_argument("--database", default="postgresql", help="postgresql or sqlite")
    parser.add_argument("--duration-s", type=float, default=60)
    parser.add_argument(
        "--count", type=int, default=10**9, help="stop after N requests"
    )
    parser.add_argument("--crews", type=int, default=200)
    parser.add_argument("--citizens", type=int, default=40)
    parser.add_argument("--merchants", type=int, default=10)
    parser.add_argument("--buildings", type=int, default=400)
    parser.add_argument("--counters", type=int, default=4)
    parser.add_argument("--screens", type=int, default=3, help="command center screens")
    parser.add_argument("--crew-think-s", type=float, default=10, help="mean pause")
    parser.add_argument("--citizen-think-s", type=float, default=10, help="mean pause")
    parser.add_argument("--counter-think-s", type=float, default=5, help="mean pause")
    parser.add_argument("--dashboard-think-s", type=float, default=5, help="mean pause")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1374)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    print_machine()
    if args.url:
        check_loopback(args.url)
        if not args.city:
            raise SystemExit("--url needs --city, the JSON `live_city.py setup` wrote")
        city = json.loads(Path(args.city).read_text())
        pids = [args.server_pid] if args.server_pid else []
        asyncio.run(run(args.url, city, args, pids))
        return 0

    # SIGTERM ends the run through the `finally` below, which stops the
    # processes and drops the database.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(1))
    root = Path(tempfile.mkdtemp(prefix="kc-load-"))
    print(f"directory: {root}", flush=True)
    database_url = create_database(args.database, root)
    deployment = None
    try:
        deployment, city = start_city(args, root, database_url)
        pids = [deployment.processes["web"].pid, deployment.processes["worker"].pid]
        print(
            f"{args.crews} crews, {len(city['citizens'])} citizens, {args.counters} "
            f"counters, {args.screens} screens; gunicorn {args.web_workers} workers",
            flush=True,
        )
        asyncio.run(run(deployment.url, city, args, pids))
    finally:
        if deployment is not None:
            deployment.stop()
        if not args.keep:
            drop_database(database_url)
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
