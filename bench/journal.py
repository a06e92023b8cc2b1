"""Benchmark the journal: appends, full verification and proofs.

Usage: .venv/bin/python bench/journal.py [--entries N] [--appends N] [--backends ...]
       [--anchors N] [--anchor-chains anvil in-process] [--witness-rounds N]

For each backend it creates a fresh database (a temporary SQLite file, or a
PostgreSQL database at postgres://postgres@127.0.0.1:5432 named kc_bench_<hex>),
runs the measurements in a child process configured for it, and drops it again.
It prints the machine first, then one block of figures per backend.
"""

import argparse
import hashlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from machine import print_machine

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
ROOT = Path(__file__).resolve().parent.parent


def run_child(
    backend: str, database_url: str, var_dir: str, args: argparse.Namespace
) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
        "DATABASE_URL": database_url,
        "KOTACERDAS_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        __file__,
        "--child",
        backend,
        "--entries",
        str(args.entries),
        "--appends",
        str(args.appends),
    ]
    return subprocess.run(command, env=env, check=False).returncode


def bench_sqlite(args: argparse.Namespace) -> int:
    var_dir = tempfile.mkdtemp(prefix="kc-bench-")
    try:
        url = f"sqlite:///{var_dir}/bench.sqlite3"
        return run_child("sqlite", url, var_dir, args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def bench_postgres(args: argparse.Namespace) -> int:
    import psycopg

    name = f"kc_bench_{secrets.token_hex(4)}"
    var_dir = tempfile.mkdtemp(prefix="kc-bench-")
    admin_url = f"{POSTGRES_SERVER}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return run_child("postgresql", f"{POSTGRES_SERVER}/{name}", var_dir, args)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


# Everything below runs in the child process, with Django set up for one database.


def measure_appends(count: int) -> float:
    from django.db import transaction

    from kotacerdas.journal import services

    started = time.perf_counter()
    for number in range(count):
        with transaction.atomic(durable=True):
            services.append(
                "accounts.roles.changed",
                {"user_id": number + 1, "roles": ["citizen"], "actor_id": None},
            )
    return count / (time.perf_counter() - started)


def bulk_fill(total: int) -> list[bytes]:
    """Insert entries up to `total` directly, as the append path would encode them."""
    from django.db import transaction

    from kotacerdas.journal import services
    from kotacerdas.journal.models import Entry, JournalHead

    start = services.journal_size()
    at = datetime(2025, 1, 1, tzinfo=UTC)
    bodies: list[bytes] = []
    for low in range(start, total, 10_000):
        batch = []
        for seq in range(low, min(low + 10_000, total)):
            payload = {"user_id": seq, "roles": ["citizen"], "actor_id": None}
            body = services.encode_body(
                seq, "accounts.roles.changed", payload, None, at
            )
            bodies.append(body)
            batch.append(
                Entry(
                    seq=seq,
                    event_type="accounts.roles.changed",
                    body=body,
                    recorded_at=at,
                )
            )
        with transaction.atomic():
            Entry.objects.bulk_create(batch, batch_size=2_000)
    JournalHead.objects.filter(pk=1).update(size=total)
    return bodies


def seal_all() -> int:
    from kotacerdas.journal import services

    blocks = 0
    while services.seal_pending(max_entries=250_000) is not None:
        blocks += 1
    return blocks


def measure_raw_hashing(bodies: list[bytes]) -> float:
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for body in bodies:
        sha256(b"\x00" + body).digest()
    return len(bodies) / (time.perf_counter() - started)


def measure_proofs(total: int, samples: int = 1_000) -> dict[str, float]:
    from kotacerdas.journal import services

    rng = random.Random(1374)
    timings_ms, sizes = [], []
    for _ in range(samples):
        seq = rng.randrange(total)
        started = time.perf_counter()
        proof = services.inclusion_proof(seq)
        timings_ms.append((time.perf_counter() - started) * 1000)
        sizes.append(len(proof.path) * 32)
    consistency_ms = []
    for _ in range(samples // 10):
        old_size = rng.randrange(1, total)
        started = time.perf_counter()
        services.consistency_proof(old_size, total)
        consistency_ms.append((time.perf_counter() - started) * 1000)
    return {
        "inclusion_median_ms": statistics.median(timings_ms),
        "inclusion_p99_ms": statistics.quantiles(timings_ms, n=100)[98],
        "inclusion_max_bytes": max(sizes),
        "consistency_median_ms": statistics.median(consistency_ms),
    }


def child(backend: str, entries: int, appends: int) -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from kotacerdas.journal.keys import create_signing_key, node_verifier
    from kotacerdas.journal.verify import verify_ledger

    call_command("migrate", verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))

    appends_per_s = measure_appends(appends)
    print(
        f"[{backend}] appends: {appends_per_s:,.0f}/s ({appends} appends, one per transaction)"
    )

    started = time.perf_counter()
    bodies = bulk_fill(entries)
    filled_s = time.perf_counter() - started
    started = time.perf_counter()
    blocks = seal_all()
    sealed_s = time.perf_counter() - started
    print(
        f"[{backend}] filled to {entries:,} entries in {filled_s:.0f} s, "
        f"sealed {blocks} blocks in {sealed_s:.0f} s"
    )

    started = time.perf_counter()
    result = verify_ledger(node_verifier())
    verify_s = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"[{backend}] verify failed: {result.problems[0]}")
    verify_per_s = result.entries_checked / verify_s
    raw_per_s = measure_raw_hashing(bodies)
    print(
        f"[{backend}] verify: {verify_per_s:,.0f} entries/s "
        f"({result.entries_checked:,} entries in {verify_s:.1f} s); "
        f"raw sha256 over the same bytes: {raw_per_s:,.0f}/s; "
        f"ratio {verify_per_s / raw_per_s:.2f}"
    )

    proofs = measure_proofs(entries)
    print(
        f"[{backend}] inclusion proof at {entries:,} entries: "
        f"median {proofs['inclusion_median_ms']:.2f} ms, "
        f"p99 {proofs['inclusion_p99_ms']:.2f} ms, "
        f"at most {proofs['inclusion_max_bytes']} bytes; "
        f"consistency proof median {proofs['consistency_median_ms']:.2f} ms"
    )


