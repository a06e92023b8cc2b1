"""A citizen's month in chromium: top-up from the bank, a shop payment, the levy.

The bank simulator tops up the wallet over SNAP against the live server. The
citizen then pays a merchant's one-sale QR code from a photo of it, pays the
household's levy bill for this month with the PIN, and opens the receipt.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect

from kotacerdas.levy import billing
from kotacerdas.levy.models import Bill
from kotacerdas.levy.months import current_month
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    link_member_user,
    register_building,
    register_household,
)
from kotacerdas.snap.simulator import register_demo_partner
from kotacerdas.wallet import pins, services
from kotacerdas.wallet.models import Account, Transfer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PIN = "135790"
SHOP = "Kedai Kopi Singgalang"


def sign_in(page: Page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url},
        ]
    )


@pytest.fixture
def household_bill(personas) -> Bill:
    """Register the citizen's house and household and bill this month."""
    building = register_building(
        BuildingInput(
            kelurahan_code="13.74.02.1002",
            rw="2",
            rt="3",
            street_address="Jl. Sutan Syahrir No. 12",
            use="house",
            lat="-0.4651",
            lng="100.4002",
            floors=1,
            pln_va=1300,
        )
    )
    household = register_household(
        building,
        "1374020101150003",
        [MemberInput("Siti Rahmawati", "1374024708950001", "head")],
    )
    link_member_user(household.members.get(), personas["citizen"])
    billing.run_billing(current_month(), actor="test")
    return Bill.objects.get(household=household)


def test_citizen_tops_up_pays_shop_and_levy(
    live_server, browser_page, personas, household_bill, tmp_path: Path
):
    citizen = personas["citizen"]
    wallet = services.wallet_for(citizen)
    assert wallet is not None
    assert wallet.tier == "registered"
    pins.set_pin(citizen, PIN)
    services.open_merchant(personas["merchant"], SHOP)
    register_demo_partner()

    call_command(
        "bank_sim", "topup", "--wallet", wallet.number, "--amount", "100000",
        "--url", live_server.url,
    )  # fmt: skip
    topup = Transfer.objects.get(kind="topup", credit_account=wallet)
    assert topup.amount == 100_000
    assert topup.channel == "bank_va"

    # The merchant shows a one-sale code for Rp18.000.
    seller = browser_page
    sign_in(seller, live_server.url, personas["merchant"])
    seller.goto(f"{live_server.url}/wallet/merchant/")
    seller.get_by_label("Amount (Rp)").fill("18.000")
    seller.get_by_role("button", name="Show the QR code").click()
    photo = tmp_path / "qr.png"
    seller.get_by_test_id("dynamic-qr").locator("svg").screenshot(path=str(photo))

    buyer_context = seller.context.browser.new_context(locale="id-ID")
    buyer_context.set_default_timeout(10_000)
    page = buyer_context.new_page()
    try:
        sign_in(page, live_server.url, citizen)
        page.goto(f"{live_server.url}/wallet/")
        expect(page.get_by_text("Rp100,000").first).to_be_visible()

        page.goto(f"{live_server.url}/wallet/pay/")
        page.set_input_files("#photo", str(photo))
        page.get_by_role("button", name="Read the picture").click()
        expect(page.get_by_test_id("merchant-name")).to_have_text(SHOP)
        page.get_by_label("Payment PIN").fill(PIN)
        page.get_by_role("button", name="Pay").click()
        expect(page.get_by_test_id("done-amount")).to_have_text("Rp18,000")

        page.goto(f"{live_server.url}/wallet/levy/")
        expect(page.get_by_text(household_bill.number)).to_be_visible()
        page.get_by_role("link", name="Pay", exact=True).first.click()
        page.get_by_label("Payment PIN").fill(PIN)
        page.get_by_role("button", name="Pay").click()

        household_bill.refresh_from_db()
        assert household_bill.status == "paid"
        levy = Transfer.objects.get(kind="levy")
        assert levy.memo == household_bill.number

        page.goto(f"{live_server.url}/wallet/levy/{household_bill.pk}/pay/")
        page.get_by_role("link", name=f"Receipt {levy.reference}").click()
        expect(page.locator("h1")).to_contain_text(levy.reference)
        body = page.locator("main").inner_text()
        assert household_bill.number in body
        assert "Siti Rahmawati" not in body
    finally:
        buyer_context.close()

    wallet_now = Account.objects.get(pk=wallet.pk)
    assert wallet_now.balance == 100_000 - 18_000 - household_bill.amount
