"""The merchant's pages: opening the account, QR codes, takings and the sticker."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client

from kotacerdas.accounts.services import create_user
from kotacerdas.wallet import flows, qris, services
from kotacerdas.wallet.models import Account, AccountKind, Transfer

from .conftest import fund, new_id

pytestmark = pytest.mark.django_db

MERCHANT = "/wallet/merchant/"
QR = "/wallet/merchant/qr/"
STATUS = "/wallet/merchant/qr/status/"
OWN_GUI = "ID.KOTACERDAS.WWW"


def text(response) -> str:
    return response.content.decode()


def payload_of(page: str, test_id: str) -> str:
    match = re.search(rf'data-testid="{test_id}" data-payload="([^"]*)"', page)
    assert match is not None, f"no {test_id} on the page"
    return unescape(match[1])


@pytest.fixture
def client(signed_in) -> Client:
    client = signed_in("merchant")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def merchant(personas) -> Account:
    return services.open_merchant(personas["merchant"], "Warung Sate Mak Etek")


def pay_bill(merchant: Account, amount: int, bill: str = "") -> Transfer:
    payer = services.open_account(AccountKind.CITIZEN)
    fund(payer, amount)
    return services.submit(
        services.TransferRequest(
            id=new_id("pay"),
            debit=payer.number,
            credit=merchant.number,
            amount=amount,
            kind="payment",
            channel="qris",
            memo=bill,
        )
    )


# Opening the account ---------------------------------------------------------------


def test_no_account_shows_open_form(client, personas):
    page = text(client.get(MERCHANT))

    assert 'name="business_name"' in page
    assert services.merchant_account_for(personas["merchant"]) is None


def test_open_merchant_account(client, personas):
    response = client.post("/wallet/merchant/open/", {"business_name": "  Toko  Buku "})

    account = services.merchant_account_for(personas["merchant"])
    assert response.status_code == 302
    assert account is not None
    assert account.label == "Toko Buku"


def test_open_needs_business_name(client, personas):
    response = client.post("/wallet/merchant/open/", {"business_name": " "})

    assert response.status_code == 400
    assert "Enter the business name payers will see." in text(response)
    assert services.merchant_account_for(personas["merchant"]) is None


def test_second_open_keeps_first(client, merchant, personas):
    client.post("/wallet/merchant/open/", {"business_name": "Other"})

    assert (
        Account.objects.filter(kind="merchant", holder=personas["merchant"]).count()
        == 1
    )


# The static code ----------------------------------------------------------------------


def test_static_code_is_ours(client, merchant):
    page = text(client.get(MERCHANT))

    code = qris.parse(payload_of(page, "static-qr"), own_gui=OWN_GUI)
    assert "<svg" in page
    assert code.issuer_is_ours
    assert not code.dynamic
    assert code.own_account is not None
    assert code.own_account.merchant_id == merchant.number
    assert code.merchant_name == "Warung Sate Mak Etek"
    assert code.merchant_city == "PADANG PANJANG"
    assert code.postal_code == "27114"
    assert code.mcc == flows.DEFAULT_MCC


def test_category_changes_code(client, merchant):
    page = text(client.get(MERCHANT, {"category": "5812"}))
    later = text(client.get(MERCHANT))

    assert qris.parse(payload_of(page, "static-qr"), own_gui=OWN_GUI).mcc == "5812"
    assert qris.parse(payload_of(later, "static-qr"), own_gui=OWN_GUI).mcc == "5812"


def test_unknown_category_is_ignored(client, merchant):
    page = text(client.get(MERCHANT, {"category": "0000"}))

    assert qris.parse(payload_of(page, "static-qr"), own_gui=OWN_GUI).mcc == "5499"


def test_print_view_is_a6_sticker(client, merchant):
    page = text(client.get("/wallet/merchant/print/"))

    assert "size: A6" in page
    assert "Warung Sate Mak Etek" in page
    assert "<svg" in page
    assert 'data-testid="sticker"' in page


# The dynamic code -----------------------------------------------------------------------


def test_dynamic_code_gets_bill_number(client, merchant):
    response = client.get(QR, {"amount": "7.500"})

    assert response.status_code == 302
    assert "bill=QR-" in response["Location"]


def test_dynamic_code_carries_amount(client, merchant):
    page = text(client.get(QR, {"amount": "7500", "bill": "INV-77"}))

    code = qris.parse(payload_of(page, "dynamic-qr"), own_gui=OWN_GUI)
    assert code.dynamic
    assert code.amount == 7_500
    assert code.bill_number == "INV-77"
    assert 'data-testid="qr-amount">Rp7,500<' in page
    assert "Waiting for the payment" in page


def test_dynamic_code_rejects_bad_amount(client, merchant):
    response = client.get(QR, {"amount": "7,5", "bill": "X"})

    assert response.status_code == 400
    assert "Enter the amount in whole rupiah" in text(response)


def test_dynamic_code_rejects_nik_bill(client, merchant):
    response = client.get(QR, {"amount": "7500", "bill": "1374024708950001"})

    assert response.status_code == 400
    assert "The bill number must not contain a NIK" in text(response)


def test_dynamic_code_rejects_long_bill(client, merchant):
    response = client.get(QR, {"amount": "7500", "bill": "B" * 26})

    assert response.status_code == 400
    assert "at most 25 characters" in text(response)


def test_qr_status_waits_then_shows_paid(client, merchant):
    waiting = text(client.get(STATUS, {"bill": "INV-9"}))
    payment = pay_bill(merchant, 7_500, "INV-9")
    paid = text(client.get(STATUS, {"bill": "INV-9"}))

    assert 'data-paid="0"' in waiting
    assert "hx-trigger" in waiting
    assert 'data-paid="1"' in paid
    assert "hx-trigger" not in paid
    assert f"/receipts/{payment.reference}/" in paid


# Incoming payments ---------------------------------------------------------------------


def test_payments_list_and_today_total(client, merchant):
    pay_bill(merchant, 7_500, "INV-1")
    pay_bill(merchant, 2_500)

    page = text(client.get(MERCHANT))

    assert page.count('data-testid="payment-row"') == 2
    assert 'data-testid="today-total">Rp10,000<' in page
    assert "INV-1" in page


def test_payments_poll_with_htmx(client, merchant):
    pay_bill(merchant, 7_500)

    page = text(client.get(MERCHANT))
    partial = text(client.get(MERCHANT, HTTP_HX_REQUEST="true"))

    assert 'hx-trigger="every 5s"' in page
    assert "<html" not in partial
    assert partial.count('data-testid="payment-row"') == 1


def test_payments_list_masks_payer(client, merchant, city):
    user = create_user("budi", "budi-password-1", ["citizen"])
    user.first_name, user.last_name = "Budi", "Santoso"
    user.save()
    payer = services.wallet_for(user)
    assert payer is not None
    fund(payer, 10_000)
    services.submit(
        services.TransferRequest(
            id=new_id("pay"),
            debit=payer.number,
            credit=merchant.number,
            amount=5_000,
            kind="payment",
            channel="qris",
        )
    )

    page = text(client.get(MERCHANT))

    assert "B*** S******" in page
    assert "Santoso" not in page


def test_payments_list_paginates(client, merchant):
    for _ in range(22):
        pay_bill(merchant, 1_000)

    second = text(client.get(MERCHANT, {"page": "2"}))

    assert second.count('data-testid="payment-row"') == 2
    assert 'hx-trigger="every' not in second


def test_other_merchant_payments_hidden(client, merchant, city):
    other = services.open_account(AccountKind.MERCHANT, label="Toko Lain")
    pay_bill(other, 4_000, "OTHER-1")

    page = text(client.get(MERCHANT))

    assert "OTHER-1" not in page
    assert 'data-testid="payments-empty"' in page


def test_qr_status_of_other_merchant_bill(client, merchant, city):
    other = services.open_account(AccountKind.MERCHANT, label="Toko Lain")
    pay_bill(other, 4_000, "OTHER-1")

    page = text(client.get(STATUS, {"bill": "OTHER-1"}))

    assert 'data-paid="0"' in page
