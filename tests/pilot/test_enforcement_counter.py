"""Counter cash and QR reading check the wallet's area when the wallet runs only in pilots.

A counter serves customers from every area, so the check is on the target
wallet's address: Pasar Usang is in the pilot, Ganting is not.
"""

import itertools
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from kotacerdas.pilot.services import Service
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, TransferKind

from .test_enforcement import (
    INSIDE,
    OUTSIDE,
    PIN,
    _english,  # noqa: F401 (autouse fixture: English messages)
    assert_api_rejected,
    client_of,
    resident_of,
    switch_on_only_in_pilot,
)

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
FUNDED = 100_000


def balance(user: object) -> int:
    account = wallet.wallet_for(user)
    assert account is not None
    return Account.objects.get(pk=account.pk).balance


def number_of(user: object) -> str:
    account = wallet.wallet_for(user)
    assert account is not None
    return account.number


def post_json(client: Client, path: str, body: dict) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


def hidden_fields(response) -> dict[str, str]:
    page = response.content.decode()
    fields = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    )
    fields.pop("csrfmiddlewaretoken", None)
    return fields


@pytest.fixture
def pilot_residents(city) -> tuple[object, object]:
    switch_on_only_in_pilot(Service.WALLET)
    insider, _household = resident_of(INSIDE)
    outsider, _household = resident_of(OUTSIDE)
    return insider, outsider


def test_api_cash_in_checks_wallet_area(signed_in, pilot_residents) -> None:
    insider, outsider = pilot_residents
    cashier = signed_in("cashier")

    accepted = post_json(
        cashier,
        "/api/wallet/counter/cash-in",
        {"id": f"cin-{next(_ids)}", "wallet": number_of(insider), "amount": 5_000},
    )
    rejected = post_json(
        cashier,
        "/api/wallet/counter/cash-in",
        {"id": f"cin-{next(_ids)}", "wallet": number_of(outsider), "amount": 5_000},
    )

    assert accepted.status_code == 201
    assert balance(insider) == FUNDED + 5_000
    assert_api_rejected(rejected, "Wallet", "Ganting")
    assert balance(outsider) == FUNDED


def test_api_cash_out_checks_wallet_area(signed_in, pilot_residents) -> None:
    insider, outsider = pilot_residents
    cashier = signed_in("cashier")

    accepted = post_json(
        cashier,
        "/api/wallet/counter/cash-out",
        {
            "id": f"cout-{next(_ids)}",
            "wallet": number_of(insider),
            "amount": 5_000,
            "pin": PIN,
        },
    )
    rejected = post_json(
        cashier,
        "/api/wallet/counter/cash-out",
        {
            "id": f"cout-{next(_ids)}",
            "wallet": number_of(outsider),
            "amount": 5_000,
            "pin": PIN,
        },
    )

    assert accepted.status_code == 201
    assert balance(insider) == FUNDED - 5_000
    assert_api_rejected(rejected, "Wallet", "Ganting")
    assert balance(outsider) == FUNDED


@pytest.mark.parametrize("kind", [TransferKind.TOPUP, TransferKind.WITHDRAWAL])
def test_counter_page_checks_wallet_area(signed_in, pilot_residents, kind) -> None:
    insider, outsider = pilot_residents
    cashier = signed_in("cashier")
    url = reverse(
        "wallet:counter_cash_in"
        if kind == TransferKind.TOPUP
        else "wallet:counter_cash_out"
    )
    extra = {} if kind == TransferKind.TOPUP else {"pin": PIN}

    review = cashier.post(url, {"number": number_of(insider), "amount": "5000"})
    done = cashier.post(url, {**hidden_fields(review), **extra})
    rejected = cashier.post(url, {"number": number_of(outsider), "amount": "5000"})
    confirm_outside = cashier.post(
        url,
        {
            "number": number_of(outsider),
            "amount": "5000",
            "step": "confirm",
            "transfer_id": f"page-{next(_ids)}",
            **extra,
        },
    )
    text = rejected.content.decode()

    assert review.status_code == 200
    assert done.status_code == 302
    assert balance(insider) != FUNDED
    assert rejected.status_code == 400
    assert "Wallet is not available in" in text
    assert "Ganting" in text
    assert confirm_outside.status_code == 400
    assert balance(outsider) == FUNDED


def test_qr_parse_checks_caller_area(pilot_residents) -> None:
    insider, outsider = pilot_residents
    body = {"payload": "not a QR code"}

    inside = post_json(client_of(insider), "/api/wallet/qr/parse", body)
    outside = post_json(client_of(outsider), "/api/wallet/qr/parse", body)

    # The switch lets the insider through to the payload check.
    assert inside.status_code == 422
    assert_api_rejected(outside, "Wallet", "Ganting")
