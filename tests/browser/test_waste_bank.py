"""Saturday at the waste bank in chromium: a deposit from weigh-in to the wallet.

The teller finds the member, weighs 3.2 kg of PET and 1.5 kg of cardboard and
records the deposit; the member's wallet shows the credit on its way in. The
teller then checks the sorting, and the member's wallet shows it available.
"""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect
from tests.waste.bank.conftest import make_unit

from kotacerdas.wallet import services as wallet
from kotacerdas.waste.bank import services
from kotacerdas.waste.bank.models import Deposit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, user) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url},
        ]
    )


def test_teller_deposit_reaches_member_wallet(live_server, browser_page, personas):
    teller = personas["waste_bank_teller"]
    citizen = personas["citizen"]
    unit = make_unit("sarunai", "Bank Sampah Sarunai", teller)
    account = wallet.wallet_for(citizen)
    assert account is not None
    membership = services.join(unit, account, actor="test")
    page = browser_page
    base = live_server.url

    sign_in(page, base, teller)
    page.goto(f"{base}/waste/banks/{unit.code}/")
    page.get_by_label("Member number or wallet number").fill(membership.number)
    page.get_by_role("button", name="Find member").click()
    form = page.get_by_test_id("deposit-form")
    form.locator("select[name=material_0]").select_option("pet")
    form.locator("input[name=weight_0]").fill("3,2")
    form.locator("select[name=material_1]").select_option("cardboard")
    form.locator("input[name=weight_1]").fill("1,5")
    page.get_by_role("button", name="Record deposit").click()
    expect(page.get_by_test_id("deposit-total")).to_have_text("Rp14,150")
    expect(page.get_by_test_id("deposit-status")).to_contain_text("Pending")
    deposit_url = page.url

    sign_in(page, base, citizen)
    page.goto(f"{base}/wallet/")
    expect(page.get_by_test_id("pending-in")).to_contain_text("Rp14,150")
    expect(page.get_by_test_id("available")).to_have_text("Rp0")

    sign_in(page, base, teller)
    page.goto(deposit_url)
    page.get_by_role("button", name="Sorting checked: credit the member").click()
    expect(page.get_by_test_id("deposit-status")).to_contain_text("Posted")

    sign_in(page, base, citizen)
    page.goto(f"{base}/wallet/")
    expect(page.get_by_test_id("available")).to_have_text("Rp14,150")
    expect(page.get_by_test_id("pending-in")).to_have_count(0)
    assert Deposit.objects.get().status == Deposit.Status.POSTED
