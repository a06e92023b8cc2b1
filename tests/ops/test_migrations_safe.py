"""Migrations must not lock a large table for long while the city keeps running.

An upgrade migrates a live database: the web server and the worker go on
writing while `kotacerdas migrate` runs. On PostgreSQL, a plain CREATE INDEX
blocks every write to its table until the index is built. A column type change
rewrites the table under an ACCESS EXCLUSIVE lock. A new CHECK, UNIQUE or
FOREIGN KEY constraint scans every row under a lock. On a table with millions
of rows that is minutes of failed payments and pickups.

So every migration of the project's apps is inspected, at two levels:

- its operations, on both databases: the operation classes known to take such
  locks, when they touch a large table that an earlier migration created;
- on PostgreSQL, the SQL `sqlmigrate` prints for it: CREATE INDEX without
  CONCURRENTLY, ALTER COLUMN ... TYPE or SET NOT NULL, and ADD CONSTRAINT
  without NOT VALID on a large table.

A migration that does one of these anyway is listed in REVIEWED with the reason
it is safe. docs/upgrades.md explains the safe forms.
"""

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from django.contrib.postgres.operations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
)
from django.core.management import call_command
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

# Tables that grow with the city's activity or population, as "app_label.model".
LARGE_MODELS = frozenset(
    {
        # One row per journal entry, and about two Merkle nodes per entry.
        "journal.entry",
        "journal.merklenode",
        # One row per person, per account and month, per payment.
        "accounts.user",
        "accounts.auditevent",
        "wallet.account",
        "wallet.accountmonth",
        "wallet.transfer",
        "wallet.billpayment",
        "snap.snaprequest",
        "snap.snappayment",
        # One row per building and month.
        "levy.bill",
        "levy.payment",
        # The registry: buildings, their plates, households and members.
        "registry.building",
        "registry.plate",
        "registry.household",
        "registry.residence",
        "registry.member",
        # One row per stop, pickup, sensor reading and waste-bank deposit.
        "waste.routestop",
        "waste.pickup",
        "waste.sensorreading",
        "wastebank.deposit",
        "wastebank.deposititem",
        "wastereports.report",
        # The command center's rollups, per area, day and figure.
        "command.tally",
        "command.fact",
    }
)

# Migrations that would be flagged, with the reason each is safe.
REVIEWED: dict[tuple[str, str], str] = {
    ("wallet", "0002_one_citizen_wallet_per_holder"): (
        "A partial unique index on wallet_account, one row per wallet (about "
        "70,000 in Padang Panjang). Building it took 0.43 s for 1,000,000 rows "
        "on PostgreSQL 15 with 2 cores, a short pause even for a large city."
    ),
}

SAFE_OPERATIONS = (AddIndexConcurrently, RemoveIndexConcurrently, AddConstraintNotValid)


@dataclass(frozen=True)
class Finding:
    app_label: str
    migration: str
    what: str

    def __str__(self) -> str:
        return f"{self.app_label}.{self.migration}: {self.what}"


StateBefore = Callable[[], ProjectState]


