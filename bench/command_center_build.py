"""The build step of the command center benchmark (see command_center.py).

Runs in the child process, with Django set up for the benchmark's database.
"""

import argparse
import gc
import json
import os
import resource
import time
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from command_center_city import DemoCity

# Written into the var directory, so the timing step and --reuse find the build.
RUN_FILE = "command-center-bench.json"

if TYPE_CHECKING:
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

    source = None
    if args.rollups_from:
        source = copy_rollups(args.rollups_from, now)
        print_rollups(tallies_before)
    else:
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
    write_run_file(args, now, source)
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
    # On a shared machine the wall time depends on the other work. The CPU
    # time of this process depends on it less; on SQLite it includes the database.
    print(f"[build] fold throughput: {events / fold_s:,.0f} events/s ({events:,} "
          f"events in {fold_s:.0f} s, one transaction per day); CPU time of "
          f"the fold {fold_cpu_s:.0f} s ({events / fold_cpu_s:,.0f} events per "
          f"CPU second); generating them took {generate_s:.0f} s ("
          f"{generate_cpu_s:.0f} s CPU)", flush=True)  # fmt: skip


def copy_rollups(source_dir: str, now: datetime) -> dict[str, Any]:
    """Replace the rollups with those of the city a --keep run built in `source_dir`.

    Copies the Tally and OpenReport rows, which are what the dashboard reads,
    so another database can be timed on the same rollups without folding the
    year again. Facts stay as they are: only the fold reads them. Raises
    SystemExit when the source was built on another day, because today's
    figures would then be empty. Returns the source's run file.
    """
    from django.db import transaction
    from django.utils import timezone

    from kotacerdas.command.models import OpenReport, Tally

    run = read_run_file(source_dir)
    if run["built_on"] != timezone.localdate(now).isoformat():
        raise SystemExit(
            f"the city in {source_dir} was built on {run['built_on']}; copy the "
            "rollups of a city built today, or build one without --rollups-from"
        )
    started = time.perf_counter()
    tallies, reports = read_rollups(run["database"])
    with transaction.atomic():
        Tally.objects.all().delete()
        OpenReport.objects.all().delete()
        Tally.objects.bulk_create(
            [
                Tally(metric=m, day=d, kelurahan_code=k, key=key, value=v)
                for m, d, k, key, v in tallies
            ],
            batch_size=2000,
        )
        OpenReport.objects.bulk_create(
            [
                OpenReport(
                    report_id=r, kind=kind, kelurahan_code=k, filed_at=f, sla_due_at=s
                )
                for r, kind, k, f, s in reports
            ],
            batch_size=2000,
        )
    print(f"[build] copied {len(tallies):,} Tally and {len(reports):,} OpenReport "
          f"rows of the {run['size']} city in {source_dir} ({run['days']} days) in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return run


def read_rollups(database_url: str) -> tuple[list[tuple], list[tuple]]:
    """Read the Tally and OpenReport rows of another benchmark database."""
    tally_sql = "SELECT metric, day, kelurahan_code, key, value FROM command_tally"
    report_sql = (
        "SELECT report_id, kind, kelurahan_code, filed_at, sla_due_at "
        "FROM command_openreport"
    )
    if database_url.startswith("sqlite:///"):
        import sqlite3

        connection: Any = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    else:
        import psycopg

        connection = psycopg.connect(database_url)
    with closing(connection):
        tallies = [
            (m, _date(d), k, key, v)
            for m, d, k, key, v in connection.execute(tally_sql).fetchall()
        ]
        reports = [
            (r, kind, k, _moment(f), _moment(s))
            for r, kind, k, f, s in connection.execute(report_sql).fetchall()
        ]
    return tallies, reports


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _moment(value: Any) -> datetime:
    """Return an aware datetime; SQLite stores them as UTC text without a zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def read_run_file(var_dir: str | Path) -> dict[str, Any]:
    """Return the run file a build step wrote in `var_dir`, or raise SystemExit."""
    path = Path(var_dir) / RUN_FILE
    if not path.exists():
        raise SystemExit(
            f"no benchmark city in {var_dir}: {RUN_FILE} is missing; build one "
            "with --keep and pass the directory it prints"
        )
    return dict(json.loads(path.read_text()))


def write_run_file(
    args: argparse.Namespace, now: datetime, source: dict[str, Any] | None
) -> None:
    """Record what was built, for the timing step and for --reuse."""
    from django.conf import settings
    from django.utils import timezone

    run = {
        "database": settings.DATABASE_URL,
        "size": source["size"] if source else args.size,
        "days": source["days"] if source else args.days,
        "with_registry": args.with_registry,
        "rollups_from": args.rollups_from,
        "built_on": timezone.localdate(now).isoformat(),
    }
    (Path(settings.VAR_DIR) / RUN_FILE).write_text(json.dumps(run))
