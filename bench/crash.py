"""Crash benchmark: many clients move money while the processes are killed for hours.

Usage:
    .venv/bin/python bench/crash.py [--transfers 1000000] [--clients 64]
        [--duration-s S] [--database postgresql|sqlite] [--seed N]

The long version of tests/faults/test_crash.py. It creates a database (a
PostgreSQL database kc_live_<hex> at 127.0.0.1:5432, or a SQLite file), sets
up a city, starts gunicorn and `kotacerdas worker` on 127.0.0.1, and runs
--clients client threads (payments with a PIN, counter cash-ins, batched
top-ups and pickups, each resent with the same id while the server is down)
until --transfers transfers got a response or --duration-s passed. All the
while it kills the web server, the worker or both with SIGKILL every
--kill-gap-s seconds and starts them again. Then it waits for the worker to
seal the journal and checks, as the test does: every acknowledged request
stored once, money balanced, no negative wallet, one chain of blocks, and
`kotacerdas ledger verify`. It prints progress every 30 s and exits 1 when a
check fails.

The processes use the test settings (`kotacerdas.config.test_settings`),
whose PIN hashing is MD5 instead of Argon2, so the run measures the ledger
and the restarts rather than the PIN hash; --settings changes that.
"""

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crash_run import ClientPlan, Killer, RunResult, Tally, run_under_kills, wait_sealed
from kotacerdas.config.ports import free_port
from live_city import Deployment, create_database, drop_database, environment
from machine import print_machine


def print_progress(elapsed_s: float, tally: Tally, killer: Killer) -> None:
    answered = tally.transfer_count
    print(
        f"[{elapsed_s:6.0f} s] {answered:,} transfers answered "
        f"({answered / elapsed_s:,.0f}/s, {tally.batched:,} in batches), "
        f"{len(tally.pickups):,} pickups, "
        f"kills {dict(killer.kills)}, {tally.retried:,} retried",
        flush=True,
    )


def check(deployment: Deployment, run: RunResult, citizens: int) -> list[str]:
    """Run the test's checks on the database; return the failures."""
    findings = deployment.child("check", run.tally.acks(citizens))
    failures = [f"unexpected answer: {text}" for text in run.tally.unexpected[:10]]
    for name in (
        "transfers_missing",
        "transfers_rejected_but_stored",
        "transfers_stored_unacknowledged",
        "transfer_ids_duplicated",
        "pickups_missing",
        "pickups_stored_unacknowledged",
        "pickup_ids_duplicated",
        "negative_accounts",
        "accounts_not_matching_transfers",
        "block_problems",
    ):
        if findings[name]:
            failures.append(f"{name}: {findings[name]}")
    if findings["debits_posted"] != findings["credits_posted"]:
        failures.append("debits and credits differ")
    if findings["held_total"] != findings["expected_held_total"]:
        failures.append(
            f"wallets hold {findings['held_total']}, "
            f"expected {findings['expected_held_total']}"
        )
    if findings["sealed_size"] != findings["journal_size"]:
        failures.append("the last block does not cover the journal")
    report = deployment.command("ledger", "verify", timeout_s=7200)
    if "ledger valid" not in report:
        failures.append(f"ledger verify: {report[-2000:]}")
    print(
        f"checked: {findings['transfers_stored']:,} transfers (and "
        f"{findings['fee_transfers_stored']:,} fee transfers) and "
        f"{findings['pickups_stored']:,} pickups stored, {findings['blocks']:,} blocks, "
        f"journal size {findings['journal_size']:,}, wallets hold "
        f"Rp{findings['held_total']:,} = settlement Rp{-findings['settlement_balance']:,}"
        f"\nledger verify: {report.strip().splitlines()[-1] if report else '-'}",
        flush=True,
    )
    return failures


def print_result(run: RunResult) -> None:
    tally, killer = run.tally, run.killer
    answered = tally.transfer_count
    restarts = killer.restart_s
    print(
        f"\n{run.seconds:,.0f} s with {run.clients} clients: {answered:,} transfers "
        f"answered ({len(tally.transfers):,} acknowledged, "
        f"{len(tally.rejected_transfers):,} rejected; {tally.batched:,} of them in "
        f"batches of top-ups), {answered / run.seconds:,.1f} transfers/s; "
        f"{len(tally.pickups):,} pickups\n"
        f"kills: {dict(killer.kills)} ({killer.total} in all); web restart "
        f"{sum(restarts) / max(1, len(restarts)):.1f} s on average\n"
        f"requests retried after a kill: {tally.retried:,}, of which answered "
        f"from the stored row: {tally.replayed:,}; acknowledged requests resent "
        f"on purpose: {tally.resent_acknowledged:,}; 5xx replies: "
        f"{dict(tally.server_errors)}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument(
        "--duration-s", type=float, default=None, help="stop after this many seconds"
    )
    parser.add_argument("--database", default="postgresql")
    parser.add_argument("--seed", type=int, default=random.randrange(10**6))
    parser.add_argument(
        "--kill-gap-s",
        type=float,
        nargs=2,
        default=(5.0, 20.0),
        help="seconds between a restart and the next kill, lowest and highest",
    )
    parser.add_argument(
        "--batch-share",
        type=float,
        default=0.05,
        help="share of requests that are batches of top-ups",
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--settings", default="kotacerdas.config.test_settings")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    # SIGTERM ends the run through the `finally` below, which stops the
    # processes and drops the database.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(1))
    print_machine()
    print(f"seed {args.seed}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="kc-crash-"))
    url = create_database(args.database, root)
    env = environment(root, url, args.settings)
    deployment = Deployment(root, env, free_port(0), web_workers=args.web_workers)
    try:
        return run(deployment, args)
    finally:
        deployment.stop()
        if not args.keep:
            drop_database(url)
            shutil.rmtree(root, ignore_errors=True)


def run(deployment: Deployment, args: argparse.Namespace) -> int:
    started = time.monotonic()
    citizens = max(2, args.clients)
    city: dict[str, Any] = deployment.child(
        "setup",
        {"citizens": citizens, "merchants": 8, "crews": 16, "buildings": 200},
    )
    print(f"city set up in {time.monotonic() - started:.0f} s", flush=True)
    deployment.start("web")
    deployment.start("worker")
    deployment.wait_web()

    plan = ClientPlan(
        city,
        args.seed,
        pickup_share=0.1,
        cash_in_share=0.05,
        batch_share=args.batch_share,
        batch_size=args.batch_size,
        max_amount_rupiah=200,
    )
    result = run_under_kills(
        deployment,
        plan,
        args.clients,
        kills_target=10**9,
        transfers_target=args.transfers,
        duration_s=args.duration_s,
        gap_s=(args.kill_gap_s[0], args.kill_gap_s[1]),
        on_progress=print_progress,
    )
    print_result(result)
    if result.killer.error:
        print(f"FAILED: {result.killer.error}")
        return 1
    wait_sealed(deployment, timeout_s=1800)
    deployment.stop()
    failures = check(deployment, result, citizens)
    for failure in failures:
        print(f"FAILED: {failure}")
    if result.tally.transfer_count < args.transfers:
        print(f"stopped at {result.tally.transfer_count:,} of {args.transfers:,}")
    if not failures:
        print("all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