def project_migrations() -> Iterator[tuple[Migration, StateBefore]]:
    """Yield every migration of the project's apps with the state before it.

    The state is built only when asked for, because building it replays
    every earlier migration.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        migration = loader.disk_migrations[key]
        if not migration.__module__.startswith("kotacerdas."):
            continue
        yield migration, partial(loader.project_state, key, at_end=False)


def _model_of(operation: Operation) -> str:
    name = getattr(operation, "model_name", None) or getattr(operation, "name", "")
    return str(name).lower()


def risky_operations(
    migration: Migration, state: StateBefore, large: frozenset[str] = LARGE_MODELS
) -> list[Finding]:
    """Return the operations of `migration` that lock a large, existing table."""
    created = {
        operation.name_lower
        for operation in migration.operations
        if isinstance(operation, migrations.CreateModel)
    }
    findings = []
    for operation in migration.operations:
        model = _model_of(operation)
        if f"{migration.app_label}.{model}" not in large or model in created:
            continue
        problem = _lock_problem(operation, migration.app_label, state)
        if problem:
            findings.append(Finding(migration.app_label, migration.name, problem))
    return findings


def _lock_problem(operation: Operation, app_label: str, state: StateBefore) -> str:
    model = _model_of(operation)
    if isinstance(operation, SAFE_OPERATIONS):
        return ""
    if isinstance(operation, migrations.AddIndex):
        return f"AddIndex on {model} builds the index under a write lock"
    if isinstance(operation, migrations.RemoveIndex):
        return f"RemoveIndex on {model} waits for an exclusive lock"
    if isinstance(operation, migrations.AddConstraint):
        return f"AddConstraint on {model} checks every row under a lock"
    if isinstance(operation, migrations.AlterUniqueTogether):
        return f"AlterUniqueTogether on {model} builds a unique index under a lock"
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if field.db_index or field.unique or field.is_relation:
            return f"AddField {model}.{operation.name} builds an index or constraint"
    if isinstance(operation, migrations.AlterField) and _alters_column(
        operation, app_label, state()
    ):
        return f"AlterField {model}.{operation.name} changes the column"
    return ""


def _alters_column(
    operation: migrations.AlterField, app_label: str, before: ProjectState
) -> bool:
    """Return whether an AlterField changes the column, as Django decides it.

    Django skips an AlterField whose change is Python-side only (verbose_name,
    choices, validators), and the schema editor's own test decides which.
    """
    after = before.clone()
    operation.state_forwards(app_label, after)
    model = operation.model_name_lower
    old = before.apps.get_model(app_label, model)._meta.get_field(operation.name)
    new = after.apps.get_model(app_label, model)._meta.get_field(operation.name)
    editor = connection.SchemaEditorClass(connection, collect_sql=True)
    return bool(editor._field_should_be_altered(old, new))


# The project's migrations -------------------------------------------------------------


def test_no_migration_locks_large_table():
    findings = [
        finding
        for migration, state in project_migrations()
        for finding in risky_operations(migration, state)
        if (migration.app_label, migration.name) not in REVIEWED
    ]

    assert findings == [], (
        "these migrations lock a large table on a live database; use the forms "
        "in docs/upgrades.md or list them in REVIEWED with the reason:\n"
        + "\n".join(str(finding) for finding in findings)
    )


def test_reviewed_migrations_exist_and_are_flagged():
    flagged = {
        (migration.app_label, migration.name)
        for migration, state in project_migrations()
        if risky_operations(migration, state)
    }

    for key, reason in REVIEWED.items():
        assert key in flagged, f"{key} is listed in REVIEWED but not flagged"
        assert reason.strip(), f"{key} needs a reason"


def test_concurrent_operations_are_not_atomic():
    # PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction.
    for migration, _state in project_migrations():
        concurrent = [
            operation
            for operation in migration.operations
            if isinstance(operation, AddIndexConcurrently | RemoveIndexConcurrently)
        ]
        assert not concurrent or migration.atomic is False, (
            f"{migration.app_label}.{migration.name} needs atomic = False"
        )


# The checker itself ---------------------------------------------------------------


def journal_state() -> ProjectState:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state(("journal", "0005_chain_identity_label"))


JOURNAL_STATE = journal_state


def sample_migration(*operations: Operation) -> Migration:
    migration = Migration("9999_sample", "journal")
    migration.operations = list(operations)
    return migration


ENTRY_INDEX = models.Index(fields=["event_type", "recorded_at"], name="entry_sample")


def test_plain_index_on_entry_is_flagged():
    migration = sample_migration(migrations.AddIndex("entry", ENTRY_INDEX))

    findings = risky_operations(migration, JOURNAL_STATE)

    assert [finding.what for finding in findings] == [
        "AddIndex on entry builds the index under a write lock"
    ]


def test_concurrent_index_on_entry_passes():
    migration = sample_migration(AddIndexConcurrently("entry", ENTRY_INDEX))

    assert risky_operations(migration, JOURNAL_STATE) == []


def test_index_on_small_table_passes():
    index = models.Index(fields=["name"], name="witness_sample")
    migration = sample_migration(migrations.AddIndex("witness", index))

    assert risky_operations(migration, JOURNAL_STATE) == []


def test_type_change_is_flagged():
    field = models.TextField()
    migration = sample_migration(migrations.AlterField("entry", "event_type", field))

    findings = risky_operations(migration, JOURNAL_STATE)

    assert [finding.what for finding in findings] == [
        "AlterField entry.event_type changes the column"
    ]


def test_label_change_passes():
    field = models.CharField("kind of event", max_length=100, db_index=True)
    migration = sample_migration(migrations.AlterField("entry", "event_type", field))

    assert risky_operations(migration, JOURNAL_STATE) == []


def test_check_constraint_flagged_unless_not_valid():
    constraint = models.CheckConstraint(
        condition=models.Q(seq__lt=2**62), name="entry_sample_check"
    )
    plain = sample_migration(migrations.AddConstraint("entry", constraint))
    not_valid = sample_migration(AddConstraintNotValid("entry", constraint))

    assert len(risky_operations(plain, JOURNAL_STATE)) == 1
    assert risky_operations(not_valid, JOURNAL_STATE) == []


def test_indexed_new_column_is_flagged():
    field = models.CharField(max_length=20, default="", db_index=True)
    migration = sample_migration(migrations.AddField("entry", "kind", field))

    findings = risky_operations(migration, JOURNAL_STATE)

    assert [finding.what for finding in findings] == [
        "AddField entry.kind builds an index or constraint"
    ]


def test_plain_new_column_passes():
    field = models.CharField(max_length=20, default="")
    migration = sample_migration(migrations.AddField("entry", "kind", field))

    assert risky_operations(migration, JOURNAL_STATE) == []


def test_table_created_in_same_migration_passes():
    create = migrations.CreateModel(
        "Entry", [("seq", models.BigIntegerField(primary_key=True))]
    )
    migration = sample_migration(create, migrations.AddIndex("entry", ENTRY_INDEX))

    assert risky_operations(migration, ProjectState) == []


# The SQL PostgreSQL runs ------------------------------------------------------------

# Each pattern takes a table name and matches one statement of sqlmigrate.
LOCKING_SQL = {
    "CREATE INDEX without CONCURRENTLY": (
        r'^CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)\S+ ON "{table}"'
    ),
    "a column type change": r'^ALTER TABLE "{table}" .*ALTER COLUMN "[^"]+" TYPE ',
    "SET NOT NULL on a column": r'^ALTER TABLE "{table}" .*ALTER COLUMN .* SET NOT NULL',
    "ADD CONSTRAINT without NOT VALID": (
        r'^ALTER TABLE "{table}" ADD CONSTRAINT (?!.*NOT VALID).*(CHECK|UNIQUE|FOREIGN KEY)'
    ),
}


def large_tables() -> dict[str, str]:
    """Return the database table of every large model, by table name."""
    from django.apps import apps

    tables = {}
    for label in LARGE_MODELS:
        app_label, model = label.split(".")
        tables[apps.get_model(app_label, model)._meta.db_table] = label
    return tables


def locking_statements(sql: str, tables: dict[str, str]) -> list[str]:
    """Return what in `sql` locks a large table that the same SQL did not create."""
    statements = [line.strip() for line in sql.split(";\n") if line.strip()]
    created = set(re.findall(r'^CREATE TABLE "([^"]+)"', sql, flags=re.MULTILINE))
    found = []
    for statement in statements:
        statement = re.sub(r"^--.*\n", "", statement, flags=re.MULTILINE).strip()
        for table in tables.keys() - created:
            for what, pattern in LOCKING_SQL.items():
                if re.search(pattern.format(table=re.escape(table)), statement):
                    found.append(f"{what} on {table}: {statement[:160]}")
    return found


def test_locking_sql_patterns_match():
    tables = {"journal_entry": "journal.entry"}
    samples = [
        'CREATE INDEX "entry_sample" ON "journal_entry" ("event_type")',
        'CREATE UNIQUE INDEX "entry_u" ON "journal_entry" ("body")',
        'ALTER TABLE "journal_entry" ALTER COLUMN "event_type" TYPE text',
        'ALTER TABLE "journal_entry" ALTER COLUMN "body" SET NOT NULL',
        'ALTER TABLE "journal_entry" ADD CONSTRAINT "c" CHECK ("seq" >= 0)',
    ]
    safe = [
        'CREATE INDEX CONCURRENTLY "entry_sample" ON "journal_entry" ("event_type")',
        'ALTER TABLE "journal_entry" ADD CONSTRAINT "c" CHECK ("seq" >= 0) NOT VALID',
        'ALTER TABLE "journal_entry" ADD COLUMN "kind" varchar(20) DEFAULT \'\' NOT NULL',
        'CREATE INDEX "witness_sample" ON "journal_witness" ("name")',
    ]

    for statement in samples:
        assert len(locking_statements(statement + ";\n", tables)) == 1, statement
    for statement in safe:
        assert locking_statements(statement + ";\n", tables) == [], statement


def test_sql_on_created_table_passes():
    sql = (
        'CREATE TABLE "journal_entry" ("seq" bigint NOT NULL PRIMARY KEY);\n'
        'CREATE INDEX "entry_sample" ON "journal_entry" ("seq");\n'
    )

    assert locking_statements(sql, {"journal_entry": "journal.entry"}) == []


@pytest.mark.django_db
def test_postgres_sql_locks_no_large_table():
    if connection.vendor != "postgresql":
        pytest.skip("checks the SQL PostgreSQL runs; the PostgreSQL run covers it")
    tables = large_tables()
    findings = []
    for migration, _state in project_migrations():
        if (migration.app_label, migration.name) in REVIEWED:
            continue
        output = io.StringIO()
        call_command("sqlmigrate", migration.app_label, migration.name, stdout=output)
        for problem in locking_statements(output.getvalue(), tables):
            findings.append(f"{migration.app_label}.{migration.name}: {problem}")

    assert findings == [], (
        "on PostgreSQL these migrations lock a large table; use the forms in "
        "docs/upgrades.md or list them in REVIEWED with the reason:\n"
        + "\n".join(findings)
    )


# The safe form docs/upgrades.md shows --------------------------------------------


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL and a plain CREATE INDEX on SQLite.

    The same class is shown in docs/upgrades.md, for a migration that must run
    on both databases; SQLite has no concurrent form.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


def table_indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, details in constraints.items() if details["index"]}


@pytest.mark.django_db(transaction=True)
def test_documented_concurrent_index_runs():
    create = migrations.CreateModel(
        "Sample",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("kind", models.CharField(max_length=20)),
        ],
    )
    index = models.Index(fields=["kind"], name="opstest_sample_kind")
    add_index = AddIndexConcurrentlyOnPostgres("sample", index)
    empty = ProjectState()
    with_table = empty.clone()
    create.state_forwards("opstest", with_table)
    with_index = with_table.clone()
    add_index.state_forwards("opstest", with_index)

    with connection.schema_editor() as editor:
        create.database_forwards("opstest", editor, empty, with_table)
    try:
        with connection.schema_editor(atomic=False) as editor:
            add_index.database_forwards("opstest", editor, with_table, with_index)
        created = table_indexes("opstest_sample")
        with connection.schema_editor(atomic=False) as editor:
            add_index.database_backwards("opstest", editor, with_index, with_table)
        removed = table_indexes("opstest_sample")
    finally:
        with connection.schema_editor() as editor:
            create.database_backwards("opstest", editor, with_table, empty)

    assert "opstest_sample_kind" in created
    assert "opstest_sample_kind" not in removed
    on_entry = AddIndexConcurrentlyOnPostgres("entry", ENTRY_INDEX)
    assert risky_operations(sample_migration(on_entry), JOURNAL_STATE) == []
