"""Billing runs and payments racing each other on PostgreSQL.

These tests commit for real, in several connections at once (threads), so
they need PostgreSQL: the SQLite test database serializes every writer.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from kotacerdas.journal.models import Entry
from kotacerdas.levy import billing, services
from kotacerdas.levy.models import Bill, BillingRun, Payment
from kotacerdas.levy.services import LevyError

pytestmark = pytest.mark.django_db(transaction=True)

MONTH = "2026-12"


def run_together(work: Callable[[int], object], count: int) -> list[object]:
    """Run `work(i)` in `count` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def body(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # returned to the test, which checks it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_parallel_runs_bill_each_payer_once(postgres_only, make_place):
    for _ in range(12):
        make_place(2)

    runs = run_together(lambda _i: billing.run_billing(MONTH, batch_size=4), count=3)

    assert all(isinstance(run, BillingRun) for run in runs), runs
    assert Bill.objects.count() == 24
    assert Bill.objects.values("number").distinct().count() == 24
    assert sum(run.billed_count for run in runs) == 24
    assert {run.billed_count + run.already_billed_count for run in runs} == {24}
    assert Entry.objects.filter(event_type="levy.bill.issued").count() == 24


def test_parallel_payments_never_overpay(postgres_only, house):
    billing.run_billing(MONTH)
    bill = Bill.objects.get()

    results = run_together(
        lambda i: services.pay_at_counter(
            bill.pk, amount=5_000, transfer_id=f"cash-{i}"
        ),
        count=2,
    )

    bill.refresh_from_db()
    errors = [r for r in results if isinstance(r, LevyError)]
    assert len(errors) == 1, results
    assert errors[0].code == "exceeds_outstanding"
    assert (bill.paid_amount, bill.status) == (5_000, "partly_paid")
    assert Payment.objects.count() == 1
