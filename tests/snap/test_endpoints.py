"""The SNAP endpoints: every response code path, idempotency and the log."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from tests.snap.conftest import (
    INQUIRY,
    PAYMENT,
    SERVICE_ID,
    Bank,
    balance,
    inquiry_body,
    payment_body,
    register,
    va,
)

from kotacerdas.snap import client as snap_client
from kotacerdas.snap.authentication import hash_token
from kotacerdas.snap.models import SnapAccessToken, SnapPayment, SnapRequest
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import AccountStatus, Transfer

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def shifted_timestamp(seconds: int) -> str:
    moment = timezone.localtime() + timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds")


# ------------------------------------------------------------- access token


def test_token_issued_and_stored_hashed(hmac_bank):
    response = hmac_bank.fetch_token()
    body = response.json()

    assert response.status_code == 200
    assert body["responseCode"] == "2007300"
    assert body["responseMessage"] == "Successful"
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == "900"
    assert response.headers["X-CLIENT-KEY"] == "BANKNAGARI"
    assert TIMESTAMP.match(response.headers["X-TIMESTAMP"])
    stored = SnapAccessToken.objects.get(token_hash=hash_token(body["accessToken"]))
    assert body["accessToken"] not in str(
        SnapAccessToken.objects.values().get(pk=stored.pk)
    )


def test_token_bad_signature_rejected(hmac_bank, other_key):
    response = hmac_bank.fetch_token(key=other_key)

    assert response.status_code == 401
    assert response.json()["responseCode"] == "4017300"
    assert response.json()["responseMessage"] == "Unauthorized. Invalid Signature"


def test_token_unknown_client_rejected(hmac_bank):
    hmac_bank.profile = snap_client.BankProfile(
        **{**hmac_bank.profile.__dict__, "client_key": "SOMEONE"}
    )

    response = hmac_bank.fetch_token()

    assert response.json()["responseCode"] == "4017300"
    assert response.json()["responseMessage"] == "Unauthorized. Unknown Client"


def test_token_needs_client_credentials_grant(hmac_bank):
    missing = hmac_bank.fetch_token(additionalInfo={})
    wrong = hmac_bank.fetch_token(grantType="password")

    assert missing.json()["responseCode"] == "4007302"
    assert missing.json()["responseMessage"] == "Invalid Mandatory Field grantType"
    assert wrong.json()["responseCode"] == "4007301"


def test_token_skewed_timestamp_rejected(hmac_bank):
    response = hmac_bank.fetch_token(timestamp=shifted_timestamp(-301))

    assert response.json()["responseCode"] == "4017300"


# ------------------------------------------------------------------ inquiry


def test_inquiry_returns_masked_holder_name(hmac_bank, member_wallet):
    before = Transfer.objects.count()

    response = hmac_bank.send(INQUIRY, inquiry_body(member_wallet))

    body = response.json()
    assert response.status_code == 200
    assert body["responseCode"] == "2002400"
    data = body["virtualAccountData"]
    assert data["virtualAccountName"] == "S*** R*****"
    assert data["inquiryStatus"] == "00"
    assert data["inquiryReason"]["english"] == "Success"
    assert data["virtualAccountNo"] == SERVICE_ID + member_wallet.number
    assert data["inquiryRequestId"] == "PRQ-20250101-0001"
    assert "Siti" not in response.content.decode()
    assert Transfer.objects.count() == before


def test_inquiry_shows_merchant_business_name(hmac_bank, city):
    shop = wallet.open_account("merchant", label="Warung Contoh")

    response = hmac_bank.send(INQUIRY, inquiry_body(shop))

    assert (
        response.json()["virtualAccountData"]["virtualAccountName"] == "Warung Contoh"
    )


def test_inquiry_unknown_wallet_invalid_va(hmac_bank, city):
    body = inquiry_body(type("Unknown", (), {"number": "880000000009"}))

    response = hmac_bank.send(INQUIRY, body)

    assert response.status_code == 404
    assert response.json()["responseCode"] == "4042411"
    assert response.json()["responseMessage"] == "Invalid Virtual Account"
    assert response.json()["virtualAccountData"]["inquiryStatus"] == "01"


def test_inquiry_city_account_invalid_va(hmac_bank, city):
    response = hmac_bank.send(INQUIRY, inquiry_body(wallet.settlement_account()))

    assert response.json()["responseCode"] == "4042411"


def test_inquiry_other_service_id_invalid_va(hmac_bank, member_wallet):
    body = inquiry_body(member_wallet) | va(member_wallet, "   99999")

    response = hmac_bank.send(INQUIRY, body)

    assert response.json()["responseCode"] == "4042411"


def test_inquiry_frozen_wallet_blocked(hmac_bank, member_wallet):
    wallet.change_account(member_wallet, status=AccountStatus.FROZEN)

    response = hmac_bank.send(INQUIRY, inquiry_body(member_wallet))

    assert response.json()["responseCode"] == "4042412"


def test_inquiry_duplicate_external_id_conflict(hmac_bank, member_wallet):
    first = hmac_bank.send(INQUIRY, inquiry_body(member_wallet), external_id="1234")
    second = hmac_bank.send(INQUIRY, inquiry_body(member_wallet), external_id="1234")

    assert first.json()["responseCode"] == "2002400"
    assert second.status_code == 409
    assert second.json()["responseCode"] == "4092400"
    assert second.json()["responseMessage"] == "Conflict"


# ------------------------------------------------------------------ payment


def test_payment_credits_wallet(hmac_bank, member_wallet):
    response = hmac_bank.send(PAYMENT, payment_body(member_wallet))

    body = response.json()
    assert response.status_code == 200
    assert body["responseCode"] == "2002500"
    assert body["responseMessage"] == "Successful"
    data = body["virtualAccountData"]
    assert data["paymentFlagStatus"] == "00"
    assert data["paymentFlagReason"]["english"] == "Success"
    assert data["paidAmount"] == {"value": "50000.00", "currency": "IDR"}
    assert data["virtualAccountName"] == "S*** R*****"
    assert data["paymentRequestId"] == "PRQ-20250101-0001"
    assert response["Content-Type"] == "application/json"
    assert TIMESTAMP.match(response.headers["X-TIMESTAMP"])
    assert balance(member_wallet) == 50_000
    transfer = Transfer.objects.get(
        reference=body["additionalInfo"]["transferReference"]
    )
    assert transfer.kind == "topup"
    assert transfer.channel == "bank_va"
    assert transfer.actor == "snap:BANKNAGARI"


def test_payment_retry_returns_first_answer(hmac_bank, member_wallet):
    first = hmac_bank.send(PAYMENT, payment_body(member_wallet))
    retry = hmac_bank.send(PAYMENT, payment_body(member_wallet, flagAdvise="Y"))
    again = hmac_bank.send(PAYMENT, payment_body(member_wallet))

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert again.json() == first.json()
    assert balance(member_wallet) == 50_000
    assert SnapPayment.objects.count() == 1
    assert (
        Transfer.objects.filter(kind="topup", credit_account=member_wallet).count() == 1
    )


def test_retry_after_freeze_returns_original(hmac_bank, member_wallet):
    first = hmac_bank.send(PAYMENT, payment_body(member_wallet))
    wallet.change_account(member_wallet, status=AccountStatus.FROZEN)

    retry = hmac_bank.send(PAYMENT, payment_body(member_wallet, flagAdvise="Y"))

    assert retry.json() == first.json()
    assert balance(member_wallet) == 50_000


def test_other_bank_cannot_replay_payment(hmac_bank, bank_key, member_wallet):
    hmac_bank.send(PAYMENT, payment_body(member_wallet))
    other = Bank(
        register(bank_key, "hmac_sha512", partner_id="BANKLAIN", service_id="54321"),
        bank_key,
    )
    other.login()

    response = other.send(PAYMENT, payment_body(member_wallet))

    assert response.json()["responseCode"] == "4042511"
    assert "transferReference" not in response.content.decode()
    assert balance(member_wallet) == 50_000


def test_payment_changed_amount_inconsistent(hmac_bank, member_wallet):
    hmac_bank.send(PAYMENT, payment_body(member_wallet))

    response = hmac_bank.send(PAYMENT, payment_body(member_wallet, "75000.00"))

    assert response.status_code == 404
    assert response.json()["responseCode"] == "4042518"
    assert response.json()["responseMessage"] == "Inconsistent Request"
    assert balance(member_wallet) == 50_000


def test_payment_new_request_id_credits_again(hmac_bank, member_wallet):
    hmac_bank.send(PAYMENT, payment_body(member_wallet))

    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet, paymentRequestId="PRQ-20250101-0002")
    )

    assert response.json()["responseCode"] == "2002500"
    assert balance(member_wallet) == 100_000


def test_payment_bad_signature_unauthorized(hmac_bank, member_wallet):
    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), change={"X-SIGNATURE": "AAAA"}
    )

    assert response.status_code == 401
    assert response.json()["responseCode"] == "4012500"
    assert response.json()["responseMessage"] == "Unauthorized. Invalid Signature"
    assert balance(member_wallet) == 0


def test_payment_signed_other_body_unauthorized(hmac_bank, member_wallet):
    signed = json.dumps(payment_body(member_wallet)).encode()
    sent = signed.replace(b"50000.00", b"90000.00")
    timestamp = snap_client.now_timestamp()
    headers = snap_client.transaction_headers(
        hmac_bank.profile,
        hmac_bank.key,
        PAYMENT,
        signed,
        access_token=hmac_bank.access_token,
        timestamp=timestamp,
        external_id="777",
    )

    response = hmac_bank._post(PAYMENT, sent, headers)

    assert response.json()["responseCode"] == "4012500"
    assert balance(member_wallet) == 0


def test_unsigned_request_keeps_external_id_free(hmac_bank, member_wallet):
    rejected = hmac_bank.send(
        PAYMENT,
        payment_body(member_wallet),
        external_id="42",
        change={"X-SIGNATURE": "AAAA"},
    )
    accepted = hmac_bank.send(PAYMENT, payment_body(member_wallet), external_id="42")

    assert rejected.json()["responseCode"] == "4012500"
    assert accepted.json()["responseCode"] == "2002500"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Basic dXNlcjpwYXNz", None],
)
def test_payment_bad_token_rejected(hmac_bank, member_wallet, authorization):
    response = hmac_bank.send(
        PAYMENT,
        payment_body(member_wallet),
        token="not-a-token",
        change={"Authorization": authorization},
    )

    assert response.status_code == 401
    assert response.json()["responseCode"] == "4012501"
    assert response.json()["responseMessage"] == "Invalid Token (B2B)"
    assert balance(member_wallet) == 0


def test_payment_expired_token_rejected(hmac_bank, member_wallet):
    issued = timezone.now() - timedelta(seconds=901)
    SnapAccessToken.objects.update(
        issued_at=issued, expires_at=issued + timedelta(seconds=900)
    )

    response = hmac_bank.send(PAYMENT, payment_body(member_wallet))

    assert response.json()["responseCode"] == "4012501"


def test_payment_other_partners_token_rejected(hmac_bank, bank_key, member_wallet):
    other = Bank(
        register(bank_key, "hmac_sha512", partner_id="BANKLAIN", service_id="54321"),
        bank_key,
    )
    other.login()

    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), token=other.access_token
    )

    assert response.json()["responseCode"] == "4012501"


@pytest.mark.parametrize("seconds", [-301, 301, -3600])
def test_payment_skewed_timestamp_rejected(hmac_bank, member_wallet, seconds):
    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), timestamp=shifted_timestamp(seconds)
    )

    assert response.status_code == 401
    assert response.json()["responseCode"] == "4012500"
    assert "X-TIMESTAMP" in response.json()["responseMessage"]
    assert balance(member_wallet) == 0


def test_payment_timestamp_within_skew_accepted(hmac_bank, member_wallet):
    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), timestamp=shifted_timestamp(-250)
    )

    assert response.json()["responseCode"] == "2002500"


@pytest.mark.parametrize(
    "timestamp",
    ["2025-01-01 10:00:01", "2025-01-01T10:00:01", "01-01-2025T10:00:01+07:00", "x"],
)
def test_payment_malformed_timestamp_rejected(hmac_bank, member_wallet, timestamp):
    response = hmac_bank.send(PAYMENT, payment_body(member_wallet), timestamp=timestamp)

    assert response.status_code == 400
    assert response.json()["responseCode"] == "4002501"
    assert response.json()["responseMessage"] == "Invalid Field Format X-TIMESTAMP"


def test_payment_duplicate_external_id_conflict(hmac_bank, member_wallet):
    first = hmac_bank.send(PAYMENT, payment_body(member_wallet), external_id="98765")
    second = hmac_bank.send(
        PAYMENT,
        payment_body(member_wallet, paymentRequestId="PRQ-2"),
        external_id="98765",
    )

    assert first.json()["responseCode"] == "2002500"
    assert second.status_code == 409
    assert second.json()["responseCode"] == "4092500"
    assert balance(member_wallet) == 50_000


@pytest.mark.parametrize(
    ("header", "value", "code", "message"),
    [
        ("X-PARTNER-ID", None, "4002502", "Invalid Mandatory Field X-PARTNER-ID"),
        ("X-EXTERNAL-ID", None, "4002502", "Invalid Mandatory Field X-EXTERNAL-ID"),
        ("CHANNEL-ID", None, "4002502", "Invalid Mandatory Field CHANNEL-ID"),
        ("X-SIGNATURE", None, "4002502", "Invalid Mandatory Field X-SIGNATURE"),
        ("X-TIMESTAMP", None, "4002502", "Invalid Mandatory Field X-TIMESTAMP"),
        ("X-EXTERNAL-ID", "12AB", "4002501", "Invalid Field Format X-EXTERNAL-ID"),
        ("X-EXTERNAL-ID", "1" * 37, "4002501", "Invalid Field Format X-EXTERNAL-ID"),
        ("X-PARTNER-ID", "SOMEONE", "4012500", "Unauthorized. Unknown Client"),
        ("CHANNEL-ID", "00000", "4012500", "Unauthorized. Unknown Channel"),
    ],
)
def test_payment_header_checks(hmac_bank, member_wallet, header, value, code, message):
    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), change={header: value}
    )

    assert response.json()["responseCode"] == code
    assert response.json()["responseMessage"] == message
    assert balance(member_wallet) == 0


def test_payment_needs_json_content_type(hmac_bank, member_wallet):
    response = hmac_bank.send(
        PAYMENT, payment_body(member_wallet), change={"Content-Type": "text/plain"}
    )

    assert response.json()["responseCode"] == "4002501"
    assert response.json()["responseMessage"] == "Invalid Field Format Content-Type"


@pytest.mark.parametrize(
    ("drop", "field"),
    [
        ("partnerServiceId", "partnerServiceId"),
        ("customerNo", "customerNo"),
        ("virtualAccountNo", "virtualAccountNo"),
        ("paymentRequestId", "paymentRequestId"),
        ("paidAmount", "paidAmount"),
    ],
)
def test_payment_missing_field_named(hmac_bank, member_wallet, drop, field):
    body = payment_body(member_wallet)
    del body[drop]

    response = hmac_bank.send(PAYMENT, body)

    assert response.status_code == 400
    assert response.json()["responseCode"] == "4002502"
    assert response.json()["responseMessage"] == f"Invalid Mandatory Field {field}"


def test_payment_missing_amount_value_named(hmac_bank, member_wallet):
    body = payment_body(member_wallet, paidAmount={"currency": "IDR"})

    response = hmac_bank.send(PAYMENT, body)

    assert response.json()["responseCode"] == "4002502"
    assert (
        response.json()["responseMessage"] == "Invalid Mandatory Field paidAmount.value"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partnerServiceId": "12345"}, "partnerServiceId"),
        ({"customerNo": "88001234567A"}, "customerNo"),
        ({"customerNo": 880012345674}, "customerNo"),
        ({"virtualAccountNo": "12345"}, "virtualAccountNo"),
        ({"paidAmount": {"value": "50000", "currency": "IDR"}}, "paidAmount.value"),
        ({"paidAmount": {"value": "50.000,00", "currency": "IDR"}}, "paidAmount.value"),
        (
            {"paidAmount": {"value": "50000.00", "currency": "USD"}},
            "paidAmount.currency",
        ),
        ({"paidAmount": "50000.00"}, "paidAmount"),
        ({"paymentRequestId": "x" * 129}, "paymentRequestId"),
        ({"flagAdvise": "YES"}, "flagAdvise"),
    ],
)
def test_payment_bad_format_named(hmac_bank, member_wallet, changes, field):
    response = hmac_bank.send(PAYMENT, payment_body(member_wallet, **changes))

    assert response.status_code == 400
    assert response.json()["responseCode"] == "4002501"
    assert response.json()["responseMessage"] == f"Invalid Field Format {field}"
    assert balance(member_wallet) == 0


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_payment_unreadable_body_bad_request(hmac_bank, member_wallet, raw):
    response = hmac_bank.send(PAYMENT, raw=raw)

    assert response.status_code == 400
    assert response.json()["responseCode"] == "4002500"


def test_payment_unknown_wallet_invalid_va(hmac_bank, city):
    body = payment_body(type("Unknown", (), {"number": "880000000009"}))

    response = hmac_bank.send(PAYMENT, body)

    assert response.status_code == 404
    assert response.json()["responseCode"] == "4042511"
    assert response.json()["virtualAccountData"]["paymentFlagStatus"] == "01"


@pytest.mark.parametrize("amount", ["50000.50", "0.00"])
def test_payment_amount_with_sen_rejected(hmac_bank, member_wallet, amount):
    response = hmac_bank.send(PAYMENT, payment_body(member_wallet, amount))

    assert response.json()["responseCode"] == "4042513"
    assert response.json()["responseMessage"] == "Invalid Amount"
    assert balance(member_wallet) == 0


def test_payment_over_balance_cap_rejected(hmac_bank, small_wallet):
    response = hmac_bank.send(PAYMENT, payment_body(small_wallet, "2500000.00"))

    body = response.json()
    assert response.status_code == 404
    assert body["responseCode"] == "4042513"
    assert body["responseMessage"] == (
        "Invalid Amount. Top-up would exceed the wallet's balance limit"
    )
    reason = body["virtualAccountData"]["paymentFlagReason"]
    assert reason["english"] == "Top-up would exceed the wallet's balance limit"
    assert body["virtualAccountData"]["paymentFlagStatus"] == "01"
    assert balance(small_wallet) == 0
    assert not SnapPayment.objects.exists()


def test_payment_after_cap_rejection_can_succeed(hmac_bank, small_wallet):
    hmac_bank.send(PAYMENT, payment_body(small_wallet, "2500000.00"))

    response = hmac_bank.send(PAYMENT, payment_body(small_wallet, "2000000.00"))

    assert response.json()["responseCode"] == "2002500"
    assert balance(small_wallet) == 2_000_000


def test_payment_frozen_wallet_blocked(hmac_bank, member_wallet):
    wallet.change_account(member_wallet, status=AccountStatus.FROZEN)

    response = hmac_bank.send(PAYMENT, payment_body(member_wallet))

    assert response.json()["responseCode"] == "4042512"
    assert balance(member_wallet) == 0


def test_pretty_printed_body_accepted(hmac_bank, member_wallet):
    raw = json.dumps(payment_body(member_wallet), indent=3).encode()

    response = hmac_bank.send(PAYMENT, raw=raw)

    assert response.json()["responseCode"] == "2002500"


def test_get_not_supported(hmac_bank):
    response = hmac_bank.client.get(PAYMENT)

    assert response.status_code == 405
    assert response.json()["responseCode"] == "4052500"


# ---------------------------------------------------------------- RSA mode


def test_rsa_partner_pays_without_token(rsa_bank, member_wallet):
    body = payment_body(member_wallet) | va(member_wallet, "   12345")

    response = rsa_bank.send(PAYMENT, body, change={"Authorization": None})

    assert response.json()["responseCode"] == "2002500"
    assert balance(member_wallet) == 50_000


def test_rsa_partner_wrong_key_unauthorized(rsa_bank, other_key, member_wallet):
    response = rsa_bank.send(PAYMENT, payment_body(member_wallet), key=other_key)

    assert response.json()["responseCode"] == "4012500"
    assert balance(member_wallet) == 0


def test_rsa_partner_inquiry_hex_signature(db, bank_key, member_wallet):
    bank = Bank(register(bank_key, "rsa_sha256", "hex", partner_id="BANKHEX"), bank_key)

    response = bank.send(INQUIRY, inquiry_body(member_wallet))

    assert response.json()["responseCode"] == "2002400"


# --------------------------------------------------------------------- log


def test_request_log_redacts_personal_fields(hmac_bank, member_wallet):
    hmac_bank.send(
        PAYMENT,
        payment_body(
            member_wallet,
            virtualAccountEmail="siti@example.com",
            virtualAccountPhone="6281234567890",
        ),
    )

    row = SnapRequest.objects.get(service="va_payment")
    assert row.response_code == "2002500"
    assert row.partner.partner_id == "BANKNAGARI"
    assert row.customer_no == member_wallet.number
    assert row.request_id == "PRQ-20250101-0001"
    assert row.transfer_reference.startswith("TRX-")
    assert row.duration_ms is not None
    assert row.body["virtualAccountName"] == "[redacted]"
    assert row.body["virtualAccountEmail"] == "[redacted]"
    assert row.body["paidAmount"] == {"value": "50000.00", "currency": "IDR"}
    stored = json.dumps(list(SnapRequest.objects.values()), default=str) + json.dumps(
        list(SnapPayment.objects.values("response_body"))
    )
    for personal in ("Siti", "Rahmah", "siti@example.com", "6281234567890"):
        assert personal not in stored


def test_rejected_request_logged_without_partner(hmac_bank, member_wallet):
    hmac_bank.send(
        PAYMENT, payment_body(member_wallet), change={"X-PARTNER-ID": "SOMEONE"}
    )

    row = SnapRequest.objects.get(service="va_payment")
    assert row.response_code == "4012500"
    assert row.partner is None
    assert row.external_id_day is None
    assert row.http_status == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_credit_once(postgres_only, hmac_bank, member_wallet):
    import threading

    from django.db import connection

    barrier = threading.Barrier(4)
    codes = []

    def send_copy() -> None:
        bank = Bank(hmac_bank.profile, hmac_bank.key)
        bank.access_token = hmac_bank.access_token
        try:
            barrier.wait()
            codes.append(bank.send(PAYMENT, payment_body(member_wallet)).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send_copy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [body["responseCode"] for body in codes] == ["2002500"] * 4
    assert len({json.dumps(body, sort_keys=True) for body in codes}) == 1
    assert balance(member_wallet) == 50_000
    assert SnapPayment.objects.count() == 1
