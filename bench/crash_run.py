"""Clients and a killer for a city under kill -9: what the crash test and bench share.

Client threads pay (citizen to citizen and to merchants, with the payer's
PIN), take cash in at a counter and record pickups (a plate scan, then the
pickup), each request with a client id. A request that meets a dead server
(a refused or cut connection, or a 5xx reply) is sent again with the same id
and body until it gets a 2xx or a 4xx response, as a phone app would retry.
Meanwhile a killer thread sends SIGKILL to the web server, the worker or both
at random moments and starts them again. The acknowledged requests are kept,
so `live_city.check_city` can then compare them with the database.
"""

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from live_city import FUNDING_RUPIAH, PIN, Deployment

# How long one request may keep failing before the run gives up on it.
REQUEST_DEADLINE_S = 240
RETRY_PAUSE_S = 0.2
REPLY_TIMEOUT_S = 60


class Unresolved(RuntimeError):
    """A request got no 2xx or 4xx response before its deadline."""


@dataclass
class Tally:
    """The responses the clients got, shared between their threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    transfers: dict[str, str] = field(default_factory=dict)
    rejected_transfers: dict[str, str] = field(default_factory=dict)
    pickups: dict[str, int] = field(default_factory=dict)
    cash_in_rupiah: int = 0
    # Transfers sent inside batch requests, counted in the two dicts too.
    batched: int = 0
    # Requests sent again after a failed attempt, and how many of those the
    # server replied to with the transfer or pickup it had already stored.
    retried: int = 0
    replayed: int = 0
    resent_acknowledged: int = 0
    server_errors: Counter[int] = field(default_factory=Counter)
    # Answers that must never happen: each is a finding of the run.
    unexpected: list[str] = field(default_factory=list)

    @property
    def transfer_count(self) -> int:
        return len(self.transfers) + len(self.rejected_transfers)

    def acks(self, citizens: int) -> dict[str, Any]:
        with self.lock:
            return {
                "transfers": dict(self.transfers),
                "rejected_transfers": list(self.rejected_transfers),
                "pickups": dict(self.pickups),
                "expected_held_total": citizens * FUNDING_RUPIAH + self.cash_in_rupiah,
            }


class Connection:
    """One keep-alive HTTP connection that resends a request until it gets a response."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.port = port
        self.tally = tally
        self.http = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=REPLY_TIMEOUT_S
        )

    def send(
        self, path: str, body: dict[str, Any], token: str, *, form: bool = False
    ) -> tuple[int, Any]:
        """POST `body` until it gets a 2xx or 4xx reply; return status and JSON."""
        if form:
            data = urllib.parse.urlencode(body)
            content_type = "application/x-www-form-urlencoded"
        else:
            data, content_type = json.dumps(body), "application/json"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        deadline = time.monotonic() + REQUEST_DEADLINE_S
        attempts = 0
        while time.monotonic() < deadline:
            attempts += 1
            try:
                self.http.request("POST", path, data, headers)
                reply = self.http.getresponse()
                payload = reply.read()
            except (OSError, http.client.HTTPException):
                self._reconnect()
                continue
            if reply.status >= 500:
                with self.tally.lock:
                    self.tally.server_errors[reply.status] += 1
                self._reconnect()
                continue
            if attempts > 1:
                with self.tally.lock:
                    self.tally.retried += 1
            return reply.status, json.loads(payload or b"null")
        raise Unresolved(
            f"POST {path} timed out: no response in {REQUEST_DEADLINE_S} s"
        )

    def _reconnect(self) -> None:
        self.http.close()
        time.sleep(RETRY_PAUSE_S)
        self.http = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REPLY_TIMEOUT_S
        )


@dataclass
class ClientPlan:
    """The city a client acts in and how it chooses what to send."""

    city: dict[str, Any]
    seed: int
    pickup_share: float = 0.25
    cash_in_share: float = 0.10
    batch_share: float = 0.0
    batch_size: int = 100
    max_amount_rupiah: int = 2_000


