"""Benchmark the command center: server time of the dashboard and its API.

Usage: .venv/bin/python bench/command_center.py [--size large] [--days 365]
       [--requests 200] [--backend sqlite|postgresql] [--with-registry]
       [--keep] [--reuse VAR_DIR] [--rollups-from VAR_DIR]

It creates a fresh database (a SQLite file in a temporary directory, or a
PostgreSQL database at postgres://postgres@127.0.0.1:5432 named
kc_bench_<hex>), then runs two child processes configured for it.

The first builds the city. It migrates and loads the city profile and the
demo users. Then it writes through the services what the dashboard reads
live: the demo's waste sites and trucks, today's truck routes with a few
pickups, sensor alerts, a sealed journal block and a `ledger verify` run. The
worker's fold (`projector.catch_up`) folds those journal entries. Then it
takes the demo generator's buildings and households for `--size`,
synthesizes `--days` days of events ending today (command_center_events)
and folds them day by day as the worker folds a batch. It prints the fold
throughput and the rollup table sizes. By default the registry's rows are
not written. `--with-registry` writes them first through
`demo.services.build_demo_registry`, which took 5 minutes for the large city
on a quiet 2-core machine.

The second child signs in as the demo `command` user and times the server
side of each dashboard page, HTMX fragment, API operation and map layer
that exists. It uses Django's test client in process, so no network is
involved, with a few warm-up requests and then `--requests` timed ones. It
also times the figure functions directly. It prints p50, p95 and max per URL
against the target p95 of 300 ms, and its own peak RSS.

The machine comes first in the output. `--keep` keeps the database and
prints how to time it again with `--reuse`, which skips the build.
`--rollups-from` copies the rollups of a kept build instead of folding, so
another database can be timed on the same rollups.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from command_center_build import read_run_file
from machine import print_machine

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
ROOT = Path(__file__).resolve().parent.parent
SIZES = ("small", "city", "large")


def child_env(database_url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
        "DATABASE_URL": database_url,
        "KOTACERDAS_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }


def run_child(step: str, env: dict[str, str], args: argparse.Namespace) -> int:
    command = [sys.executable, __file__, "--child", step]
    command += ["--size", args.size, "--days", str(args.days)]
    command += ["--requests", str(args.requests), "--seed", str(args.seed)]
    if args.with_registry:
        command.append("--with-registry")
    if args.rollups_from:
        command += ["--rollups-from", args.rollups_from]
    return subprocess.run(command, env=env, check=False).returncode


def create_database(backend: str, var_dir: str) -> str:
    """Create an empty database for `backend` and return its URL."""
    if backend == "sqlite":
        return f"sqlite:///{var_dir}/bench.sqlite3"
    import psycopg

    name = f"kc_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES_SERVER}/{name}"


def drop_database(database_url: str) -> None:
    if not database_url.startswith(POSTGRES_SERVER):
        return
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench(args: argparse.Namespace) -> int:
    """Build a fresh city and time it, or time the one kept in `args.reuse`."""
    if args.reuse:
        var_dir = args.reuse
        database_url = read_run_file(var_dir)["database"]
        return run_child("time", child_env(database_url, var_dir), args)

    var_dir = tempfile.mkdtemp(prefix="kc-bench-command-")
    database_url = create_database(args.backend, var_dir)
    try:
        env = child_env(database_url, var_dir)
        failed = run_child("build", env, args)
        if not failed:
            failed = run_child("time", env, args)
        return failed
    finally:
        if args.keep:
            print(f"kept the database; time it again with --reuse {var_dir}")
        else:
            drop_database(database_url)
            shutil.rmtree(var_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--size",
        choices=SIZES,
        default="large",
        help="demo city size (demo.generator.SIZES): about 400, 64,000 or "
        "1,000,000 people",
    )
    parser.add_argument(
        "--days", type=int, default=365, help="days of events, ending today"
    )
    parser.add_argument(
        "--requests", type=int, default=200, help="timed requests per URL"
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database the city is built in",
    )
    parser.add_argument(
        "--with-registry",
        action="store_true",
        help="write the registry's buildings and households through the services "
        "first (5 minutes for the large city on 2 cores)",
    )
    parser.add_argument(
        "--seed", type=int, default=1374, help="seed of the demo city and events"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database and its var directory after the run",
    )
    parser.add_argument(
        "--reuse",
        metavar="VAR_DIR",
        help="time the database a --keep run left in VAR_DIR, without building",
    )
    parser.add_argument(
        "--rollups-from",
        metavar="VAR_DIR",
        help="copy the rollup rows of the city a --keep run built today in VAR_DIR "
        "instead of generating and folding events, to time another database on "
        "the same rollups",
    )
    parser.add_argument("--child", choices=("build", "time"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.days < 1 or args.requests < 1:
        parser.error("--days and --requests must be at least 1")

    if args.child:
        sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        if args.child == "build":
            from command_center_build import build_city

            return build_city(args)
        from command_center_timing import time_requests

        return time_requests(args)

    print_machine()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
