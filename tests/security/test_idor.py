"""A citizen cannot read or act on another citizen's objects by changing an id.

`demo_city.objects` contains the demo citizen's building, household, wallet,
transfer, bill and report, and `demo_city.other` a second citizen's. Each
test signs in as the second citizen and requests the first citizen's objects
through pages and the API. Receipts stay public by design: their random
10-character reference (50 bits) is the capability, and a receipt shows
citizens' names masked.
"""

import pytest
from django.urls import reverse

from kotacerdas.wallet.models import Transfer

from .conftest import CITIZEN_PIN, REPORT_DESCRIPTION, DemoCity

pytestmark = pytest.mark.django_db


def intruder(demo_city: DemoCity):
    return demo_city.client("other_citizen")


def test_other_wallet_api_forbidden(demo_city):
    client = intruder(demo_city)
    victim = demo_city.objects

    account = client.get(f"/api/wallet/accounts/{victim['number']}")
    transfer = client.get(f"/api/wallet/transfers/{victim['reference']}")
    listing = client.get("/api/wallet/transfers", {"account": victim["number"]})

    assert account.status_code == 403
    assert transfer.status_code == 403
    assert listing.status_code == 403


def test_own_transfers_exclude_others(demo_city):
    client = intruder(demo_city)

    response = client.get("/api/wallet/me/transfers")

    assert response.status_code == 200
    assert demo_city.objects["reference"] not in response.content.decode()


def test_other_done_page_not_found(demo_city):
    client = intruder(demo_city)
    url = reverse("wallet:done", kwargs={"reference": demo_city.objects["reference"]})

    assert client.get(url).status_code == 404


def test_payee_lookup_shows_no_balance(demo_city):
    client = intruder(demo_city)

    response = client.get(f"/api/wallet/payees/{demo_city.objects['number']}")

    assert response.status_code == 200
    assert "balance" not in response.json()
    assert "available" not in response.json()


def test_reused_client_id_returns_nothing(demo_city):
    """Retrying with another citizen's transfer id must not return that transfer."""
    victim = Transfer.objects.get(reference=demo_city.objects["reference"])
    client = intruder(demo_city)

    response = client.post(
        "/api/wallet/transfers",
        {
            "id": victim.client_id,
            "to": demo_city.objects["number"],
            "amount": 1000,
            "pin": CITIZEN_PIN,
        },
        content_type="application/json",
    )

    assert response.status_code not in (200, 201), response.content
    assert victim.reference not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("registry:building_detail", "building_id"),
        ("registry:building_edit", "building_id"),
        ("registry:household_move", "household_id"),
        ("registry:member_edit", "member_id"),
    ],
)
def test_other_registry_pages_forbidden(demo_city, name, argument):
    client = intruder(demo_city)
    url = reverse(name, kwargs={argument: demo_city.objects[argument]})

    assert client.get(url).status_code == 403


def test_other_building_api_forbidden(demo_city):
    client = intruder(demo_city)
    building_id = demo_city.objects["building_id"]

    building = client.get(f"/api/registry/buildings/{building_id}")
    households = client.get(f"/api/registry/buildings/{building_id}/households")

    assert building.status_code == 403
    assert households.status_code == 403


def test_other_building_scan_hides_households(demo_city):
    """Scanning the neighbour's plate reports it genuine but shows no household."""
    client = intruder(demo_city)
    client.cookies["django_language"] = "en"

    response = client.get(
        reverse("registry:scan"), {"code": demo_city.objects["plate_code"]}
    )

    assert response.status_code == 200
    assert 'data-testid="building-facts"' not in response.content.decode()


def test_other_bill_not_found(demo_city):
    client = intruder(demo_city)
    bill_id = demo_city.objects["bill_id"]

    api = client.get(f"/api/levy/bills/{bill_id}")
    pay_page = client.get(reverse("levy:pay_bill", kwargs={"bill_id": bill_id}))
    pay = client.post(
        f"/api/levy/bills/{bill_id}/payments",
        {"id": "idor-pay-1", "pin": CITIZEN_PIN},
        content_type="application/json",
    )

    assert api.status_code == 404
    assert pay_page.status_code == 404
    assert pay.status_code in (404, 422)
    assert pay.status_code != 200


def test_own_bills_exclude_others(demo_city):
    client = intruder(demo_city)

    response = client.get("/api/levy/bills")

    assert response.status_code == 200
    ids = [bill["id"] for bill in response.json()["items"]]
    assert demo_city.objects["bill_id"] not in ids


@pytest.mark.parametrize("name", ["detail", "photo"])
def test_other_report_not_found(demo_city, name):
    client = intruder(demo_city)
    url = reverse(
        f"wastereports:{name}", kwargs={"report_id": demo_city.objects["report_id"]}
    )

    assert client.get(url).status_code == 404


def test_follower_sees_no_description(demo_city):
    """Any citizen may follow an open report ("me too") but sees only part of it."""
    client = intruder(demo_city)
    report_id = demo_city.objects["report_id"]

    follow = client.post(reverse("wastereports:follow", args=[report_id]), {})
    detail = client.get(reverse("wastereports:detail", args=[report_id]))
    photo = client.get(reverse("wastereports:photo", args=[report_id]))

    assert follow.status_code == 302
    assert detail.status_code == 200
    assert REPORT_DESCRIPTION not in detail.content.decode()
    assert photo.status_code == 404


def test_own_reports_exclude_others(demo_city):
    client = intruder(demo_city)
    other_report = reverse(
        "wastereports:detail", kwargs={"report_id": demo_city.objects["report_id"]}
    )

    response = client.get(reverse("wastereports:mine"))

    assert response.status_code == 200
    assert other_report not in response.content.decode()


def test_savings_book_of_other_forbidden(demo_city):
    client = intruder(demo_city)
    membership_id = demo_city.objects["membership_id"]

    book = client.get(
        reverse("wastebank:book", kwargs={"membership_id": membership_id})
    )
    pdf = client.get(
        reverse("wastebank:book_pdf", kwargs={"membership_id": membership_id})
    )

    assert book.status_code == 403
    assert pdf.status_code == 403
