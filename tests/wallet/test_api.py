"""The wallet's JSON API: each operation's success and error replies."""

import json
import math

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import PASSWORD
from tests.wallet.conftest import fund, new_id

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.services import create_user
from kotacerdas.journal.models import Entry
from kotacerdas.wallet import api_schemas, flows, pins, qris, services
from kotacerdas.wallet.models import Account, AccountKind, PaymentPin, Tier, Transfer
from kotacerdas.wallet.numbers import new_wallet_number

pytestmark = pytest.mark.django_db

BASE = "/api/wallet"
PIN = "246810"
OTHER_PIN = "135790"
NIK = "1374024708950001"  # synthetic


# Fixtures ------------------------------------------------------------------------------


@pytest.fixture
def api(personas):
    """Return a function giving a client that sends a user's API token."""

    def client_for(user) -> Client:
        if isinstance(user, str):
            user = personas[user]
        secret = create_api_token(user, "test").secret
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    return client_for


@pytest.fixture
def citizen(personas):
    """The citizen persona, named, with a funded wallet and a PIN."""
    user = personas["citizen"]
    user.first_name, user.last_name = "Siti", "Rahmawati"
    user.save()
    pins.set_pin(user, PIN)
    fund(services.wallet_for(user), 500_000)
    return user


@pytest.fixture
def wallet(citizen) -> Account:
    return services.wallet_for(citizen)


@pytest.fixture
def neighbour(city):
    """A second citizen with a wallet and a PIN."""
    user = create_user("citizen-two", PASSWORD, ["citizen"])
    user.first_name, user.last_name = "Budi", "Santoso"
    user.save()
    pins.set_pin(user, OTHER_PIN)
    return user


@pytest.fixture
def neighbour_wallet(neighbour) -> Account:
    return services.wallet_for(neighbour)


@pytest.fixture
def shop(personas) -> Account:
    return services.open_merchant(personas["merchant"], "Warung Contoh")


def post(client: Client, path: str, body: dict):
    return client.post(BASE + path, json.dumps(body), content_type="application/json")


def balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance


def pay_body(to: Account, amount: int, **changes) -> dict:
    body = {
        "id": new_id("api"),
        "to": to.number,
        "amount": amount,
        "kind": "transfer" if to.kind == AccountKind.CITIZEN else "payment",
        "pin": PIN,
    }
    body.update(changes)
    return body


def error_of(response) -> dict:
    return response.json()["error"]


def static_payload(merchant: Account) -> str:
    return flows.merchant_payload(merchant)


# The caller's wallet ----------------------------------------------------------------------


def test_me_shows_own_wallet(api, citizen, wallet):
    body = api(citizen).get(BASE + "/me").json()

    assert body["number"] == wallet.number
    assert body["number_display"] == " ".join(
        wallet.number[i : i + 4] for i in (0, 4, 8)
    )
    assert body["name"] == "Siti Rahmawati"
    assert body["tier"] == "unregistered"
    assert body["balance"] == 500_000
    assert body["available"] == 500_000
    assert body["limits"] == {"balance_max": 2_000_000, "monthly_in_max": 20_000_000}
    assert body["month"]["credits_in"] == 500_000
    assert body["month"]["credits_left"] == 19_500_000
    assert body["has_pin"] is True
    assert body["step_up_amount"] == 1_000_000


def test_me_opens_wallet_on_first_use(api, personas):
    teller = personas["waste_bank_teller"]

    body = api(teller).get(BASE + "/me").json()

    assert Account.objects.get(holder=teller).number == body["number"]
    assert body["balance"] == 0
    assert body["has_pin"] is False


def test_history_lists_only_own(api, citizen, wallet, neighbour_wallet, shop):
    client = api(citizen)
    post(client, "/transfers", pay_body(neighbour_wallet, 10_000))
    fund(neighbour_wallet, 70_000)
    services.submit(
        services.TransferRequest(
            id=new_id(),
            debit=neighbour_wallet.number,
            credit=shop.number,
            amount=5_000,
            kind="payment",
        )
    )

    body = client.get(BASE + "/me/transfers").json()

    assert body["count"] == 2
    assert [item["kind"] for item in body["items"]] == ["transfer", "topup"]
    assert [item["direction"] for item in body["items"]] == ["out", "in"]
    for item in body["items"]:
        assert wallet.number in (item["from"]["number"], item["to"]["number"])
        assert item["receipt_url"] == f"/receipts/{item['reference']}/"