def measure_anchor_latency(chain_kind: str, count: int) -> None:
    """Print send-to-receipt latency of `count` attest transactions on one chain.

    Each transaction attests a different (root, size), is signed locally with
    an estimated gas limit and sent raw, and the next is sent only after the
    receipt of the previous, as the anchor job does. anvil runs on a free
    127.0.0.1 port with automatic mining.
    """
    from kotacerdas.journal import chain as chains

    anvil = None
    state_dir = tempfile.mkdtemp(prefix="kc-bench-chain-")
    try:
        if chain_kind == "anvil":
            anvil, url = chains.start_anvil(Path(state_dir), port=0)
            chain = chains.http_chain(url)
        else:
            chain = chains.new_in_process_chain()
        account = chains.load_or_create_key(Path(state_dir) / "operator.key")
        chains.fund_for_development(chain, account.address)
        address, _tx = chains.deploy_contract(chain, account, [account.address], 1)
        contract = chain.contract(address)
        latencies_ms = []
        for size in range(1, count + 1):
            root = hashlib.sha256(size.to_bytes(8, "big")).digest()
            call = chains.attest_call(contract, root, size)
            submission = chains.send_call(chain, account, call)
            outcome = chains.wait_outcome(chain, submission, 60.0)
            assert outcome is not None and outcome.status == 1, submission
            latencies_ms.append(outcome.latency_ms)
    finally:
        if anvil is not None:
            anvil.terminate()
            anvil.wait(timeout=15)
        shutil.rmtree(state_dir, ignore_errors=True)
    cuts = statistics.quantiles(latencies_ms, n=100)
    print(
        f"[{chain_kind}] anchor latency over {count} attest transactions "
        f"(send to receipt): p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms"
    )


