"""Paying a merchant's QR code: scan page, confirmation, PIN, step-up and errors."""

import io
import re
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from tests.conftest import PASSWORD

from kotacerdas.wallet import flows, pins, qr_image, services
from kotacerdas.wallet.models import Account, Tier, Transfer
from kotacerdas.wallet.qris import crc16

from .conftest import fund

pytestmark = pytest.mark.django_db

PIN = "135790"
PAY = "/wallet/pay/"
CONFIRM = "/wallet/pay/confirm/"
# A static code of another issuer (the fictional ID.CO.CONTOH.WWW), with a valid CRC.
EXTERNAL = "00020101021126680016ID.CO.CONTOH.WWW01189360999900000000010215PPJ0000000000010303UMI51440014ID.CO.QRIS.WWW0215ID12345678901230303UMI5204939953033605802ID5919RETRIBUSI SAMPAH PP6014PADANG PANJANG61052711462070703A0163047F8F"


def text(response) -> str:
    return response.content.decode()


def reload(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


@pytest.fixture
def client(signed_in) -> Client:
    client = signed_in("citizen")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def wallet(personas) -> Account:
    account = services.wallet_for(personas["citizen"])
    assert account is not None
    pins.set_pin(personas["citizen"], PIN)
    fund(account, 100_000)
    return account


@pytest.fixture
def merchant(personas) -> Account:
    return services.open_merchant(personas["merchant"], "Warung Sate Mak Etek")


def dynamic(merchant: Account, amount: int = 7_500, bill: str = "INV-0001") -> str:
    return flows.merchant_payload(merchant, amount=amount, bill_number=bill)


def open_code(client: Client, payload: str):
    return client.get(CONFIRM, {"qr": payload})


def form_fields(response) -> dict[str, str]:
    page = text(response)
    fields = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    )
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def pay(client: Client, payload: str, **values: str):
    shown = open_code(client, payload)
    return client.post(CONFIRM, {**form_fields(shown), "pin": PIN, **values})


# The confirmation page -------------------------------------------------------------


def test_dynamic_code_shows_merchant_and_amount(client, wallet, merchant):
    page = text(open_code(client, dynamic(merchant)))

    assert 'data-testid="merchant-name">Warung Sate Mak Etek<' in page
    assert 'data-testid="merchant-city">PADANG PANJANG<' in page
    assert 'data-testid="confirm-amount">Rp7,500<' in page
    assert "INV-0001" in page
    assert 'name="amount"' not in page


def test_static_code_asks_for_amount(client, wallet, merchant):
    page = text(open_code(client, flows.merchant_payload(merchant)))

    assert 'name="amount"' in page
    assert "This QR code has no amount" in page


def test_external_code_is_not_payable(client, wallet):
    response = open_code(client, EXTERNAL)

    page = text(response)
    assert 'data-testid="external-issuer"' in page
    assert "from another payment provider" in page
    assert "nothing was paid" in page
    assert "ID.CO.CONTOH.WWW" in page
    assert 'name="pin"' not in page


def test_external_code_post_pays_nothing(client, wallet):
    response = client.post(CONFIRM, {"qr": EXTERNAL, "pin": PIN, "transfer_id": "x-1"})

    assert "nothing was paid" in text(response)
    assert not Transfer.objects.filter(kind="payment").exists()
    assert reload(wallet).balance == 100_000


def test_damaged_code_shows_checksum_message(client, wallet, merchant):
    payload = dynamic(merchant)
    damaged = payload[:-4] + ("0000" if payload[-4:] != "0000" else "1111")

    response = open_code(client, damaged)

    assert response.status_code == 400
    assert "checksum mismatch" in text(response)


def test_plate_text_is_not_a_payment_code(client, wallet):
    response = open_code(client, "https://kota.example/p/PPJ-B-7F3K9Q-C")

    assert "This QR code is not a QRIS payment code." in text(response)


def test_unknown_merchant_of_ours(client, wallet, merchant):
    payload = flows.merchant_payload(merchant)
    unknown = payload.replace(merchant.number, "880012345679")
    body = unknown[:-4]
    unknown = body + crc16(body.encode("utf-8"))

    response = open_code(client, unknown)

    assert "names a merchant that is not registered" in text(response)


# Paying ----------------------------------------------------------------------------


def test_paying_dynamic_code(client, wallet, merchant):
    response = pay(client, dynamic(merchant))

    payment = Transfer.objects.get(kind="payment")
    assert response.status_code == 302
    assert response["Location"] == f"/wallet/done/{payment.reference}/"
    assert payment.channel == "qris"
    assert payment.memo == "INV-0001"
    assert payment.amount == 7_500
    assert reload(wallet).balance == 92_500
    assert reload(merchant).balance == 7_500