def test_history_masks_other_citizen(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    post(client, "/transfers", pay_body(neighbour_wallet, 10_000))

    [item, _topup] = client.get(BASE + "/me/transfers").json()["items"]

    assert item["from"]["name"] == "Siti Rahmawati"
    assert item["to"]["name"] == "B*** S******"
    assert "Budi" not in json.dumps(item)


def test_history_pages_and_filters(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    for amount in (1_000, 2_000, 3_000):
        post(client, "/transfers", pay_body(neighbour_wallet, amount))

    page = client.get(BASE + "/me/transfers", {"limit": 2, "offset": 1}).json()
    topups = client.get(BASE + "/me/transfers", {"kind": "topup"}).json()
    future = client.get(BASE + "/me/transfers", {"since": "2999-01-01"}).json()
    today = client.get(
        BASE + "/me/transfers", {"until": str(timezone.localdate())}
    ).json()

    assert page["count"] == 4
    assert [item["amount"] for item in page["items"]] == [2_000, 1_000]
    assert [item["amount"] for item in topups["items"]] == [500_000]
    assert future["count"] == 0
    assert today["count"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2025-02-30"}, "until"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_history_rejects_bad_filters(api, citizen, query, field):
    response = api(citizen).get(BASE + "/me/transfers", query)

    assert response.status_code == 422
    assert error_of(response)["field"] == field
    assert error_of(response)["code"] == "invalid"


# Payees ------------------------------------------------------------------------------------


def test_payee_shows_masked_name(api, citizen, neighbour_wallet):
    response = api(citizen).get(f"{BASE}/payees/{neighbour_wallet.number}")

    assert response.status_code == 200
    assert response.json() == {
        "number": neighbour_wallet.number,
        "number_display": " ".join(
            neighbour_wallet.number[i : i + 4] for i in (0, 4, 8)
        ),
        "name": "B*** S******",
        "kind": "citizen",
        "payable": True,
    }


def test_payee_merchant_and_own_wallet(api, citizen, wallet, shop):
    client = api(citizen)

    merchant = client.get(f"{BASE}/payees/{shop.number}").json()
    own = client.get(f"{BASE}/payees/{wallet.number}").json()

    assert merchant["name"] == "Warung Contoh"
    assert merchant["kind"] == "merchant"
    assert merchant["payable"] is True
    assert own["payable"] is False


def test_payee_frozen_is_not_payable(api, citizen, neighbour_wallet):
    services.change_account(neighbour_wallet, status="frozen")

    body = api(citizen).get(f"{BASE}/payees/{neighbour_wallet.number}").json()

    assert body["payable"] is False


def test_unknown_payee_is_404(api, citizen, settlement):
    client = api(citizen)
    unknown = new_wallet_number()

    response = client.get(f"{BASE}/payees/{unknown}")
    city_account = client.get(f"{BASE}/payees/{settlement.number}")

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": f"No wallet has the number {unknown}. Check the number and try again.",
        "field": "number",
    }
    assert city_account.status_code == 404


def test_malformed_payee_is_422(api, citizen, neighbour_wallet):
    client = api(citizen)
    number = neighbour_wallet.number
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)

    short = client.get(f"{BASE}/payees/88001234")
    wrong_digit = client.get(f"{BASE}/payees/{typo}")

    assert short.status_code == 422
    assert error_of(short)["message"] == (
        "A wallet number is 12 digits. Check the number and try again."
    )
    assert wrong_digit.status_code == 422
    assert "its last digit does not match" in error_of(wrong_digit)["message"]
    assert error_of(wrong_digit)["field"] == "number"


def test_payee_accepts_grouped_number(api, citizen, neighbour_wallet):
    grouped = " ".join(neighbour_wallet.number[i : i + 4] for i in (0, 4, 8))

    response = api(citizen).get(f"{BASE}/payees/{grouped}")

    assert response.status_code == 200
    assert response.json()["number"] == neighbour_wallet.number


# Transfers ---------------------------------------------------------------------------------


def test_transfer_moves_money(api, citizen, wallet, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 25_000, memo="arisan")
    )

    body = response.json()
    transfer = Transfer.objects.get(reference=body["reference"])
    assert response.status_code == 201
    assert balance(wallet) == 475_000
    assert balance(neighbour_wallet) == 25_000
    assert body["kind"] == "transfer"
    assert body["channel"] == "app"
    assert body["status"] == "posted"
    assert body["amount"] == 25_000
    assert body["memo"] == "arisan"
    assert body["from"] == {
        "number": wallet.number,
        "kind": "citizen",
        "name": "Siti Rahmawati",
    }
    assert body["to"]["name"] == "B*** S******"
    assert body["entry_seq"] == transfer.entry_seq
    assert Entry.objects.filter(seq=transfer.entry_seq).exists()
    assert body["receipt_url"] == f"/receipts/{transfer.reference}/"
    assert transfer.actor == f"user:{citizen.pk}"


