"""The monthly billing run: who is billed, at which tariff, and only once."""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from kotacerdas.levy import billing, services
from kotacerdas.levy.models import Bill, BillingRun, Tariff
from kotacerdas.levy.services import LevyError
from kotacerdas.registry.services import change_building, retire_household

from .conftest import GANTING, payloads

pytestmark = pytest.mark.django_db

MONTH = "2026-12"


def test_billing_twice_bills_nobody_twice(house, shop):
    first = billing.run_billing(MONTH)
    second = billing.run_billing(MONTH)

    assert (first.billed_count, first.already_billed_count) == (2, 0)
    assert (second.billed_count, second.already_billed_count) == (0, 2)
    assert Bill.objects.count() == 2
    assert len(payloads("levy.bill.issued")) == 2


def test_house_bill_follows_class_of_va(make_place):
    places = {va: make_place(pln_va=va) for va in (450, 1300, 4400, 7700)}

    billing.run_billing(MONTH)

    found = {
        va: Bill.objects.values_list("levy_class", "amount").get(
            household=place.household
        )
        for va, place in places.items()
    }
    assert found == {
        450: ("RT-I", 5000),
        1300: ("RT-II", 7500),
        4400: ("RT-III", 9000),
        7700: ("RT-IV", 22000),
    }


def test_shop_billed_once_without_household(shop):
    billing.run_billing(MONTH)

    bill = Bill.objects.get(building=shop.building)
    assert bill.household is None
    assert (bill.levy_class, bill.amount) == ("NIAGA-II", 70000)
    assert bill.kelurahan.code == GANTING


def test_each_household_of_shared_house_billed(make_place):
    place = make_place(3)

    billing.run_billing(MONTH)

    bills = Bill.objects.filter(building=place.building)
    assert sorted(b.household_id for b in bills) == sorted(
        h.pk for h in place.households
    )
    assert {b.amount for b in bills} == {7500}


def test_house_without_va_reported_not_billed(make_place, house):
    unsurveyed = make_place(pln_va="")

    run = billing.run_billing(MONTH)

    assert not Bill.objects.filter(building=unsurveyed.building).exists()
    assert run.billed_count == 1
    assert run.no_va_count == 1
    assert run.skipped == [
        {
            "building_id": unsurveyed.building.pk,
            "plate_code": unsurveyed.building.plate_code,
            "reason": "no_va",
        }
    ]


def test_exempt_and_empty_buildings_counted(make_place):
    make_place(0, use="school", pln_va=900)
    make_place(0)  # a house with no household registered

    run = billing.run_billing(MONTH)

    assert run.billed_count == 0
    assert run.exempt_count == 1
    assert run.no_household_count == 1
    assert {row["reason"] for row in run.skipped} == {"exempt", "no_household"}


def test_retired_household_and_empty_building_skipped(make_place):
    gone = make_place()
    retire_household(gone.household)
    emptied = make_place(0, use="shop", pln_va=1300)
    change_building(emptied.building, {"status": "empty"})

    run = billing.run_billing(MONTH)

    assert run.billed_count == 0
    assert Bill.objects.count() == 0


def test_bill_numbers_and_due_date(house, shop):
    billing.run_billing(MONTH)

    bills = list(Bill.objects.order_by("number"))
    assert [b.number for b in bills] == ["RTB-202612-000001", "RTB-202612-000002"]
    assert {b.due_date for b in bills} == {date(2026, 12, 31)}
    assert {b.status for b in bills} == {"open"}


def test_issued_event_holds_ids_not_people(house):
    billing.run_billing(MONTH)

    bill = Bill.objects.get()
    assert payloads("levy.bill.issued") == [
        {
            "bill_id": bill.pk,
            "number": bill.number,
            "building_id": house.building.pk,
            "household_id": house.household.pk,
            "kelurahan_code": "13.74.02.1002",
            "month": "2026-12",
            "levy_class": "RT-II",
            "tariff_id": bill.tariff_id,
            "amount": 7500,
            "due_date": "2026-12-31",
            "run_id": bill.run_id,
        }
    ]
    assert bill.entry_seq is not None


def test_later_tariff_bills_new_amount(house):
    services.ensure_tariffs()
    Tariff.objects.create(
        levy_class="RT-II", label="Rumah Tangga II", monthly_amount=8000,
        valid_from=date(2027, 1, 1),
    )  # fmt: skip

    billing.run_billing("2026-11")

    assert Bill.objects.get().amount == 7500


def test_future_month_rejected(house):
    with pytest.raises(LevyError) as caught:
        billing.run_billing("2099-01")

    assert caught.value.field == "month"
    assert "has not begun" in caught.value.message
    assert not BillingRun.objects.exists()


@pytest.mark.parametrize("typed", ["2026/12", "12-2026", "2026-13", ""])
def test_malformed_month_rejected(house, typed):
    with pytest.raises(LevyError) as caught:
        billing.run_billing(typed)

    assert caught.value.field == "month"
    assert "YYYY-MM" in caught.value.message or "01 to 12" in caught.value.message


def test_cancelled_bill_billed_again(house):
    billing.run_billing(MONTH)
    services.cancel_bill(Bill.objects.get(), "wrong_class")

    run = billing.run_billing(MONTH)

    assert run.billed_count == 1
    assert list(Bill.objects.order_by("id").values_list("status", flat=True)) == [
        "cancelled",
        "open",
    ]


def test_database_rejects_second_live_bill(house):
    billing.run_billing(MONTH)
    bill = Bill.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.create(
            number="RTB-202612-999999", month=bill.month, building=bill.building,
            household=bill.household, kelurahan=bill.kelurahan,
            levy_class=bill.levy_class, tariff=bill.tariff, amount=bill.amount,
            due_date=bill.due_date, issued_at=bill.issued_at,
        )  # fmt: skip


def test_small_batches_bill_everyone(make_place):
    for _ in range(5):
        make_place(2)

    run = billing.run_billing(MONTH, batch_size=3)

    assert run.billed_count == 10
    assert Bill.objects.values("number").distinct().count() == 10
    assert run.status == "finished"


def test_bill_command_prints_counts(house, capsys):
    call_command("levy", "bill", "--month", MONTH)

    output = capsys.readouterr().out
    assert "1 bill issued" in output or "bills issued: 1" in output
    assert Bill.objects.count() == 1


def test_worker_job_runs_queued_month(house):
    run = billing.queue_billing(MONTH, actor="user:1")

    done = billing.run_queued_billing()
    idle = billing.run_queued_billing()

    run.refresh_from_db()
    assert (done, idle) == (1, 0)
    assert run.status == "finished"
    assert (run.payer_count, run.checked_count, run.billed_count) == (1, 1, 1)
    assert run.started_at is not None


def test_failed_run_records_reason(house, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(billing, "_bill_batch", broken)
    run = billing.queue_billing(MONTH)

    billing.run_queued_billing()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.failure == "RuntimeError: disk full"
    assert not Bill.objects.exists()