def test_done_page_after_payment(client, wallet, merchant):
    response = pay(client, dynamic(merchant))

    page = text(client.get(response["Location"]))
    payment = Transfer.objects.get(kind="payment")
    assert "Payment done." in page
    assert "Warung Sate Mak Etek" in page
    assert f'href="/receipts/{payment.reference}/"' in page


def test_paying_static_code(client, wallet, merchant):
    response = pay(client, flows.merchant_payload(merchant), amount="12.000")

    payment = Transfer.objects.get(kind="payment")
    assert response.status_code == 302
    assert payment.amount == 12_000
    assert payment.memo == ""


def test_static_code_needs_amount(client, wallet, merchant):
    response = pay(client, flows.merchant_payload(merchant), amount="")

    assert response.status_code == 400
    assert "Enter the amount in rupiah." in text(response)


def test_wrong_pin_pays_nothing(client, wallet, merchant):
    response = pay(client, dynamic(merchant), pin="999999")

    assert "Wrong PIN. 2 tries left before the PIN locks." in text(response)
    assert not Transfer.objects.filter(kind="payment").exists()


def test_insufficient_balance_for_payment(client, wallet, merchant):
    response = pay(client, dynamic(merchant, amount=250_000))

    assert "The balance is not enough: Rp100,000 is available." in text(response)
    assert reload(merchant).balance == 0


def test_double_submit_pays_once(client, wallet, merchant):
    shown = open_code(client, dynamic(merchant))
    data = {**form_fields(shown), "pin": PIN}

    one = client.post(CONFIRM, data)
    two = client.post(CONFIRM, data)

    assert one["Location"] == two["Location"]
    assert Transfer.objects.filter(kind="payment").count() == 1
    assert reload(wallet).balance == 92_500


def test_dynamic_code_is_paid_once(client, wallet, merchant):
    payload = dynamic(merchant)
    pay(client, payload)

    again = pay(client, payload)

    assert "was already paid" in text(again)
    assert Transfer.objects.filter(kind="payment").count() == 1


def test_step_up_for_large_payment(client, wallet, merchant):
    services.change_account(wallet, tier=Tier.REGISTERED)
    fund(wallet, 2_000_000)
    payload = dynamic(merchant, amount=1_500_000)

    shown = text(open_code(client, payload))
    refused = pay(client, payload)
    paid = pay(client, payload, password=PASSWORD)

    assert 'name="password"' in shown
    assert "Payments above Rp1,000,000 also need your account password." in text(
        refused
    )
    assert paid.status_code == 302
    assert reload(merchant).balance == 1_500_000


def test_closed_loop_blocks_payments(client, city, wallet, merchant):
    wallet_settings = {**city.settings["wallet"], "mode": "closed_loop"}
    city.settings = {**city.settings, "wallet": wallet_settings}
    city.save()

    page = text(open_code(client, dynamic(merchant)))

    assert "closed-loop city credit" in page
    assert 'name="pin"' not in page


# The scan page and photos ---------------------------------------------------------------


def test_scan_page_offers_camera_photo_paste(client, wallet):
    page = text(client.get(PAY))

    assert 'id="camera-start"' in page
    assert 'name="photo"' in page
    assert 'name="qr"' in page
    assert "wallet-scan.js" in page


def test_photo_opens_payment(client, wallet, merchant):
    payload = dynamic(merchant)
    picture = SimpleUploadedFile(
        "qr.png", qr_image.render_png(payload), content_type="image/png"
    )

    response = client.post(PAY, {"photo": picture})

    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?{urlencode({'qr': payload})}"


def test_photo_without_qr_code(client, wallet):
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(buffer, format="PNG")
    picture = SimpleUploadedFile(
        "blank.png", buffer.getvalue(), content_type="image/png"
    )

    response = client.post(PAY, {"photo": picture})

    assert response.status_code == 400
    assert "No QR code was found in this picture." in text(response)


def test_file_that_is_not_a_picture(client, wallet):
    picture = SimpleUploadedFile(
        "notes.png", b"not a picture", content_type="image/png"
    )

    response = client.post(PAY, {"photo": picture})

    assert "This file is not a picture." in text(response)


def test_dynamic_code_paid_by_another_payer_is_refused(
    client, wallet, merchant, personas, signed_in
):
    payload = dynamic(merchant)
    pay(client, payload)
    neighbour = services.wallet_for(personas["waste_bank_teller"])
    pins.set_pin(personas["waste_bank_teller"], PIN)
    fund(neighbour, 50_000)
    other = signed_in("waste_bank_teller")
    other.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    again = pay(other, payload)

    assert "was already paid" in text(again)
    assert reload(merchant).balance == 7_500, "the merchant is paid once"
    assert reload(neighbour).balance == 50_000