def test_retry_returns_original_once(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    body = pay_body(neighbour_wallet, 25_000)

    first = post(client, "/transfers", body)
    again = post(client, "/transfers", body)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["id"] == body["id"]
    assert balance(wallet) == 475_000
    assert balance(neighbour_wallet) == 25_000


def test_same_id_other_body_is_409(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    body = pay_body(neighbour_wallet, 25_000)
    post(client, "/transfers", body)

    response = post(client, "/transfers", {**body, "amount": 26_000})

    assert response.status_code == 409
    assert error_of(response)["code"] == "id_conflict"
    assert error_of(response)["field"] == "id"
    assert balance(wallet) == 475_000


def test_retry_after_pin_lock_returns_original(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    body = pay_body(neighbour_wallet, 25_000)
    post(client, "/transfers", body)
    for _try in range(3):
        post(client, "/transfers", pay_body(neighbour_wallet, 1_000, pin="999999"))

    again = post(client, "/transfers", body)

    assert again.status_code == 200
    assert balance(neighbour_wallet) == 25_000


def test_wrong_pin_counts_tries(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)

    first = post(client, "/transfers", pay_body(neighbour_wallet, 1_000, pin="999999"))
    second = post(client, "/transfers", pay_body(neighbour_wallet, 1_000, pin="999999"))
    third = post(client, "/transfers", pay_body(neighbour_wallet, 1_000, pin="999999"))
    right = post(client, "/transfers", pay_body(neighbour_wallet, 1_000))

    assert first.status_code == 403
    assert error_of(first) == {
        "code": "wrong_pin",
        "message": "Wrong PIN. 2 tries left before the PIN locks.",
        "field": "pin",
    }
    assert error_of(second)["message"] == "Wrong PIN. 1 try left before the PIN locks."
    assert third.status_code == 423
    assert error_of(third)["code"] == "pin_locked"
    assert right.status_code == 423
    assert "Try again then" in error_of(right)["message"]
    assert balance(neighbour_wallet) == 0


def test_malformed_pin_is_not_a_try(api, citizen, wallet, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000, pin="12345")
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "pin"
    assert PaymentPin.objects.get(user=citizen).failed_attempts == 0


def test_pin_as_number_is_422(api, citizen, wallet, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000, pin=246810)
    )

    assert response.status_code == 422
    assert error_of(response)["message"] == (
        "The PIN must be exactly 6 digits, sent as text (a string)."
    )


def test_no_pin_is_409(api, personas, neighbour_wallet):
    teller = personas["waste_bank_teller"]
    fund(services.wallet_for(teller), 10_000)

    response = post(api(teller), "/transfers", pay_body(neighbour_wallet, 1_000))

    assert response.status_code == 409
    assert error_of(response)["code"] == "no_pin"
    assert balance(neighbour_wallet) == 0


def test_step_up_needs_password(api, citizen, wallet, neighbour_wallet):
    services.change_account(neighbour_wallet, tier=Tier.REGISTERED)
    fund(wallet, 1_000_000)
    client = api(citizen)

    missing = post(client, "/transfers", pay_body(neighbour_wallet, 1_200_000))
    wrong = post(
        client,
        "/transfers",
        pay_body(neighbour_wallet, 1_200_000, password="not-the-password"),
    )
    right = post(
        client, "/transfers", pay_body(neighbour_wallet, 1_200_000, password=PASSWORD)
    )

    assert missing.status_code == 403
    assert error_of(missing) == {
        "code": "step_up_required",
        "message": "Payments above Rp1,000,000 also need your account password. "
        "Send it as password.",
        "field": "password",
    }
    assert wrong.status_code == 403
    assert error_of(wrong)["code"] == "wrong_password"
    assert right.status_code == 201
    assert balance(neighbour_wallet) == 1_200_000


def test_step_up_not_needed_at_limit(api, citizen, wallet, neighbour_wallet):
    services.change_account(neighbour_wallet, tier=Tier.REGISTERED)
    fund(wallet, 1_000_000)

    response = post(api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000_000))

    assert response.status_code == 201


def test_missing_step_up_spends_no_try(api, citizen, wallet, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 1_200_000, pin="999999")
    )

    assert error_of(response)["code"] == "step_up_required"
    assert PaymentPin.objects.get(user=citizen).failed_attempts == 0


def test_wrong_passwords_lock_step_up(api, citizen, wallet, neighbour_wallet):
    client = api(citizen)
    body = pay_body(neighbour_wallet, 1_200_000, password="not-the-password")

    codes = [
        error_of(post(client, "/transfers", {**body, "id": new_id()}))["code"]
        for _try in range(6)
    ]

    assert codes[0] == "wrong_password"
    assert codes[-1] == "password_locked"


def test_overdraft_is_422(api, citizen, wallet, neighbour_wallet):
    response = post(api(citizen), "/transfers", pay_body(neighbour_wallet, 500_001))

    assert response.status_code == 422
    assert error_of(response) == {
        "code": "exceeds_balance",
        "message": "The balance is not enough: Rp500,000 is available.",
        "field": "amount",
    }
    assert balance(wallet) == 500_000


def test_payee_over_cap_is_422(api, citizen, wallet, neighbour_wallet):
    fund(neighbour_wallet, 1_990_000)

    response = post(api(citizen), "/transfers", pay_body(neighbour_wallet, 20_000))

    assert response.status_code == 422
    assert error_of(response)["code"] == "exceeds_balance_cap"
    assert error_of(response)["field"] == "amount"


def test_payment_to_citizen_is_422(api, citizen, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000, kind="payment")
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "flow_not_allowed"
    assert error_of(response)["field"] == "to"


def test_payment_to_merchant(api, citizen, wallet, shop):
    response = post(api(citizen), "/transfers", pay_body(shop, 12_500))

    assert response.status_code == 201
    assert response.json()["to"]["name"] == "Warung Contoh"
    assert balance(shop) == 12_500


