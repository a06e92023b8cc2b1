"""Paying many bills in one batch, for the demo city and payment files."""

import pytest
from django.core.management import call_command

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.levy import billing, services
from kotacerdas.levy.bulk import BillPayment, pay_bills
from kotacerdas.levy.models import Bill, Payment
from kotacerdas.wallet import services as wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(make_place, shop):
    places = [make_place() for _ in range(3)]
    billing.run_billing("2026-12")
    return [Bill.objects.get(household=p.household) for p in places] + [
        Bill.objects.get(building=shop.building)
    ]


def cash(bill: Bill, amount: int, transfer_id: str) -> BillPayment:
    settlement = wallet.settlement_account().number
    return BillPayment(bill.pk, settlement, amount, transfer_id, "counter")


def test_batch_pays_each_on_its_own(bills):
    results = pay_bills(
        [
            cash(bills[0], 7_500, "b-1"),
            cash(bills[1], 9_000, "b-2"),  # more than owed
            cash(bills[2], 2_000, "b-3"),
            cash(bills[3], 70_000, "b-4"),
        ]
    )

    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        "exceeds_outstanding",
        "ok",
        "ok",
    ]
    statuses = [Bill.objects.get(pk=b.pk).status for b in bills]
    assert statuses == ["paid", "open", "partly_paid", "paid"]
    assert services.revenue_account().balance == 7_500 + 2_000 + 70_000


def test_same_bill_twice_checked_together(bills):
    results = pay_bills(
        [
            cash(bills[0], 5_000, "b-1"),
            cash(bills[0], 2_500, "b-2"),
            cash(bills[0], 1, "b-3"),
        ]
    )

    bill = Bill.objects.get(pk=bills[0].pk)
    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        "ok",
        "bill_paid",
    ]
    assert (bill.paid_amount, bill.status) == (7_500, "paid")
    assert [p.amount for p in Payment.objects.order_by("id")] == [5_000, 2_500]


def test_wallet_rejection_kept_per_payment(bills, citizen_of, make_place):
    place = make_place()
    user = citizen_of(place.household, balance=1_000)
    number = wallet.wallet_for(user).number

    results = pay_bills(
        [
            BillPayment(bills[0].pk, number, 7_500, "w-1"),
            BillPayment(bills[1].pk, number, 500, "w-2"),
        ]
    )

    assert results[0].error is not None
    assert results[0].error.code == "exceeds_balance"
    assert results[0].error.field == "amount"
    assert results[1].payment is not None
    assert Bill.objects.get(pk=bills[1].pk).paid_amount == 500


def test_batch_retry_returns_same_payments(bills):
    batch = [cash(bills[0], 1_000, "b-1"), cash(bills[3], 1_000, "b-2")]
    first = pay_bills(batch)

    again = pay_bills(batch)

    assert [r.payment.pk for r in again] == [r.payment.pk for r in first]
    assert Payment.objects.count() == 2
    assert Bill.objects.get(pk=bills[0].pk).paid_amount == 1_000


def test_batch_payments_pass_verify(bills):
    pay_bills([cash(bill, 1_000, f"b-{bill.pk}") for bill in bills])
    call_command("ledger", "seal")

    report = verify_ledger(node_verifier())

    assert report.ok, report.problems
    assert all(p.entry_seq is not None for p in Payment.objects.all())
