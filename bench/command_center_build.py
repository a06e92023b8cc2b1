"""The build step of the command center benchmark (see command_center.py).

Runs in the child process, with Django set up for the benchmark's database.
"""

import argparse
import gc
import json
import os
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING

from command_center_city import DemoCity

# Written into the var directory, so the timing step and --reuse find the build.
RUN_FILE = "command-center-bench.json"

if TYPE_CHECKING:
    from datetime import datetime

    from command_center_events import YearOfEvents

PROGRESS_EVERY_DAYS = 30


def build_city(args: argparse.Namespace) -> int:
    """Build the city, fold its synthetic days and print what it took."""
    from django.utils import timezone

    from kotacerdas.command import projector
    from kotacerdas.command.models import Tally

    build_started = started = time.perf_counter()
    prepare_database()
    print(f"[build] migrated, loaded the city profile and demo users in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    if args.with_registry:
        write_registry(args)

    from command_center_live import build_live

    now = timezone.now()
    for line in build_live(args.seed, now):
        print(f"[build] {line}", flush=True)
    started = time.perf_counter()
    folded = projector.catch_up()
    print(f"[build] the worker's fold (projector.catch_up) read {folded:,} journal "
          f"entries in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    tallies_before = Tally.objects.count()

    from command_center_events import YearOfEvents

    city = generate_city(args)
    plate_ids = registry_plate_ids(city) if args.with_registry else None
    year = YearOfEvents(
        city,
        args.days,
        now,
        args.seed,
        registry_in_journal=args.with_registry,
        plate_ids=plate_ids,
    )
    fold_window(year, args.days)
    print_rollups(tallies_before)
    print_totals(year)
    analyze_database()
    write_run_file(args, now)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[build] built in {(time.perf_counter() - build_started) / 60:.0f} min; "
          f"peak RSS of the build process {peak_mb:,.0f} MB", flush=True)  # fmt: skip
    return 0


def prepare_database() -> None:
    """Migrate, collect static files and load the profile, as `kotacerdas run` does."""
    from django.conf import settings
    from django.core.management import call_command

    from kotacerdas.city.services import load_profile
    from kotacerdas.demo.services import create_demo_city
    from kotacerdas.journal.keys import create_signing_key

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    load_profile(settings.KOTACERDAS_CITY)
    create_demo_city()


def write_registry(args: argparse.Namespace) -> None:
    from kotacerdas.demo.services import DemoSummary, build_demo_registry

    last_print = [time.monotonic()]

    def progress(summary: DemoSummary) -> None:
        if time.monotonic() - last_print[0] >= 60:
            last_print[0] = time.monotonic()
            print(f"[build] {summary.progress_line().strip()}", flush=True)

    summary = build_demo_registry(args.size, args.seed, progress=progress)
    print(f"[build] registry: {summary.result_line()}", flush=True)


def generate_city(args: argparse.Namespace) -> DemoCity:
    started = time.perf_counter()
    city = DemoCity.generate(args.size, args.seed)
    if args.with_registry:
        city.use_registry_ids()
    print(f"[build] demo generator ({args.size}): {len(city.building_ids):,} "
          f"buildings, {len(city.household_ids):,} households, {city.people:,} "
          f"people in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return city


def registry_plate_ids(city: DemoCity) -> list[int]:
    """Return the id of each building's live plate, in the city's building order."""
    from kotacerdas.registry.models import Plate

    plates = dict(
        Plate.objects.exclude(status=Plate.Status.REVOKED).values_list(
            "building_id", "id"
        )
    )
    return [plates.get(building_id, 0) for building_id in city.building_ids]


def fold_window(year: "YearOfEvents", days: int) -> None:
    """Generate and fold each day, timing the fold apart from the generation.

    The generator runs with the garbage collector off, and its objects are
    frozen out of the collector's reach before the fold. The fold then runs
    with the collector on, as in the worker, whose batches hold 2,000 entries
    rather than a day's 200,000.
    """
    from command_center_events import fold_events

    generate_s = generate_cpu_s = fold_s = fold_cpu_s = 0.0
    events = 0
    for index in range(days):
        started, cpu_started = time.perf_counter(), time.process_time()
        gc.disable()
        day_events = year.day(index)
        gc.freeze()
        gc.enable()
        generated, cpu_generated = time.perf_counter(), time.process_time()
        fold_events(day_events)
        fold_cpu_s += time.process_time() - cpu_generated
        fold_s += time.perf_counter() - generated
        generate_cpu_s += cpu_generated - cpu_started
        generate_s += generated - started
        events += len(day_events)
        if (index + 1) % PROGRESS_EVERY_DAYS == 0 or index + 1 == days:
            print(f"[build] day {index + 1} of {days}: {events:,} events, "
                  f"generated in {generate_s:.0f} s, folded in {fold_s:.0f} s "
                  f"({events / fold_s:,.0f} events/s); load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        del day_events
        gc.unfreeze()
    # On a shared machine the wall time depends on the other work; the CPU
    # time of this process (the fold and, on SQLite, the database) less so.
    print(f"[build] fold throughput: {events / fold_s:,.0f} events/s ({events:,} "
          f"events in {fold_s:.0f} s, one transaction per day); CPU time of "
          f"the fold {fold_cpu_s:.0f} s ({events / fold_cpu_s:,.0f} events per "
          f"CPU second); generating them took {generate_s:.0f} s ("
          f"{generate_cpu_s:.0f} s CPU)", flush=True)  # fmt: skip


def print_rollups(tallies_before: int) -> None:
    from django.db.models import Count

    from kotacerdas.command.models import Fact, OpenReport, Tally

    print(f"[build] rollup rows: Tally {Tally.objects.count():,} "
          f"({tallies_before:,} from the real journal), Fact "
          f"{Fact.objects.count():,}, OpenReport {OpenReport.objects.count():,}",
          flush=True)  # fmt: skip
    per_metric = (
        Tally.objects.values("metric").annotate(rows=Count("id")).order_by("-rows")
    )
    listed = ", ".join(f"{row['metric']} {row['rows']:,}" for row in per_metric)
    print(f"[build] Tally rows per metric: {listed}", flush=True)


def print_totals(year: "YearOfEvents") -> None:
    """Print each figure beside what the synthetic events alone add up to.

    The figures also count the real journal's events (the demo's containers,
    truck routes, pickups and sensor alerts), so a few may be a little higher.
    """
    from dataclasses import asdict

    from kotacerdas.command import figures
    from kotacerdas.command.figures import StoredTallies

    values = {f.key: f.value for f in figures.compute(StoredTallies())}
    parts = [
        f"{key} {values.get(key)} ({expected})"
        for key, expected in asdict(year.totals).items()
    ]
    print("[build] figures (synthetic events alone): " + ", ".join(parts), flush=True)


def analyze_database() -> None:
    """Print the database's size; on PostgreSQL, ANALYZE first.

    A running PostgreSQL gets fresh planner statistics from autovacuum, so
    the benchmark runs ANALYZE as autovacuum would have. SQLite gets none:
    nothing in the project runs ANALYZE, so a real SQLite installation
    plans its queries without statistics too.
    """
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        size_mb = Path(settings.DATABASES["default"]["NAME"]).stat().st_size / 1e6
        print(f"[build] database file {size_mb:,.0f} MB", flush=True)
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size_mb = cursor.fetchone()[0] / 1e6
    print(f"[build] ANALYZE in {time.perf_counter() - started:.0f} s; database "
          f"{size_mb:,.0f} MB", flush=True)  # fmt: skip


def write_run_file(args: argparse.Namespace, now: "datetime") -> None:
    """Record what was built, for the timing step and for --reuse."""
    from django.conf import settings
    from django.utils import timezone

    run = {
        "database": settings.DATABASE_URL,
        "size": args.size,
        "days": args.days,
        "with_registry": args.with_registry,
        "built_on": timezone.localdate(now).isoformat(),
    }
    (Path(settings.VAR_DIR) / RUN_FILE).write_text(json.dumps(run))