def test_unknown_payee_number_is_422(api, citizen, wallet):
    unknown = new_wallet_number()

    response = post(
        api(citizen),
        "/transfers",
        {**pay_body(wallet, 1_000), "to": unknown, "kind": "transfer"},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "account_not_found"
    assert error_of(response)["field"] == "to"


def test_transfer_to_self_is_422(api, citizen, wallet):
    response = post(api(citizen), "/transfers", pay_body(wallet, 1_000))

    assert response.status_code == 422
    assert error_of(response)["code"] == "same_account"
    assert error_of(response)["field"] == "to"


def test_debit_account_cannot_be_chosen(api, citizen, wallet, neighbour_wallet):
    fund(neighbour_wallet, 50_000)

    response = post(
        api(citizen),
        "/transfers",
        {**pay_body(wallet, 1_000), "from": neighbour_wallet.number},
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "from"
    assert balance(neighbour_wallet) == 50_000


@pytest.mark.parametrize("amount", [0, -5, 1.5, "1.000", "abc", True, None, ""])
def test_invalid_amount_is_422(api, citizen, neighbour_wallet, amount):
    response = post(
        api(citizen), "/transfers", {**pay_body(neighbour_wallet, 1), "amount": amount}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "amount"
    assert balance(neighbour_wallet) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"id": None},
            "id",
            "The id is missing. Send a new id, such as a UUID, per request.",
        ),
        ({"id": "a b"}, "id", None),
        ({"to": None}, "to", "Enter a wallet number."),
        (
            {"kind": "levy"},
            "kind",
            "levy is not allowed here. Choose one of: transfer, payment.",
        ),
        ({"memo": "x" * 65}, "memo", "This text may have at most 64 characters."),
        ({"pin": None}, "pin", "Enter the 6-digit payment PIN."),
    ],
)
def test_invalid_fields_are_named(
    api, citizen, neighbour_wallet, changes, field, message
):
    response = post(
        api(citizen), "/transfers", {**pay_body(neighbour_wallet, 1_000), **changes}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == field
    if message is not None:
        assert error_of(response)["message"] == message


def test_memo_with_nik_is_422(api, citizen, wallet, neighbour_wallet):
    response = post(
        api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000, memo=f"NIK {NIK}")
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "personal_data"
    assert balance(neighbour_wallet) == 0


def test_uuid_id_with_digit_run_accepted(api, citizen, wallet, neighbour_wallet):
    body = pay_body(neighbour_wallet, 1_000, id="fd781266-1299-4409-88fd-09ba2984cac2")

    response = post(api(citizen), "/transfers", body)

    assert response.status_code == 201


def test_closed_loop_refuses_transfers(api, citizen, wallet, neighbour_wallet, city):
    city.settings = {
        **city.settings,
        "wallet": {**city.settings["wallet"], "mode": "closed_loop"},
    }
    city.save()

    payee = api(citizen).get(f"{BASE}/payees/{neighbour_wallet.number}").json()
    response = post(api(citizen), "/transfers", pay_body(neighbour_wallet, 1_000))

    assert payee["payable"] is False
    assert response.status_code == 422
    assert error_of(response)["code"] == "flow_not_allowed"
    assert error_of(response)["field"] == "kind"


# QR codes ----------------------------------------------------------------------------------


EXTERNAL_STATIC = (
    "00020101021126680016ID.CO.CONTOH.WWW01189360999900000000010215PPJ00000000000"
    "10303UMI51440014ID.CO.QRIS.WWW0215ID12345678901230303UMI52049399530336058"
    "02ID5919RETRIBUSI SAMPAH PP6014PADANG PANJANG61052711462070703A0163047F8F"
)


def dynamic_payload(merchant: Account, amount: int, bill_number: str = "") -> str:
    return flows.merchant_payload(merchant, amount=amount, bill_number=bill_number)


def test_parse_own_static_code(api, citizen, shop):
    response = post(api(citizen), "/qr/parse", {"payload": static_payload(shop)})

    body = response.json()
    assert response.status_code == 200
    assert body["merchant_name"] == "Warung Contoh"
    assert body["merchant_number"] == shop.number
    assert body["dynamic"] is False
    assert body["amount"] is None
    assert body["external"] is False
    assert body["payable"] is True
    assert body["currency"] == "360"


def test_parse_dynamic_code(api, citizen, shop):
    payload = dynamic_payload(shop, 7_500, "INV-0001")

    body = post(api(citizen), "/qr/parse", {"payload": payload}).json()

    assert body["dynamic"] is True
    assert body["amount"] == 7_500
    assert body["bill_number"] == "INV-0001"


def test_parse_external_code(api, citizen):
    body = post(api(citizen), "/qr/parse", {"payload": EXTERNAL_STATIC}).json()

    assert body["external"] is True
    assert body["payable"] is False
    assert body["merchant_name"] == "RETRIBUSI SAMPAH PP"
    assert body["merchant_number"] is None
    assert body["nmid"] == "ID1234567890123"


def test_parse_damaged_code_is_422(api, citizen, shop):
    damaged = static_payload(shop)[:-4] + "0000"

    response = post(api(citizen), "/qr/parse", {"payload": damaged})

    assert response.status_code == 422
    assert error_of(response) == {
        "code": "crc_mismatch",
        "message": "The QR code is damaged or incomplete (checksum mismatch). "
        "Ask the merchant to show it again.",
        "field": "payload",
    }


def test_parse_missing_payload_is_422(api, citizen):
    response = post(api(citizen), "/qr/parse", {})

    assert response.status_code == 422
    assert error_of(response)["field"] == "payload"


def qr_pay_body(payload: str, **changes) -> dict:
    return {"id": new_id("qr"), "payload": payload, "pin": PIN, **changes}


def test_pay_static_code(api, citizen, wallet, shop):
    response = post(
        api(citizen), "/qr/pay", qr_pay_body(static_payload(shop), amount=15_000)
    )

    body = response.json()
    assert response.status_code == 201
    assert body["channel"] == "qris"
    assert body["kind"] == "payment"
    assert body["to"]["number"] == shop.number
    assert balance(shop) == 15_000
    assert balance(wallet) == 485_000


def test_static_code_needs_amount(api, citizen, shop):
    response = post(api(citizen), "/qr/pay", qr_pay_body(static_payload(shop)))

    assert response.status_code == 422
    assert error_of(response)["field"] == "amount"
    assert balance(shop) == 0


def test_pay_dynamic_code(api, citizen, wallet, shop):
    payload = dynamic_payload(shop, 7_500, "INV-0001")
    client = api(citizen)

    mismatch = post(client, "/qr/pay", qr_pay_body(payload, amount=7_000))
    paid = post(client, "/qr/pay", qr_pay_body(payload))

    assert mismatch.status_code == 422
    assert error_of(mismatch)["code"] == "amount_mismatch"
    assert error_of(mismatch)["message"] == (
        "This QR code asks for Rp7,500. Send that amount, or leave the amount out."
    )
    assert paid.status_code == 201
    assert paid.json()["amount"] == 7_500
    assert paid.json()["memo"] == "INV-0001"
    assert balance(shop) == 7_500


def test_pay_external_code_is_422(api, citizen, wallet):
    response = post(api(citizen), "/qr/pay", qr_pay_body(EXTERNAL_STATIC, amount=5_000))

    assert response.status_code == 422
    assert error_of(response)["code"] == "external_issuer"
    assert error_of(response)["field"] == "payload"
    assert balance(wallet) == 500_000


def test_pay_code_of_closed_merchant_is_422(api, citizen, wallet, shop):
    payload = static_payload(shop)
    services.change_account(shop, status="closed")

    response = post(api(citizen), "/qr/pay", qr_pay_body(payload, amount=5_000))

    assert response.status_code == 422
    assert error_of(response)["code"] == "account_not_active"
    assert error_of(response)["field"] == "payload"


def test_qr_pay_retry_and_wrong_pin(api, citizen, wallet, shop):
    client = api(citizen)
    body = qr_pay_body(dynamic_payload(shop, 7_500))

    first = post(client, "/qr/pay", body)
    again = post(client, "/qr/pay", body)
    wrong = post(client, "/qr/pay", {**body, "id": new_id(), "pin": "999999"})

    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert wrong.status_code == 403
    assert balance(shop) == 7_500


# Merchants ---------------------------------------------------------------------------------


def test_merchant_account_and_static_code(api, personas, shop):
    body = api("merchant").get(BASE + "/merchant").json()

    code = qris.parse(body["qr_payload"], own_gui="ID.KOTACERDAS.WWW")
    assert body["account"]["number"] == shop.number
    assert body["account"]["name"] == "Warung Contoh"
    assert code.own_account is not None
    assert code.own_account.merchant_id == shop.number
    assert code.dynamic is False
    assert code.merchant_city == "PADANG PANJANG"


def test_merchant_without_account_is_404(api, personas):
    response = api("merchant").get(BASE + "/merchant")

    assert response.status_code == 404
    assert error_of(response)["code"] == "no_merchant_account"


def test_merchant_dynamic_code(api, shop):
    response = post(
        api("merchant"), "/merchant/qr", {"amount": 25_000, "bill_number": "INV-7"}
    )

    body = response.json()
    code = qris.parse(body["payload"], own_gui="ID.KOTACERDAS.WWW")
    assert response.status_code == 200
    assert body["dynamic"] is True
    assert code.amount == 25_000
    assert code.bill_number == "INV-7"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bill_number": "B" * 26}, "bill_number"),
        ({"bill_number": NIK}, "bill_number"),
        ({"amount": -1}, "amount"),
        ({"amount": 10**13}, "amount"),
    ],
)
def test_merchant_code_rejects_bad_values(api, shop, body, field):
    response = post(api("merchant"), "/merchant/qr", body)

    assert response.status_code == 422
    assert error_of(response)["field"] == field


