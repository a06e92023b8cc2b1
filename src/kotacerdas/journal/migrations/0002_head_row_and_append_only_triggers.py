"""Create the journal head row and the triggers that make journal tables append-only.

The triggers reject UPDATE and DELETE on entries, Merkle nodes and blocks at
the database, so no code path (the ORM, admin, a raw query) can rewrite
history; only someone who drops a trigger can, and `ledger verify` catches that.
"""

from django.db import migrations

APPEND_ONLY_TABLES = ["journal_entry", "journal_merklenode", "journal_block"]


def create(apps, schema_editor):
    apps.get_model("journal", "JournalHead").objects.get_or_create(id=1, defaults={"size": 0})
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                "CREATE OR REPLACE FUNCTION journal_reject_change() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                "'% is append-only: % rejected', TG_TABLE_NAME, TG_OP; END $$",
                # No parameters, so psycopg leaves the % placeholders of RAISE alone.
                params=None,
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION journal_reject_change()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION journal_reject_change()"
            )
        elif vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
                    f"{operation} rejected'); END"
                )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        elif vendor == "sqlite":
            for operation in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS journal_reject_change()")


class Migration(migrations.Migration):
    dependencies = [("journal", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