class Client:
    """One citizen's phone, a crew's phone and a counter, taking turns."""

    def __init__(self, number: int, plan: ClientPlan, port: int, tally: Tally) -> None:
        self.number = number
        self.plan = plan
        self.city = plan.city
        self.rng = random.Random(f"{plan.seed}:{number}")
        self.tally = tally
        self.connection = Connection(port, tally)
        self.citizen = self.city["citizens"][number % len(self.city["citizens"])]
        self.sent = 0
        self.done: list[tuple[str, dict[str, Any], str, str]] = []

    def run(self, stop: threading.Event, transfers_target: int) -> None:
        try:
            while not stop.is_set() and self.tally.transfer_count < transfers_target:
                self.step()
        except Unresolved as error:
            with self.tally.lock:
                self.tally.unexpected.append(f"client {self.number}: {error}")
            stop.set()

    def step(self) -> None:
        roll = self.rng.random()
        self.sent += 1
        plan = self.plan
        if self.done and roll < 0.03:
            self.resend()
        elif roll < plan.pickup_share:
            self.pickup()
        elif roll < plan.pickup_share + plan.cash_in_share:
            self.cash_in()
        elif roll < plan.pickup_share + plan.cash_in_share + plan.batch_share:
            self.batch()
        else:
            self.pay()

    def _id(self, kind: str) -> str:
        return f"{kind}-c{self.number}-n{self.sent}"

    def pay(self) -> None:
        to_merchant = self.rng.random() < 0.25 and self.city["merchants"]
        if to_merchant:
            payee = self.rng.choice(self.city["merchants"])["wallet"]
        else:
            others = [c for c in self.city["citizens"] if c is not self.citizen]
            payee = self.rng.choice(others)["wallet"]
        body = {
            "id": self._id("pay"),
            "to": payee,
            "amount": self.rng.randint(1, self.plan.max_amount_rupiah),
            "kind": "payment" if to_merchant else "transfer",
            "pin": PIN,
        }
        self.transfer("/api/wallet/transfers", body, self.citizen["token"])

    def cash_in(self) -> None:
        body = {
            "id": self._id("cash"),
            "wallet": self.citizen["wallet"],
            "amount": self.rng.randint(1, self.plan.max_amount_rupiah),
        }
        reference = self.transfer(
            "/api/wallet/counter/cash-in", body, self.city["cashier_token"]
        )
        if reference is not None:
            with self.tally.lock:
                self.tally.cash_in_rupiah += body["amount"]

    def transfer(self, path: str, body: dict[str, Any], token: str) -> str | None:
        """Send one transfer; record its acknowledgement or rejection."""
        status, reply = self.connection.send(path, body, token)
        with self.tally.lock:
            if status in (200, 201) and reply.get("id") == body["id"]:
                self.tally.transfers[body["id"]] = reply["reference"]
                self.tally.replayed += status == 200
                self.done.append((path, body, token, reply["reference"]))
                return str(reply["reference"])
            if status == 422:
                self.tally.rejected_transfers[body["id"]] = reply["error"]["code"]
            else:
                self.tally.unexpected.append(f"{path} {body['id']}: {status} {reply}")
        return None

    def batch(self) -> None:
        """Top up random wallets from the settlement account, many in one request."""
        prefix = self._id("batch")
        items = []
        for index in range(self.plan.batch_size):
            payee = self.rng.choice(self.city["citizens"])["wallet"]
            items.append(
                {
                    "id": f"{prefix}-{index}",
                    "from": self.city["settlement"],
                    "to": payee,
                    "amount": self.rng.randint(1, 50),
                    "kind": "topup",
                }
            )
        status, reply = self.connection.send(
            "/api/wallet/batch", {"items": items}, self.city["cashier_token"]
        )
        with self.tally.lock:
            if status != 200:
                self.tally.unexpected.append(f"batch {prefix}: {status} {reply}")
                return
            self.tally.batched += len(items)
            for item, result in zip(items, reply["results"], strict=True):
                if result["ok"]:
                    self.tally.transfers[item["id"]] = result["transfer"]["reference"]
                    self.tally.cash_in_rupiah += item["amount"]
                else:
                    self.tally.rejected_transfers[item["id"]] = result["error"]["code"]

    def pickup(self) -> None:
        crew = self.city["crews"][self.number % len(self.city["crews"])]
        building = self.rng.choice(self.city["buildings"])
        status, scanned = self.connection.send(
            "/api/plates/verify", {"text": building["plate"]}, crew
        )
        if status != 200 or scanned["verdict"] != "genuine":
            with self.tally.lock:
                self.tally.unexpected.append(f"plate scan: {status} {scanned}")
            return
        body = {
            "client_id": self._id("pickup"),
            "plate": building["plate"],
            "outcome": "collected",
            "scanned_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "category": "mixed",
            "lat": building["lat"],
            "lng": building["lng"],
            "accuracy_m": "8",
            "weight_kg": f"{self.rng.randint(1, 4000) / 100:.2f}",
        }
        status, reply = self.connection.send(
            "/api/waste/pickups", body, crew, form=True
        )
        with self.tally.lock:
            if status in (200, 201) and reply.get("client_id") == body["client_id"]:
                self.tally.pickups[body["client_id"]] = reply["id"]
                self.tally.replayed += status == 200
            else:
                self.tally.unexpected.append(f"pickup: {status} {reply}")

    def resend(self) -> None:
        """Send an acknowledged transfer again: it must return the same transfer."""
        path, body, token, reference = self.rng.choice(self.done)
        status, reply = self.connection.send(path, body, token)
        with self.tally.lock:
            self.tally.resent_acknowledged += 1
            if status != 200 or reply.get("reference") != reference:
                self.tally.unexpected.append(
                    f"resent {body['id']}: {status} {reply}, expected {reference}"
                )