def test_merchant_payments_list(api, citizen, wallet, shop):
    client = api(citizen)
    post(client, "/qr/pay", qr_pay_body(dynamic_payload(shop, 7_500, "INV-1")))
    post(client, "/qr/pay", qr_pay_body(dynamic_payload(shop, 2_000, "INV-2")))
    merchant = api("merchant")

    everything = merchant.get(BASE + "/merchant/payments").json()
    one_bill = merchant.get(
        BASE + "/merchant/payments", {"bill_number": "INV-1"}
    ).json()

    assert [item["amount"] for item in everything["items"]] == [2_000, 7_500]
    assert {item["direction"] for item in everything["items"]} == {"in"}
    assert everything["items"][0]["from"]["name"] == "S*** R********"
    assert [item["memo"] for item in one_bill["items"]] == ["INV-1"]


# Counters ----------------------------------------------------------------------------------


def test_cash_in(api, neighbour_wallet):
    body = {"id": new_id(), "wallet": neighbour_wallet.number, "amount": 100_000}
    client = api("cashier")

    response = post(client, "/counter/cash-in", body)
    again = post(client, "/counter/cash-in", body)

    created = response.json()
    assert response.status_code == 201
    assert created["kind"] == "topup"
    assert created["channel"] == "counter"
    assert created["to"]["name"] == "B*** S******"
    assert created["receipt_url"] == f"/receipts/{created['reference']}/"
    assert again.status_code == 200
    assert balance(neighbour_wallet) == 100_000


