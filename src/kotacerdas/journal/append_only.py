"""The database triggers that make journal tables append-only.

They reject UPDATE and DELETE (and TRUNCATE on PostgreSQL) on entries, Merkle
nodes and blocks, so no code path (the ORM, the admin, a raw query) can rewrite
history. Someone with rights to drop a trigger still can, and `ledger verify`
catches what they change.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY_TABLES = ("journal_entry", "journal_merklenode", "journal_block")

POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION journal_reject_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'% is append-only: % rejected', TG_TABLE_NAME, TG_OP; END $$"
)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers; running it again changes nothing."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {table}_append_only "
                    f"BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION journal_reject_change()"
                )
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION journal_reject_change()"
                )
            elif connection.vendor == "sqlite":
                for operation in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                        f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                        f"'{table} is append-only: {operation} rejected'); END"
                    )


def remove(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers, for reversing the migration and for emptying test databases."""
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            elif connection.vendor == "sqlite":
                for operation in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS journal_reject_change()")