def bench_witnesses(rounds: int) -> int:
    """Run the witness round-trip measurement in a child on a fresh SQLite file."""
    var_dir = tempfile.mkdtemp(prefix="kc-bench-witness-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
        "DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3",
        "KOTACERDAS_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, __file__, "--witness-child", "--witness-rounds"]
    try:
        return subprocess.run([*command, str(rounds)], env=env, check=False).returncode
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def start_bench_witness(
    directory: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `kotacerdas witness serve` on a free 127.0.0.1 port; return it and its URL."""
    import socket

    import requests

    from kotacerdas.journal.keys import node_verifier_key
    from kotacerdas.witness.store import WitnessStore

    store = WitnessStore(directory)
    store.init(name)
    store.trust(node_verifier_key())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "kotacerdas.witness", "serve", "--dir"]
    command += [str(directory), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(200):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"witness {name} did not start on port {port}")


def witness_child(rounds: int) -> None:
    """Print the time from submitting a checkpoint to a stored, verified cosignature.

    Two witness processes run on 127.0.0.1. Each round appends one entry,
    seals a block and pushes it to each witness in turn, as the worker's
    witness-push job does, with a consistency proof from the previous block.
    """
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from kotacerdas.journal import services, witnessing
    from kotacerdas.journal.keys import create_signing_key
    from kotacerdas.journal.models import Witness
    from kotacerdas.witness.store import WitnessStore

    call_command("migrate", verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    processes = []
    try:
        for name in ["witness.a.bench", "witness.b.bench"]:
            directory = Path(settings.VAR_DIR) / "witnesses" / name
            process, url = start_bench_witness(directory, name)
            processes.append(process)
            witnessing.add_witness(name, url, WitnessStore(directory).vkey())
        latencies_ms = []
        for round_number in range(rounds):
            with transaction.atomic():
                services.append(
                    "accounts.roles.changed",
                    {
                        "user_id": round_number + 1,
                        "roles": ["citizen"],
                        "actor_id": None,
                    },
                )
            block = services.seal_pending()
            assert block is not None
            for witness in Witness.objects.all():
                started = time.perf_counter()
                witnessing.push_checkpoint(witness, block)
                latencies_ms.append((time.perf_counter() - started) * 1000)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
    cuts = statistics.quantiles(latencies_ms, n=100)
    print(
        f"[sqlite] witness round trip over {len(latencies_ms)} submissions to 2 "
        f"witness processes (submit to stored verified cosignature, tree size "
        f"1 to {rounds}): p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--entries",
        type=int,
        default=1_000_000,
        help="ledger size that verify and proofs are measured at",
    )
    parser.add_argument(
        "--appends",
        type=int,
        default=2_000,
        help="number of appends timed, one per transaction",
    )
    parser.add_argument(
        "--backends",
        nargs="*",
        default=["sqlite", "postgresql"],
        help="databases to measure: sqlite, postgresql",
    )
    parser.add_argument(
        "--anchors",
        type=int,
        default=100,
        help="attest transactions timed on anvil and the in-process chain (0: none)",
    )
    parser.add_argument(
        "--anchor-chains",
        nargs="+",
        default=["anvil", "in-process"],
        help="chains the anchor latency is measured on: anvil, in-process",
    )
    parser.add_argument(
        "--witness-rounds",
        type=int,
        default=200,
        help="checkpoints pushed to two witness processes and timed (0: none)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--witness-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.witness_child:
        witness_child(args.witness_rounds)
        return 0
    if args.child:
        child(args.child, args.entries, args.appends)
        return 0

    print_machine()
    failed = 0
    for backend in args.backends:
        runner = bench_sqlite if backend == "sqlite" else bench_postgres
        failed += runner(args) != 0
    if args.witness_rounds:
        failed += bench_witnesses(args.witness_rounds) != 0
    for chain_kind in args.anchor_chains if args.anchors else []:
        measure_anchor_latency(chain_kind, args.anchors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