@dataclass
class Killer:
    """Kills the web server, the worker or both at random moments, then restarts them."""

    deployment: Deployment
    rng: random.Random
    kills_target: int
    gap_s: tuple[float, float] = (0.5, 3.0)
    kills: Counter[str] = field(default_factory=Counter)
    restart_s: list[float] = field(default_factory=list)
    error: str | None = None
    deck: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.kills.values())

    def run(self, stop: threading.Event) -> None:
        try:
            while self.total < self.kills_target and not stop.is_set():
                self.cycle(stop)
        except RuntimeError as error:
            self.error = str(error)
            stop.set()

    def next_targets(self) -> tuple[str, ...]:
        """Return what to kill next: each of the three choices once per round.

        Every round of three cycles kills the web server twice and the worker
        twice, so any run of 20 kills has at least 5 of each.
        """
        if not self.deck:
            self.deck = [("web",), ("worker",), ("web", "worker")]
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    def cycle(self, stop: threading.Event) -> None:
        targets = self.next_targets()
        if stop.wait(self.rng.uniform(*self.gap_s)):
            return
        exited = self.deployment.exited()
        if exited is not None:
            raise RuntimeError(
                f"{exited} exited on its own:\n{self.deployment.log(exited)}"
            )
        for name in targets:
            self.deployment.kill(name)
            self.kills[name] += 1
        # Down for a moment, so clients meet refused connections too.
        time.sleep(self.rng.uniform(0, 0.5))
        for name in targets:
            self.deployment.start(name)
        if "web" in targets:
            self.restart_s.append(self.deployment.wait_web())


def wait_sealed(deployment: Deployment, timeout_s: float = 120) -> dict[str, Any]:
    """Wait until the latest block covers the whole journal; return the checkpoint."""
    deadline = time.monotonic() + timeout_s
    latest: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status, body = deployment.get("/api/journal/checkpoint")
            if status == 200:
                latest = json.loads(body)
            if status == 200 and latest["tree_size"] == latest["journal_size"]:
                return latest
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"the worker did not seal the journal in {timeout_s} s: {latest}"
    )


@dataclass
class RunResult:
    seed: int
    seconds: float
    tally: Tally
    killer: Killer
    clients: int


def run_under_kills(
    deployment: Deployment,
    plan: ClientPlan,
    clients: int,
    kills_target: int,
    *,
    transfers_target: int = 10**12,
    duration_s: float | None = None,
    gap_s: tuple[float, float] = (0.5, 3.0),
    on_progress: Callable[[float, Tally, Killer], None] | None = None,
    progress_every_s: float = 30,
) -> RunResult:
    """Run clients while killing processes; stop after the kills, count or time."""
    tally = Tally()
    stop = threading.Event()
    killer = Killer(
        deployment, random.Random(f"{plan.seed}:kills"), kills_target, gap_s
    )
    team = [Client(n, plan, deployment.port, tally) for n in range(clients)]
    threads = [
        threading.Thread(target=c.run, args=(stop, transfers_target)) for c in team
    ]

    started = time.monotonic()
    for thread in threads:
        thread.start()
    killer_thread = threading.Thread(target=killer.run, args=(stop,))
    killer_thread.start()

    reported = started
    while not stop.is_set():
        now = time.monotonic()
        if on_progress is not None and now - reported >= progress_every_s:
            on_progress(now - started, tally, killer)
            reported = now
        finished = killer.total >= kills_target and duration_s is None
        timed_out = duration_s is not None and time.monotonic() - started > duration_s
        counted = tally.transfer_count >= transfers_target
        if finished or timed_out or counted:
            stop.set()
        stop.wait(0.5)

    killer_thread.join()
    for thread in threads:
        thread.join()
    return RunResult(plan.seed, time.monotonic() - started, tally, killer, clients)
