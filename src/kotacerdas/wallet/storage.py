"""Bulk writes of ledger rows for `services`, in a few statements per batch.

Django's bulk_update builds one CASE expression per column whose cost grows
with the square of the number of rows, and bulk_create prepares every field
of every row in Python. A batch of 1,000 transfers spent most of its time
there, so these functions write the same rows with plain multi-row SQL that
PostgreSQL and SQLite (3.35 and later, for UPDATE ... FROM and RETURNING)
both run. On PostgreSQL, larger batches go through arrays and COPY, which
take a tenth of the time of a 500-row VALUES list there. Callers hold the
row locks of every account they write.
"""

import secrets
from datetime import date
from typing import Any

from django.db import connection

from kotacerdas.wallet.models import Account, AccountMonth, Transfer
from kotacerdas.wallet.numbers import CROCKFORD, REFERENCE_LENGTH, REFERENCE_PREFIX

ROWS_PER_STATEMENT = 500
# From this many rows on, PostgreSQL gets COPY and arrays; below it, the extra
# round trips of COPY cost more than they save.
COPY_FROM_ROWS = 20
TRANSFER_COLUMNS = (
    "client_id", "request_hash", "reference", "debit_account_id",
    "credit_account_id", "amount", "kind", "channel", "phase", "status",
    "pending_id", "link_group", "memo", "expires_at", "entry_seq", "actor",
    "created_at",
)  # fmt: skip


def new_reference() -> str:
    """Return a receipt reference: 50 random bits as ten Crockford base-32 digits.

    The same values as `numbers.new_reference`, from one call to the system's
    random source instead of ten.
    """
    bits = secrets.randbits(5 * REFERENCE_LENGTH)
    digits = [CROCKFORD[(bits >> (5 * i)) & 31] for i in range(REFERENCE_LENGTH)]
    return REFERENCE_PREFIX + "".join(digits)


def store_totals(accounts: list[Account]) -> None:
    """Write the four running totals of accounts the caller has locked."""
    table = Account._meta.db_table
    if connection.vendor == "postgresql" and len(accounts) >= COPY_FROM_ROWS:
        columns = [
            [account.pk for account in accounts],
            [account.debits_pending for account in accounts],
            [account.debits_posted for account in accounts],
            [account.credits_pending for account in accounts],
            [account.credits_posted for account in accounts],
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET debits_pending = totals.dp, "  # noqa: S608
                "debits_posted = totals.dpo, credits_pending = totals.cp, "
                "credits_posted = totals.cpo FROM unnest(%s::bigint[], "
                "%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
                f"AS totals (id, dp, dpo, cp, cpo) WHERE {table}.id = totals.id",
                columns,
            )
        return
    with connection.cursor() as cursor:
        for low in range(0, len(accounts), ROWS_PER_STATEMENT):
            chunk = accounts[low : low + ROWS_PER_STATEMENT]
            params: list[int] = []
            for account in chunk:
                params += [
                    account.pk,
                    account.debits_pending,
                    account.debits_posted,
                    account.credits_pending,
                    account.credits_posted,
                ]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH totals (id, dp, dpo, cp, cpo) AS (VALUES {values}) "  # noqa: S608
                f"UPDATE {table} SET debits_pending = totals.dp, "
                "debits_posted = totals.dpo, credits_pending = totals.cp, "
                f"credits_posted = totals.cpo FROM totals WHERE {table}.id = totals.id",
                params,
            )


def store_month_credits(month: date, credits: dict[int, int]) -> None:
    """Set the month's credits per account id, creating the missing rows.

    The caller computed each total from a value it read under the account's
    lock, and every writer of these rows holds that lock, so no change made
    in between is lost.
    """
    table = AccountMonth._meta.db_table
    upsert = (
        f"INSERT INTO {table} (account_id, month, credits) {{rows}} "
        "ON CONFLICT (account_id, month) DO UPDATE SET credits = excluded.credits"
    )
    day = connection.ops.adapt_datefield_value(month)
    items = list(credits.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(items) >= COPY_FROM_ROWS:
            rows = "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::bigint[])"
            ids = [account_id for account_id, _total in items]
            totals = [total for _account_id, total in items]
            cursor.execute(upsert.format(rows=rows), [ids, [day] * len(ids), totals])
            return
        for low in range(0, len(items), ROWS_PER_STATEMENT):
            chunk = items[low : low + ROWS_PER_STATEMENT]
            params: list[Any] = []
            for account_id, total in chunk:
                params += [account_id, day, total]
            rows = "VALUES " + ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(upsert.format(rows=rows), params)


def insert_transfers(rows: list[Transfer]) -> None:
    """Insert new transfer rows and give each its primary key."""
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        _copy_transfers(rows)
    else:
        _insert_transfers(rows)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def _copy_transfers(rows: list[Transfer]) -> None:
    """Take ids from the table's sequence, then COPY the rows in with them."""
    table = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        command = f"COPY {table} (id, {', '.join(TRANSFER_COLUMNS)}) FROM STDIN"
        # COPY goes to psycopg directly; Django's wrapper turns its errors
        # into django.db errors, as for any other statement.
        with connection.wrap_database_errors, cursor.cursor.copy(command) as copy:
            for row in rows:
                copy.write_row([row.pk, *_transfer_values(row, lambda v: v)])


def _transfer_values(row: Transfer, adapt: Any) -> list[Any]:
    return [
        row.client_id, row.request_hash, row.reference, row.debit_account_id,
        row.credit_account_id, row.amount, str(row.kind), str(row.channel),
        str(row.phase), str(row.status), row.pending_id, row.link_group,
        row.memo, adapt(row.expires_at), row.entry_seq, row.actor,
        adapt(row.created_at),
    ]  # fmt: skip


def _insert_transfers(rows: list[Transfer]) -> None:
    """Insert rows with multi-row INSERT ... RETURNING.

    The ids come back matched to the rows by client id, which is unique, so
    the order in which the database returns them does not matter.
    """
    adapt = connection.ops.adapt_datetimefield_value
    table = Transfer._meta.db_table
    row_marks = "(" + ", ".join(["%s"] * len(TRANSFER_COLUMNS)) + ")"
    by_client_id = {row.client_id: row for row in rows}
    with connection.cursor() as cursor:
        for low in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[low : low + ROWS_PER_STATEMENT]
            params: list[Any] = []
            for row in chunk:
                params += _transfer_values(row, adapt)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(TRANSFER_COLUMNS)}) "  # noqa: S608
                f"VALUES {', '.join([row_marks] * len(chunk))} RETURNING id, client_id",
                params,
            )
            for pk, client_id in cursor.fetchall():
                by_client_id[client_id].pk = pk
