"""Benchmark the registry import: 100,000 buildings from XLSX and from CSV.

Usage: .venv/bin/python bench/registry_import.py [--rows N] [--backends ...] [--formats ...]

It writes one file per format into a temporary directory: N buildings, one
household each, with format-valid NIK and KK numbers carrying Padang Panjang
region codes and invented names. Then, for each database and format, it
creates a fresh database (a temporary SQLite file, or a PostgreSQL database at
postgres://postgres@127.0.0.1:5432 named kc_bench_<hex>), and a child process
configured for it checks the file (what the officer sees before confirming)
and imports it, as `kotacerdas registry_import FILE` does. It prints the
machine first, then the seconds and rows per second of each step; file
generation is not timed.
"""

import argparse
import csv
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from machine import print_machine

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
ROOT = Path(__file__).resolve().parent.parent
HEADERS = [
    "ref", "kode_kelurahan", "rw", "rt", "alamat", "lintang", "bujur",
    "penggunaan", "jumlah_lantai", "luas_lantai_m2", "daya_listrik_va",
    "status_bangunan", "no_kk", "nik_kepala_keluarga", "nama_kepala_keluarga",
    "telepon",
]  # fmt: skip
KELURAHAN = [f"13.74.0{k}.100{n}" for k in (1, 2) for n in range(1, 9)]
GIVEN_NAMES = [
    "Rahmat", "Yusuf", "Hendra", "Fauzan", "Rizki", "Andi", "Syafri", "Irwan",
    "Siti", "Nurhayati", "Rahmah", "Yuliani", "Fitri", "Desi", "Elvi", "Rosna",
]  # fmt: skip
FAMILY_NAMES = [
    "Chaniago", "Piliang", "Koto", "Sikumbang", "Tanjung", "Jambak", "Melayu",
    "Guci", "Panyalai", "Caniago", "Bendang", "Pisang", "Sumagek", "Mandailing",
]  # fmt: skip
STREETS = ["Jl. Sutan Syahrir", "Jl. Sudirman", "Jl. Imam Bonjol", "Jl. Bahder Johan"]
USES = ["rumah"] * 8 + ["ruko", "toko", "kantor", "kios pasar"]
PLN_VA = [450, 900, 1300, 1300, 2200, 3500, 5500, 6600]


def identity_number(region: str, day: date, serial: int, female: bool) -> str:
    """A format-valid NIK (women's day plus 40) or, with female=False, a KK number."""
    return f"{region}{day.day + (40 if female else 0):02d}{day:%m%y}{serial:04d}"


def kelurahan_polygons() -> dict[str, object]:
    """The kelurahan polygons of the city profile, by Kemendagri code."""
    import json

    from shapely import prepared
    from shapely.geometry import shape

    path = ROOT / "src/kotacerdas/city/data/padang-panjang/boundaries.geojson"
    features = json.loads(path.read_text())["features"]
    return {
        feature["properties"]["kode"]: prepared.prep(shape(feature["geometry"]))
        for feature in features
        if feature["properties"]["level"] == "kelurahan"
    }


def point_in(polygon: Any, rng: random.Random) -> tuple[str, str]:
    """A random (lat, lng) inside a kelurahan, so that no row gets a warning."""
    from shapely.geometry import Point

    min_lng, min_lat, max_lng, max_lat = polygon.context.bounds
    while True:
        lng, lat = rng.uniform(min_lng, max_lng), rng.uniform(min_lat, max_lat)
        if polygon.contains(Point(lng, lat)):
            return f"{lat:.6f}", f"{lng:.6f}"


