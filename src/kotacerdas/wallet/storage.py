"""Bulk writes of ledger rows for `services`, in a few statements per batch.

Django's bulk_update builds one CASE expression per column whose cost grows
with the square of the number of rows, and bulk_create prepares every field
of every row in Python. A batch of 1,000 transfers spent most of its time
there, so these functions write the same rows with plain multi-row SQL that
PostgreSQL and SQLite (3.35 and later, for UPDATE ... FROM and RETURNING)
both run. Callers hold the row locks of every account they write.
"""

import secrets
from datetime import date
from typing import Any

from django.db import connection

from kotacerdas.wallet.models import Account, AccountMonth, Transfer
from kotacerdas.wallet.numbers import CROCKFORD, REFERENCE_LENGTH, REFERENCE_PREFIX

ROWS_PER_STATEMENT = 500
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
    rows = [
        AccountMonth(account_id=account_id, month=month, credits=total)
        for account_id, total in credits.items()
    ]
    AccountMonth.objects.bulk_create(
        rows,
        batch_size=ROWS_PER_STATEMENT,
        update_conflicts=True,
        unique_fields=["account", "month"],
        update_fields=["credits"],
    )


def insert_transfers(rows: list[Transfer]) -> None:
    """Insert new transfer rows and give each its primary key.

    The ids come back through RETURNING, matched to the rows by client id,
    which is unique, so the order in which the database returns them does
    not matter.
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
                params += [
                    row.client_id, row.request_hash, row.reference,
                    row.debit_account_id, row.credit_account_id, row.amount,
                    str(row.kind), str(row.channel), str(row.phase),
                    str(row.status), row.pending_id, row.link_group, row.memo,
                    adapt(row.expires_at), row.entry_seq, row.actor,
                    adapt(row.created_at),
                ]  # fmt: skip
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(TRANSFER_COLUMNS)}) "  # noqa: S608
                f"VALUES {', '.join([row_marks] * len(chunk))} RETURNING id, client_id",
                params,
            )
            for pk, client_id in cursor.fetchall():
                row = by_client_id[client_id]
                row.pk = pk
                row._state.adding = False
                row._state.db = connection.alias
