"""The /api/levy operations: bills, payments, billing runs, tariffs, report."""

import json

import pytest

from kotacerdas.levy import billing
from kotacerdas.levy.models import Bill, BillingRun, Payment

from .conftest import PIN

pytestmark = pytest.mark.django_db


def post(client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def billed(house, shop):
    billing.run_billing("2026-12")
    return {
        "house": Bill.objects.get(household=house.household),
        "shop": Bill.objects.get(building=shop.building),
    }


def test_officer_queues_billing_once(signed_in, house):
    client = signed_in("revenue_officer")

    first = post(client, "/api/levy/billing-runs", {"month": "2026-12"})
    waiting = post(client, "/api/levy/billing-runs", {"month": "2026-12"})
    billing.run_queued_billing()
    done = client.get(f"/api/levy/billing-runs/{first.json()['id']}")

    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    assert waiting.json()["id"] == first.json()["id"]
    assert done.json()["status"] == "finished"
    assert done.json()["billed_count"] == 1
    assert BillingRun.objects.count() == 1


def test_queued_again_bills_nobody_twice(signed_in, house):
    client = signed_in("revenue_officer")
    post(client, "/api/levy/billing-runs", {"month": "2026-12"})
    billing.run_queued_billing()

    second = post(client, "/api/levy/billing-runs", {"month": "2026-12"})
    billing.run_queued_billing()

    run = client.get(f"/api/levy/billing-runs/{second.json()['id']}").json()
    assert (run["billed_count"], run["already_billed_count"]) == (0, 1)
    assert Bill.objects.count() == 1


def test_billing_run_rejects_bad_month(signed_in, house):
    response = post(
        signed_in("revenue_officer"), "/api/levy/billing-runs", {"month": "Dec"}
    )

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Enter the month as YYYY-MM, such as 2026-12.",
        "field": "month",
    }


def test_bill_list_filters_month_and_kelurahan(signed_in, billed):
    client = signed_in("auditor")

    pasar_usang = client.get(
        "/api/levy/bills", {"kelurahan": "13.74.02.1002", "month": "2026-12"}
    )
    unknown = client.get("/api/levy/bills", {"kelurahan": "99.99"})

    assert [b["id"] for b in pasar_usang.json()["items"]] == [billed["house"].pk]
    assert pasar_usang.json()["items"][0]["outstanding"] == 7_500
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "kelurahan"


def test_citizen_lists_only_own_bills(signed_in, billed, house, citizen_of):
    citizen_of(house.household)

    response = signed_in("citizen").get("/api/levy/bills")
    other = signed_in("citizen").get(f"/api/levy/bills/{billed['shop'].pk}")

    assert [b["id"] for b in response.json()["items"]] == [billed["house"].pk]
    assert other.status_code == 404


def test_cashier_must_name_bill_or_plate(signed_in, billed, house):
    client = signed_in("cashier")

    everything = client.get("/api/levy/bills")
    by_plate = client.get("/api/levy/bills", {"q": house.building.plate_code})

    assert everything.status_code == 422
    assert everything.json()["error"]["field"] == "q"
    assert [b["id"] for b in by_plate.json()["items"]] == [billed["house"].pk]


def test_citizen_pays_with_pin_idempotently(signed_in, billed, house, citizen_of):
    citizen_of(house.household)
    client = signed_in("citizen")
    url = f"/api/levy/bills/{billed['house'].pk}/payments"
    body = {"amount": 2500, "transfer_id": "app-pay-1", "pin": PIN}

    first = post(client, url, body)
    again = post(client, url, body)

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["receipt_url"].startswith("/receipts/TRX-")
    detail = client.get(f"/api/levy/bills/{billed['house'].pk}").json()
    assert (detail["status"], detail["paid_amount"]) == ("partly_paid", 2_500)
    assert [p["transfer_id"] for p in detail["payments"]] == ["app-pay-1"]