def generated_rows(count: int) -> list[list[object]]:
    """Invented buildings, one household each; NIKs and KK numbers are unique."""
    rng = random.Random(1374)
    polygons = kelurahan_polygons()
    rows = []
    for number in range(count):
        region = ("137401", "137402")[number % 2]
        birth = date(1950, 1, 1) + timedelta(days=(number // 2) % 18_000)
        issued = date(2000, 1, 1) + timedelta(days=(number // 2) % 9_000)
        serial = (number // 2) // 9_000 + 1
        female = rng.random() < 0.5
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        kelurahan = KELURAHAN[number % len(KELURAHAN)]
        lat, lng = point_in(polygons[kelurahan], rng)
        rows.append(
            [
                f"B{number + 1:06d}",
                kelurahan,
                rng.randint(1, 6),
                rng.randint(1, 4),
                f"{rng.choice(STREETS)} No. {rng.randint(1, 300)}",
                lat,
                lng,
                rng.choice(USES),
                rng.choice((1, 1, 1, 2)),
                rng.randint(30, 300),
                rng.choice(PLN_VA),
                "aktif",
                identity_number(region, issued, serial, female=False),
                identity_number(
                    region, birth, serial + (5000 if female else 0), female
                ),
                name,
                f"08{rng.randint(10**9, 10**10 - 1)}",
            ]
        )
    return rows


def write_files(directory: Path, rows: list[list[object]]) -> dict[str, Path]:
    import openpyxl

    csv_path = directory / "bangunan.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        writer.writerows(rows)

    xlsx_path = directory / "bangunan.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    sheet.append(HEADERS)
    for cells in rows:
        # NIK, KK and phone go in as text, as in the template's Text columns.
        sheet.append(cells)
    workbook.save(xlsx_path)
    add_dimension(xlsx_path, f"A1:{chr(ord('A') + len(HEADERS) - 1)}{len(rows) + 1}")
    return {"csv": csv_path, "xlsx": xlsx_path}


def add_dimension(path: Path, cells: str) -> None:
    """Add the <dimension> element Excel writes and openpyxl's write-only mode omits.

    Without it, openpyxl's read-only mode parses the whole sheet once more just
    to find its size, which no file saved by Excel makes it do.
    """
    import zipfile

    rewritten = path.with_suffix(".tmp")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(
                    b"</sheetPr>", f'</sheetPr><dimension ref="{cells}" />'.encode(), 1
                )
            target.writestr(item, data)
    rewritten.replace(path)


def run_child(
    backend: str, database_url: str, var_dir: str, file_format: str, path: Path
) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.settings",
        "DATABASE_URL": database_url,
        "KOTACERDAS_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, __file__, "--child", backend, file_format, str(path)]
    return subprocess.run(command, env=env, check=False).returncode


def bench_sqlite(file_format: str, path: Path) -> int:
    var_dir = tempfile.mkdtemp(prefix="kc-bench-")
    try:
        url = f"sqlite:///{var_dir}/bench.sqlite3"
        return run_child("sqlite", url, var_dir, file_format, path)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def bench_postgres(file_format: str, path: Path) -> int:
    import psycopg

    name = f"kc_bench_{secrets.token_hex(4)}"
    var_dir = tempfile.mkdtemp(prefix="kc-bench-")
    admin_url = f"{POSTGRES_SERVER}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{POSTGRES_SERVER}/{name}"
        return run_child("postgresql", url, var_dir, file_format, path)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


# Everything below runs in the child process, with Django set up for one database.


def child(backend: str, file_format: str, path: Path) -> int:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from kotacerdas.city.services import load_profile
    from kotacerdas.journal.keys import create_signing_key
    from kotacerdas.registry.importer import process_file
    from kotacerdas.registry.models import Household

    call_command("migrate", verbosity=0)
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    load_profile(settings.KOTACERDAS_CITY)
    label = f"[{backend}, {file_format}]"

    # The same two runs as `kotacerdas registry_import FILE`: check every row,
    # keeping an XLSX file's rows, then import from them.
    kept = Path(settings.VAR_DIR) / "rows.jsonl"
    started = time.perf_counter()
    checked = process_file(path, file_format, keep_rows_at=kept)
    check_s = time.perf_counter() - started
    if checked.problems:
        print(
            f"{label} {len(checked.problems)} problems, such as {checked.problems[0]}"
        )
        return 1

    if kept.exists():
        path, file_format = kept, "rows"
    started = time.perf_counter()
    imported = process_file(path, file_format, write=True)
    import_s = time.perf_counter() - started
    if imported.new_rows != checked.rows or Household.objects.count() != checked.rows:
        print(f"{label} imported {imported.new_rows} of {checked.rows} rows")
        return 1

    rows = checked.rows
    print(
        f"{label} check {check_s:.1f} s ({rows / check_s:,.0f} rows/s), "
        f"import {import_s:.1f} s ({rows / import_s:,.0f} rows/s), "
        f"total {check_s + import_s:.1f} s for {rows:,} rows; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="buildings in each file"
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "postgresql"],
        help="databases to measure: sqlite, postgresql",
    )
    parser.add_argument(
        "--formats", nargs="+", default=["xlsx", "csv"], help="xlsx, csv"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, file_format, path = args.child
        return child(backend, file_format, Path(path))

    print_machine()
    directory = Path(tempfile.mkdtemp(prefix="kc-bench-files-"))
    failed = 0
    try:
        started = time.perf_counter()
        files = write_files(directory, generated_rows(args.rows))
        sizes = ", ".join(
            f"{fmt} {path.stat().st_size / 1e6:.1f} MB" for fmt, path in files.items()
        )
        print(f"files: {args.rows:,} rows ({sizes}), written in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        for backend in args.backends:
            runner = bench_sqlite if backend == "sqlite" else bench_postgres
            for file_format in args.formats:
                failed += runner(file_format, files[file_format]) != 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
