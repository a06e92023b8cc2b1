"""Dumping the city's database consistently and restoring it into an empty one.

PostgreSQL: the backup opens a REPEATABLE READ transaction, exports its
snapshot and runs `pg_dump --format=custom --snapshot=...`, so the dump and
everything else the backup reads in that transaction show the same moment.
SQLite: the backup opens a deferred read transaction and copies the file with
the sqlite3 online backup API through the same connection, so the copy uses
that transaction's snapshot. The database runs in WAL mode, so writers go on.

Passwords go to pg_dump and pg_restore through PGPASSWORD, never on a
command line, and messages name a database by vendor, name and host only.
"""

import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.db import connection, transaction
from psycopg.conninfo import make_conninfo

logger = logging.getLogger(__name__)

VENDORS = {
    "django.db.backends.postgresql": "postgresql",
    "django.db.backends.sqlite3": "sqlite",
}


class DatabaseBackupError(Exception):
    """A dump or restore failed, or the target database cannot take a restore."""


@dataclass(frozen=True)
class Database:
    """A database named by Django settings: its vendor and connection fields."""

    vendor: str
    fields: dict[str, Any]

    @classmethod
    def from_settings(cls, fields: dict[str, Any]) -> "Database":
        vendor = VENDORS.get(fields["ENGINE"])
        if vendor is None:
            raise DatabaseBackupError(
                f"database engine {fields['ENGINE']} is not supported"
            )
        return cls(vendor, dict(fields))

    @classmethod
    def from_url(cls, url: str) -> "Database":
        try:
            fields = dj_database_url.parse(url)
        except ValueError as error:
            raise DatabaseBackupError(f"invalid database URL: {error}") from None
        return cls.from_settings(dict(fields))

    @property
    def name(self) -> str:
        return str(self.fields["NAME"])

    def label(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite file {self.name}"
        host = self.fields.get("HOST") or "local socket"
        port = self.fields.get("PORT") or 5432
        return f"PostgreSQL database {self.name} on {host}:{port}"

    def libpq_environment(self) -> dict[str, str]:
        """Return the PG* variables that point pg_dump and pg_restore here."""
        values = {
            "PGDATABASE": self.fields.get("NAME"),
            "PGUSER": self.fields.get("USER"),
            "PGPASSWORD": self.fields.get("PASSWORD"),
            "PGHOST": self.fields.get("HOST"),
            "PGPORT": self.fields.get("PORT"),
            "PGSSLMODE": (self.fields.get("OPTIONS") or {}).get("sslmode"),
        }
        return {name: str(value) for name, value in values.items() if value}

    def connect_postgresql(self) -> psycopg.Connection[Any]:
        environment = self.libpq_environment()
        parameters = {
            "dbname": environment.get("PGDATABASE"),
            "user": environment.get("PGUSER"),
            "password": environment.get("PGPASSWORD"),
            "host": environment.get("PGHOST"),
            "port": environment.get("PGPORT"),
            "sslmode": environment.get("PGSSLMODE"),
        }
        try:
            conninfo = make_conninfo(
                connect_timeout=10,
                **{key: value for key, value in parameters.items() if value},
            )
            return psycopg.connect(conninfo)
        except psycopg.OperationalError as error:
            first_line = str(error).strip().splitlines()[0]
            raise DatabaseBackupError(
                f"cannot connect to the {self.label()}: {first_line}; create the "
                "database first (createdb) and check the URL"
            ) from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one read query on this database, outside Django's connections."""
        if self.vendor == "sqlite":
            with sqlite3.connect(self.name) as sqlite:
                return sqlite.execute(sql).fetchall()
        with self.connect_postgresql() as postgres:
            return postgres.execute(sql).fetchall()


def _run_tool(command: list[str], database: Database, step: str) -> str:
    try:
        completed = subprocess.run(
            command,
            env={**os.environ, **database.libpq_environment()},
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise DatabaseBackupError(
            f"{command[0]} not found; install the PostgreSQL client tools of the "
            "server's major version (Debian: apt-get install postgresql-client)"
        ) from None
    if completed.returncode != 0:
        raise DatabaseBackupError(
            f"{step} of the {database.label()} failed: {completed.stderr.strip()}"
        )
    return completed.stdout


def tool_version(tool: str) -> str:
    try:
        completed = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return ""
    return completed.stdout.strip()


@contextmanager
def consistent_snapshot() -> Iterator[str | None]:
    """Hold one read snapshot on Django's connection; yield its PostgreSQL id.

    Every query on the default connection inside the block reads the same
    moment. On SQLite the first read starts the snapshot, so this runs one.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
                cursor.execute("SELECT pg_export_snapshot()")
                (snapshot,) = cursor.fetchone()
            yield str(snapshot)
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        cursor.execute("SELECT count(*) FROM sqlite_master")
    try:
        yield None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")


def dump_database(path: Path, snapshot: str | None) -> None:
    """Write the default database, as of the held snapshot, to `path`."""
    database = Database.from_settings(connection.settings_dict)
    if database.vendor == "postgresql":
        assert snapshot is not None
        _run_tool(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={path}",
            ],
            database,
            "pg_dump",
        )
        return
    raw = connection.connection
    assert isinstance(raw, sqlite3.Connection)
    target = sqlite3.connect(path)
    try:
        raw.backup(target)
        # The copy keeps the source's WAL mode, which needs -wal and -shm files
        # beside it; rollback-journal mode makes it one self-contained file.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def applied_migrations() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def server_version() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


def check_empty(database: Database) -> None:
    """Raise unless the database has no tables, views or sequences of its own."""
    if database.vendor == "sqlite":
        path = Path(database.name)
        if not path.exists() or path.stat().st_size == 0:
            return
        count = database.query("SELECT count(*) FROM sqlite_master")[0][0]
    else:
        count = database.query(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname NOT IN "
            "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
            "AND n.nspname NOT LIKE 'pg_temp%'"
        )[0][0]
    if count:
        raise DatabaseBackupError(
            f"the {database.label()} is not empty ({count} objects); restore only "
            "into a new, empty database, so that nothing in it is overwritten"
        )


def restore_database(database: Database, dump: Path) -> None:
    """Load a dump into an empty database; a failed load leaves it empty."""
    if database.vendor == "postgresql":
        _run_tool(
            [
                "pg_restore",
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                "--no-password",
                f"--dbname={database.name}",
                str(dump),
            ],
            database,
            "pg_restore",
        )
        return
    Path(database.name).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    target = sqlite3.connect(database.name)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