def test_cash_in_over_cap_is_422(api, neighbour_wallet):
    body = {"id": new_id(), "wallet": neighbour_wallet.number, "amount": 2_000_001}

    response = post(api("cashier"), "/counter/cash-in", body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "exceeds_balance_cap"
    assert "2,000,000" in error_of(response)["message"]
    assert balance(neighbour_wallet) == 0


def test_cash_in_unknown_wallet_is_422(api, city):
    body = {"id": new_id(), "wallet": new_wallet_number(), "amount": 1_000}

    response = post(api("cashier"), "/counter/cash-in", body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "account_not_found"
    assert error_of(response)["field"] == "wallet"


def test_cash_out_with_holder_pin(api, wallet, settlement):
    client = api("cashier")
    body = {"id": new_id(), "wallet": wallet.number, "amount": 50_000, "pin": PIN}

    response = post(client, "/counter/cash-out", body)

    assert response.status_code == 201
    assert response.json()["kind"] == "withdrawal"
    assert response.json()["to"]["number"] == settlement.number
    assert balance(wallet) == 450_000


def test_cash_out_wrong_pin_counts(api, citizen, wallet):
    body = {"id": new_id(), "wallet": wallet.number, "amount": 50_000, "pin": "999999"}

    response = post(api("cashier"), "/counter/cash-out", body)

    assert response.status_code == 403
    assert error_of(response)["code"] == "wrong_pin"
    assert PaymentPin.objects.get(user=citizen).failed_attempts == 1
    assert balance(wallet) == 500_000


def test_cash_out_without_holder_is_422(api, alice):
    fund(alice, 10_000)
    body = {"id": new_id(), "wallet": alice.number, "amount": 5_000, "pin": PIN}

    response = post(api("cashier"), "/counter/cash-out", body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "no_holder"
    assert balance(alice) == 10_000


def test_cash_out_over_balance_is_422(api, wallet):
    body = {"id": new_id(), "wallet": wallet.number, "amount": 600_000, "pin": PIN}

    response = post(api("cashier"), "/counter/cash-out", body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "exceeds_balance"


# Staff -------------------------------------------------------------------------------------


def test_staff_list_accounts(api, wallet, neighbour_wallet, shop):
    client = api("auditor")

    citizens = client.get(BASE + "/accounts", {"kind": "citizen"}).json()
    by_number = client.get(BASE + "/accounts", {"number": wallet.number[:8]}).json()
    bad = client.get(BASE + "/accounts", {"tier": "gold"})

    assert citizens["count"] == 2
    assert {item["name"] for item in citizens["items"]} == {
        "Siti Rahmawati",
        "Budi Santoso",
    }
    assert wallet.number in [item["number"] for item in by_number["items"]]
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "tier"


def test_staff_get_account(api, wallet):
    client = api("revenue_officer")

    found = client.get(f"{BASE}/accounts/{wallet.number}")
    unknown = client.get(f"{BASE}/accounts/{new_wallet_number()}")
    malformed = client.get(f"{BASE}/accounts/123")

    assert found.status_code == 200
    assert found.json()["balance"] == 500_000
    assert found.json()["name"] == "Siti Rahmawati"
    assert unknown.status_code == 404
    assert malformed.status_code == 422


def test_staff_transfers_unmasked(api, citizen, wallet, neighbour_wallet):
    post(api(citizen), "/transfers", pay_body(neighbour_wallet, 10_000))
    client = api("admin")

    listing = client.get(BASE + "/transfers", {"account": neighbour_wallet.number})
    [item] = listing.json()["items"]
    one = client.get(f"{BASE}/transfers/{item['reference']}")
    missing = client.get(f"{BASE}/transfers/TRX-0000000000")

    assert item["to"]["name"] == "Budi Santoso"
    assert item["from"]["name"] == "Siti Rahmawati"
    assert item["direction"] is None
    assert one.json() == item
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


def test_staff_transfer_filters(api, citizen, wallet, neighbour_wallet):
    post(api(citizen), "/transfers", pay_body(neighbour_wallet, 10_000))
    client = api("auditor")

    posted = client.get(BASE + "/transfers", {"status": "posted"}).json()
    topups = client.get(BASE + "/transfers", {"kind": "topup"}).json()
    bad = client.get(BASE + "/transfers", {"account": "12"})

    assert posted["count"] == 2
    assert topups["count"] == 1
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "account"


# Another person's data ------------------------------------------------------------------------


def test_citizen_cannot_read_others(api, citizen, neighbour, neighbour_wallet):
    fund(neighbour_wallet, 10_000)
    reference = Transfer.objects.get(credit_account=neighbour_wallet).reference
    client = api(citizen)

    account = client.get(f"{BASE}/accounts/{neighbour_wallet.number}")
    transfers = client.get(BASE + "/transfers", {"account": neighbour_wallet.number})
    transfer = client.get(f"{BASE}/transfers/{reference}")
    own = client.get(BASE + "/me/transfers").json()

    assert account.status_code == 403
    assert transfers.status_code == 403
    assert transfer.status_code == 403
    assert error_of(transfer)["code"] == "forbidden"
    assert reference not in [item["reference"] for item in own["items"]]


def test_merchant_sees_only_own_payments(api, personas, citizen, wallet, shop, city):
    other_owner = create_user("merchant-two", PASSWORD, ["merchant"])
    other_shop = services.open_merchant(other_owner, "Toko Lain")
    post(api(citizen), "/transfers", pay_body(other_shop, 3_000))

    body = api("merchant").get(BASE + "/merchant/payments").json()

    assert body["count"] == 0


# Service integrations -------------------------------------------------------------------------


def test_reservation_post_in_part(api, settlement, neighbour_wallet):
    client = api("cashier")
    reserve = {
        "id": "res-1",
        "from": settlement.number,
        "to": neighbour_wallet.number,
        "amount": 40_000,
        "kind": "topup",
        "channel": "bank_va",
        "timeout_s": 600,
    }

    reserved = post(client, "/reservations", reserve)
    posted = post(
        client, "/reservations/res-1/post", {"id": "res-1-post", "amount": 30_000}
    )
    again = post(
        client, "/reservations/res-1/post", {"id": "res-1-post", "amount": 30_000}
    )
    late = post(client, "/reservations/res-1/void", {"id": "res-1-void"})

    assert reserved.status_code == 201
    assert reserved.json()["status"] == "pending"
    assert reserved.json()["expires_at"] is not None
    assert posted.status_code == 201
    assert posted.json()["phase"] == "post"
    assert posted.json()["pending_id"] == "res-1"
    assert posted.json()["amount"] == 30_000
    assert again.status_code == 200
    assert late.status_code == 409
    assert error_of(late)["code"] == "pending_not_pending"
    assert balance(neighbour_wallet) == 30_000


def test_reservation_of_another_counter_is_refused(api, settlement, neighbour_wallet):
    owner = api("cashier")
    other = api(create_user("cashier-two", PASSWORD, ["cashier"]))
    post(
        owner,
        "/reservations",
        {
            "id": "res-3",
            "from": settlement.number,
            "to": neighbour_wallet.number,
            "amount": 40_000,
            "kind": "topup",
        },
    )

    voided = post(other, "/reservations/res-3/void", {"id": "res-3-void"})
    posted = post(other, "/reservations/res-3/post", {"id": "res-3-post"})
    own = post(owner, "/reservations/res-3/post", {"id": "res-3-post"})

    assert voided.status_code == 403
    assert error_of(voided)["code"] == "reservation_not_yours"
    assert error_of(voided)["field"] == "pending_id"
    assert posted.status_code == 403
    assert own.status_code == 201, "the counter that reserved it posts it"
    assert balance(neighbour_wallet) == 40_000


def test_reservation_void_and_unknown(api, settlement, neighbour_wallet):
    client = api("cashier")
    post(
        client,
        "/reservations",
        {
            "id": "res-2",
            "from": settlement.number,
            "to": neighbour_wallet.number,
            "amount": 40_000,
            "kind": "topup",
        },
    )

    voided = post(client, "/reservations/res-2/void", {"id": "res-2-void"})
    unknown = post(client, "/reservations/nope/post", {"id": "nope-post"})

    assert voided.status_code == 201
    assert voided.json()["phase"] == "void"
    assert voided.json()["status"] == "voided"
    assert voided.json()["pending_id"] == "res-2"
    assert Account.objects.get(pk=neighbour_wallet.pk).credits_pending == 0
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "pending_not_found"


def test_reservation_from_wallet_needs_holder_pin(api, wallet, settlement):
    client = api("cashier")
    body = {
        "id": "res-3",
        "from": wallet.number,
        "to": settlement.number,
        "amount": 40_000,
        "kind": "withdrawal",
    }

    without = post(client, "/reservations", body)
    wrong = post(client, "/reservations", {**body, "pin": "999999"})
    right = post(client, "/reservations", {**body, "pin": PIN})

    assert without.status_code == 422
    assert error_of(without)["field"] == "pin"
    assert wrong.status_code == 403
    assert right.status_code == 201
    assert Account.objects.get(pk=wallet.pk).available == 460_000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": 8 * 24 * 3600}, "timeout_s"),
        ({"kind": "gift"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"from": "8800"}, "from"),
    ],
)
def test_reservation_rejects_bad_values(
    api, settlement, neighbour_wallet, changes, field
):
    body = {
        "id": "res-4",
        "from": settlement.number,
        "to": neighbour_wallet.number,
        "amount": 1_000,
        "kind": "topup",
        **changes,
    }

    response = post(api("cashier"), "/reservations", body)

    assert response.status_code == 422
    assert error_of(response)["field"] == field


def test_city_accounts_not_debited(api, levy_revenue, neighbour_wallet):
    reservation = {
        "id": "res-5",
        "from": levy_revenue.number,
        "to": neighbour_wallet.number,
        "amount": 1_000,
        "kind": "refund",
    }
    item = {**reservation, "id": "b-6"}

    reserved = post(api("cashier"), "/reservations", reservation)
    batched = post(api("cashier"), "/batch", {"items": [item]})

    assert reserved.status_code == 403
    assert error_of(reserved)["code"] == "debit_not_allowed"
    assert error_of(reserved)["field"] == "from"
    assert batched.json()["results"][0]["error"]["code"] == "debit_not_allowed"
    assert not Transfer.objects.filter(debit_account=levy_revenue).exists()


def test_batch_reports_each_item(api, settlement, wallet, neighbour_wallet):
    items = [
        {
            "id": "b-1",
            "from": settlement.number,
            "to": neighbour_wallet.number,
            "amount": 5_000,
            "kind": "topup",
        },
        {
            "id": "b-2",
            "from": settlement.number,
            "to": neighbour_wallet.number,
            "amount": "x",
            "kind": "topup",
        },
        {
            "id": "b-3",
            "from": wallet.number,
            "to": neighbour_wallet.number,
            "amount": 1_000,
            "kind": "transfer",
        },
        {
            "id": "b-4",
            "from": settlement.number,
            "to": neighbour_wallet.number,
            "amount": 3_000_000,
            "kind": "topup",
        },
        {
            "id": "b-5",
            "from": settlement.number,
            "to": wallet.number,
            "amount": 1_000,
            "kind": "topup",
        },
    ]

    response = post(api("cashier"), "/batch", {"items": items})
    again = post(api("cashier"), "/batch", {"items": items[:1]})

    results = response.json()["results"]
    assert response.status_code == 200
    assert [r["id"] for r in results] == ["b-1", "b-2", "b-3", "b-4", "b-5"]
    assert [r["ok"] for r in results] == [True, False, False, False, True]
    assert results[1]["error"]["field"] == "amount"
    assert results[2]["error"]["code"] == "pin_required"
    assert results[2]["error"]["field"] == "from"
    assert results[3]["error"]["code"] == "exceeds_balance_cap"
    assert results[0]["transfer"]["to"]["name"] == "B*** S******"
    assert (
        again.json()["results"][0]["transfer"]["reference"]
        == (results[0]["transfer"]["reference"])
    )
    assert balance(neighbour_wallet) == 5_000
    assert balance(wallet) == 501_000


def test_batch_needs_items(api, city):
    empty = post(api("cashier"), "/batch", {"items": []})
    too_many = post(
        api("cashier"),
        "/batch",
        {"items": [{"id": f"b-{n}"} for n in range(api_schemas.MAX_BATCH_ITEMS + 1)]},
    )

    assert empty.status_code == 422
    assert error_of(empty)["field"] == "items"
    assert too_many.status_code == 422


# Authentication ---------------------------------------------------------------------------


def test_token_from_command_works(personas, citizen, wallet, capsys):
    call_command("token", "create", citizen.get_username(), "phone app")
    secret = capsys.readouterr().out.strip()

    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(BASE + "/me")

    assert response.status_code == 200
    assert response.json()["number"] == wallet.number


def test_wrong_token_is_401(city):
    response = Client(HTTP_AUTHORIZATION="Bearer kc_0000000000_nope").get(BASE + "/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_session_write_needs_csrf(citizen, wallet, neighbour_wallet):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)

    read = client.get(BASE + "/me")
    write = post(client, "/transfers", pay_body(neighbour_wallet, 1_000))

    assert read.status_code == 200
    assert write.status_code == 403
    assert balance(neighbour_wallet) == 0


def test_openapi_lists_wallet_operations(client):
    paths = client.get("/api/openapi.json").json()["paths"]

    assert "/api/wallet/transfers" in paths
    assert "/api/wallet/reservations/{pending_id}/post" in paths


# Parsers -------------------------------------------------------------------------------------


def valid_amount(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer() and 0 < value <= 10**15
    text = value.strip() if isinstance(value, str) else ""
    return text.isascii() and text.isdigit() and 0 < int(text) <= 10**15


@given(st.integers(min_value=1, max_value=10**15))
def test_amount_reads_digits(amount):
    assert api_schemas.clean_amount(amount) == amount
    assert api_schemas.clean_amount(str(amount)) == amount
    assert api_schemas.clean_amount(f" {amount} ") == amount


@given(st.integers(min_value=1, max_value=10**15))
def test_amount_reads_whole_floats(amount):
    assert api_schemas.clean_amount(float(amount)) == amount


@given(
    st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=10**15 + 1),
        st.floats().filter(lambda value: not valid_amount(value)),
        st.booleans(),
        st.text().filter(lambda value: not valid_amount(value)),
    )
)
def test_amount_rejects_the_rest(value):
    with pytest.raises(api_schemas.InvalidValue) as caught:
        api_schemas.clean_amount(value)
    assert caught.value.field == "amount"


@given(st.text(max_size=30))
def test_moment_never_crashes(text):
    try:
        moment = api_schemas.clean_moment(text, "since")
    except api_schemas.InvalidValue as error:
        assert error.field == "since"
    else:
        assert moment is None or moment.tzinfo is not None


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    to=JSON_SCALARS, amount=JSON_SCALARS, transfer_id=JSON_SCALARS, kind=JSON_SCALARS
)
def test_odd_values_get_4xx_and_move_nothing(
    api, citizen, wallet, to, amount, transfer_id, kind
):
    client = api(citizen)
    body = {"id": transfer_id, "to": to, "amount": amount, "kind": kind, "pin": PIN}

    response = post(client, "/transfers", body)

    assert response.status_code in (403, 409, 422)
    assert "error" in response.json()
    assert balance(wallet) == 500_000
