"""Fixtures for SNAP tests: partner banks, a bank that signs, and wallets."""

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from tests.registry.conftest import HEAD_NIK, KK_NUMBER, building_input

from kotacerdas.registry.services import (
    MemberInput,
    register_building,
    register_household,
)
from kotacerdas.snap import client as snap_client
from kotacerdas.snap import services, signatures, simulator
from kotacerdas.snap.client import BankProfile
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, AccountKind, Tier

SERVICE_ID = "   12345"
CHANNEL_ID = "95221"
INQUIRY = "/v1.0/transfer-va/inquiry"
PAYMENT = "/v1.0/transfer-va/payment"
TOKEN = "/v1.0/access-token/b2b"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _bank_sim_files(tmp_path, monkeypatch):
    """Give each test its own bank simulator key and registrations."""
    monkeypatch.setattr(simulator, "sim_dir", lambda: tmp_path / "bank-sim")


@pytest.fixture(scope="session")
def bank_key():
    return signatures.new_private_key()


@pytest.fixture(scope="session")
def other_key():
    return signatures.new_private_key()


def register(bank_key, mode: str, encoding: str = "base64", **changes) -> BankProfile:
    settings = services.PartnerSettings(
        partner_id=changes.pop("partner_id", "BANKNAGARI"),
        name="Bank Contoh",
        service_id=changes.pop("service_id", "12345"),
        channel_id=CHANNEL_ID,
        signature_mode=mode,
        signature_encoding=encoding,
        public_key_pem=signatures.public_key_pem(bank_key),
        **changes,
    )
    new = services.add_partner(settings)
    partner = new.partner
    return BankProfile(
        partner_id=partner.partner_id,
        client_key=partner.client_key,
        partner_service_id=partner.partner_service_id,
        channel_id=partner.channel_id,
        signature_mode=partner.signature_mode,
        signature_encoding=partner.signature_encoding,
        client_secret=new.client_secret,
    )


class Bank:
    """A partner bank calling the city through Django's test client."""

    def __init__(self, profile: BankProfile, key) -> None:
        self.profile = profile
        self.key = key
        self.client = Client()
        self.access_token: str | None = None

    def fetch_token(self, timestamp: str | None = None, key=None, **body: Any):
        headers = snap_client.token_headers(
            self.profile, key or self.key, timestamp or snap_client.now_timestamp()
        )
        return self._post(
            TOKEN,
            json.dumps(body or {"grantType": "client_credentials"}).encode(),
            headers,
        )

    def login(self) -> None:
        response = self.fetch_token()
        assert response.json()["responseCode"] == "2007300", response.json()
        self.access_token = response.json()["accessToken"]

    def send(
        self,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        timestamp: str | None = None,
        external_id: str | None = None,
        token: str | None = None,
        key=None,
        change: dict[str, str | None] | None = None,
    ):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = snap_client.transaction_headers(
            self.profile,
            key or self.key,
            path,
            body,
            access_token=token or self.access_token,
            timestamp=timestamp or snap_client.now_timestamp(),
            external_id=external_id or snap_client.new_external_id(),
        )
        for name, value in (change or {}).items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return self._post(path, body, headers)

    def _post(self, path: str, body: bytes, headers: dict[str, str]):
        content_type = headers.pop("Content-Type", "")
        return self.client.post(
            path, data=body, content_type=content_type, headers=headers
        )


@pytest.fixture
def hmac_bank(db, bank_key) -> Bank:
    bank = Bank(register(bank_key, "hmac_sha512"), bank_key)
    bank.login()
    return bank


@pytest.fixture
def rsa_bank(db, bank_key) -> Bank:
    return Bank(register(bank_key, "rsa_sha256", partner_id="BANKRSA"), bank_key)


@pytest.fixture
def member_wallet(city) -> Account:
    """A registered citizen's wallet, held by household member Siti Rahmah."""
    household = register_household(
        register_building(building_input()),
        KK_NUMBER,
        [MemberInput("Siti Rahmah", HEAD_NIK, "head")],
    )
    member = household.members.get()
    return wallet.open_account(AccountKind.CITIZEN, member=member, tier=Tier.REGISTERED)


@pytest.fixture
def small_wallet(city) -> Account:
    """An unregistered citizen wallet, capped at Rp2.000.000."""
    return wallet.open_account(AccountKind.CITIZEN, tier=Tier.UNREGISTERED)


def va(account: Account, service_id: str = SERVICE_ID) -> dict[str, str]:
    return {
        "partnerServiceId": service_id,
        "customerNo": account.number,
        "virtualAccountNo": service_id + account.number,
    }


def payment_body(account: Account, amount: str = "50000.00", **changes) -> dict:
    body: dict[str, Any] = va(account) | {
        "virtualAccountName": "Siti Rahmah",
        "paymentRequestId": "PRQ-20250101-0001",
        "paidAmount": {"value": amount, "currency": "IDR"},
        "trxDateTime": "2025-01-01T10:00:00+07:00",
    }
    body.update(changes)
    return body


def inquiry_body(account: Account, **changes) -> dict:
    body: dict[str, Any] = va(account) | {"inquiryRequestId": "PRQ-20250101-0001"}
    body.update(changes)
    return body


def balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance
