"""The wallet's pages in chromium: a merchant's one-sale QR code paid by a citizen.

The merchant shows a dynamic code. The citizen uploads a screenshot of it
(decoded on the server with zxing-cpp), checks the merchant and amount,
confirms with the PIN and gets the done page, while the merchant's page
picks the payment up through its HTMX polling.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from kotacerdas.wallet import flows, pins, services
from kotacerdas.wallet.models import Account, Transfer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PIN = "135790"
BUSINESS = "Warung Sate Mak Etek"


def sign_in(page: Page, base_url: str, user) -> None:
    """Give the browser the session of a signed-in user and English screens."""
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
def merchant(personas) -> Account:
    return services.open_merchant(personas["merchant"], BUSINESS)


@pytest.fixture
def wallet(personas) -> Account:
    account = services.wallet_for(personas["citizen"])
    assert account is not None
    pins.set_pin(personas["citizen"], PIN)
    services.top_up(account.number, 50_000, transfer_id="browser-fund-1")
    return account


def test_citizen_pays_dynamic_qr_screenshot(
    live_server, browser_page, personas, merchant, wallet, tmp_path: Path
):
    seller = browser_page
    sign_in(seller, live_server.url, personas["merchant"])
    seller.goto(f"{live_server.url}/wallet/merchant/")
    seller.get_by_label("Amount (Rp)").fill("7.500")
    seller.get_by_role("button", name="Show the QR code").click()
    expect(seller.get_by_test_id("qr-amount")).to_have_text("Rp7,500")
    expect(seller.get_by_test_id("qr-status")).to_have_attribute("data-paid", "0")
    screenshot = tmp_path / "qr.png"
    seller.get_by_test_id("dynamic-qr").locator("svg").screenshot(path=str(screenshot))

    buyer_context = seller.context.browser.new_context(locale="id-ID")
    buyer_context.set_default_timeout(10_000)
    buyer = buyer_context.new_page()
    try:
        sign_in(buyer, live_server.url, personas["citizen"])
        buyer.goto(f"{live_server.url}/wallet/pay/")
        buyer.set_input_files("#photo", str(screenshot))
        buyer.get_by_role("button", name="Read the picture").click()

        expect(buyer.get_by_test_id("merchant-name")).to_have_text(BUSINESS)
        expect(buyer.get_by_test_id("confirm-amount")).to_have_text("Rp7,500")
        buyer.get_by_label("Payment PIN").fill(PIN)
        buyer.get_by_role("button", name="Pay").click()

        expect(buyer.get_by_test_id("done-message")).to_have_text("Payment done.")
        expect(buyer.get_by_test_id("done-amount")).to_have_text("Rp7,500")
        payment = Transfer.objects.get(kind="payment")
        expect(buyer.get_by_test_id("receipt-link")).to_have_attribute(
            "href", f"/receipts/{payment.reference}/"
        )
    finally:
        buyer_context.close()

    expect(seller.get_by_test_id("qr-status")).to_have_attribute("data-paid", "1")
    assert Account.objects.get(pk=merchant.pk).balance == 7_500
    assert Account.objects.get(pk=wallet.pk).balance == 42_500


def test_citizen_pastes_static_code(
    live_server, browser_page, personas, merchant, wallet
):
    page = browser_page
    sign_in(page, live_server.url, personas["citizen"])
    page.goto(f"{live_server.url}/wallet/pay/")
    page.get_by_label("Text of the QR code, starting with 000201").fill(
        flows.merchant_payload(merchant)
    )
    page.get_by_role("button", name="Open the payment").click()

    page.get_by_label("Amount (Rp)").fill("12.000")
    page.get_by_label("Payment PIN").fill(PIN)
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_test_id("done-amount")).to_have_text("Rp12,000")
    expect(page.get_by_test_id("done-counterparty")).to_have_text(BUSINESS)