def test_wrong_pin_rejected_on_pin_field(signed_in, billed, house, citizen_of):
    citizen_of(house.household)
    url = f"/api/levy/bills/{billed['house'].pk}/payments"

    response = post(
        signed_in("citizen"), url, {"amount": 100, "transfer_id": "x", "pin": "1"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "pin"
    assert response.json()["error"]["code"] == "wrong_pin"
    assert not Payment.objects.exists()


def test_overpay_rejected_naming_amount(signed_in, billed):
    url = f"/api/levy/bills/{billed['shop'].pk}/payments"

    response = post(
        signed_in("cashier"), url, {"amount": "80000", "transfer_id": "cash-1"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "amount"
    assert response.json()["error"]["code"] == "exceeds_outstanding"
    assert "Rp70,000 still owed" in response.json()["error"]["message"]


def test_reused_transfer_id_conflicts(signed_in, billed):
    client = signed_in("cashier")
    url = f"/api/levy/bills/{billed['shop'].pk}/payments"
    post(client, url, {"amount": 1000, "transfer_id": "cash-1"})

    response = post(client, url, {"amount": 2000, "transfer_id": "cash-1"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "id_conflict"
    assert response.json()["error"]["field"] == "transfer_id"


def test_cashier_takes_cash_in_full(signed_in, billed):
    url = f"/api/levy/bills/{billed['shop'].pk}/payments"

    response = post(
        signed_in("cashier"), url, {"amount": 70_000, "transfer_id": "cash-1"}
    )

    billed["shop"].refresh_from_db()
    assert response.status_code == 201
    assert response.json()["channel"] == "counter"
    assert billed["shop"].status == "paid"


def test_officer_cannot_pay(signed_in, billed):
    url = f"/api/levy/bills/{billed['shop'].pk}/payments"

    response = post(
        signed_in("revenue_officer"),
        url,
        {"amount": 1, "transfer_id": "x", "channel": "counter"},
    )

    assert response.status_code == 403
    assert "wallet.operate_counter" in response.json()["error"]["message"]


def test_cancel_then_paying_conflicts(signed_in, billed):
    officer = signed_in("revenue_officer")
    cancelled = post(
        officer, f"/api/levy/bills/{billed['house'].pk}/cancel", {"reason": "other"}
    )

    response = post(
        signed_in("cashier"),
        f"/api/levy/bills/{billed['house'].pk}/payments",
        {"amount": 1, "transfer_id": "cash-1"},
    )

    assert cancelled.json()["status"] == "cancelled"
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bill_cancelled"


def test_tariff_set_and_listed(signed_in):
    client = signed_in("revenue_officer")

    created = post(
        client,
        "/api/levy/tariffs",
        {"levy_class": "SOSIAL", "monthly_amount": 2000, "valid_from": "2026-12"},
    )
    listed = client.get("/api/levy/tariffs").json()

    assert created.status_code == 201
    assert created.json()["in_force"] is True
    sosial = [t for t in listed if t["levy_class"] == "SOSIAL"]
    assert [(t["monthly_amount"], t["source"]) for t in sosial] == [(2000, "officer")]


def test_tariff_errors_list_every_field(signed_in):
    response = post(
        signed_in("revenue_officer"),
        "/api/levy/tariffs",
        {"levy_class": "X", "monthly_amount": -1, "valid_from": "soon"},
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "levy_class",
        "monthly_amount",
        "valid_from",
    ]


def test_report_gives_rate_per_kelurahan(signed_in, billed):
    post(
        signed_in("cashier"),
        f"/api/levy/bills/{billed['shop'].pk}/payments",
        {"amount": 35_000, "transfer_id": "cash-1"},
    )

    report = signed_in("auditor").get("/api/levy/report", {"month": "2026-12"}).json()

    ganting = next(r for r in report["rows"] if r["kelurahan_code"] == "13.74.01.1001")
    assert (ganting["billed"], ganting["collected"]) == (70_000, 35_000)
    assert ganting["collection_rate_percent"] == 50.0
    assert report["total"]["billed"] == 77_500
    assert report["total"]["collection_rate_percent"] == 45.2
