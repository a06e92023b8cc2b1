"""The cashier's counter: cash-in, cash-out with the citizen's PIN, receipts, the day."""

import re

import pytest
from django.conf import settings
from django.test import Client

from kotacerdas.accounts.services import create_user
from kotacerdas.wallet import pins, services
from kotacerdas.wallet.models import Account, AccountKind, Transfer

from .conftest import fund

pytestmark = pytest.mark.django_db

PIN = "135790"
COUNTER = "/wallet/counter/"
CASH_IN = "/wallet/counter/cash-in/"
CASH_OUT = "/wallet/counter/cash-out/"


def text(response) -> str:
    return response.content.decode()


def reload(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def cashier(signed_in) -> Client:
    return english(signed_in("cashier"))


@pytest.fixture
def citizen_wallet(city) -> Account:
    """The wallet of Siti Rahmawati, who has a payment PIN."""
    user = create_user("siti", "siti-password-1", ["citizen"])
    user.first_name, user.last_name = "Siti", "Rahmawati"
    user.save()
    pins.set_pin(user, PIN)
    account = services.wallet_for(user)
    assert account is not None
    return account


def hidden_fields(response) -> dict[str, str]:
    page = text(response)
    fields = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    )
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def counter(client: Client, url: str, number: str, amount: str, **extra: str):
    """Review a counter transfer, then confirm it; return both responses."""
    first = client.post(url, {"number": number, "amount": amount})
    return first, client.post(url, {**hidden_fields(first), **extra})


# Cash-in ------------------------------------------------------------------------------


def test_cash_in_review_masks_name(cashier, citizen_wallet):
    page = text(
        cashier.post(CASH_IN, {"number": citizen_wallet.number, "amount": "50000"})
    )

    assert 'data-testid="holder-name">S*** R********<' in page
    assert "Rahmawati" not in page
    assert 'name="pin"' not in page


def test_cash_in_credits_wallet(cashier, citizen_wallet, personas):
    _first, response = counter(cashier, CASH_IN, citizen_wallet.number, "50.000")

    transfer = Transfer.objects.get(kind="topup")
    assert response.status_code == 302
    assert response["Location"] == f"/wallet/counter/receipts/{transfer.reference}/"
    assert reload(citizen_wallet).balance == 50_000
    assert transfer.channel == "counter"
    assert transfer.actor == f"user:{personas['cashier'].pk}"


def test_counter_receipt_is_printable(cashier, citizen_wallet):
    _first, response = counter(cashier, CASH_IN, citizen_wallet.number, "50000")

    page = text(cashier.get(response["Location"]))

    transfer = Transfer.objects.get(kind="topup")
    assert 'data-testid="receipt-amount">Rp50,000<' in page
    assert "window.print()" in page
    assert "Cash-in done" in page
    assert f"/receipts/{transfer.reference}/" in page


def test_cash_in_double_submit_once(cashier, citizen_wallet):
    first = cashier.post(CASH_IN, {"number": citizen_wallet.number, "amount": "50000"})
    data = hidden_fields(first)

    one = cashier.post(CASH_IN, data)
    two = cashier.post(CASH_IN, data)

    assert one["Location"] == two["Location"]
    assert Transfer.objects.filter(kind="topup").count() == 1
    assert reload(citizen_wallet).balance == 50_000


def test_cash_in_above_unregistered_cap(cashier, citizen_wallet):
    fund(citizen_wallet, 1_500_000)

    _first, response = counter(cashier, CASH_IN, citizen_wallet.number, "600000")

    page = text(response)
    assert response.status_code == 400
    assert "balance limit of Rp2,000,000 for unregistered wallets" in page
    assert reload(citizen_wallet).balance == 1_500_000


def test_cash_in_unknown_wallet(cashier, city):
    response = cashier.post(CASH_IN, {"number": "880012345679", "amount": "1000"})

    assert "No citizen wallet has the number 8800 1234 5679." in text(response)


def test_cash_in_bad_check_digit(cashier, citizen_wallet):
    number = citizen_wallet.number
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)

    response = cashier.post(CASH_IN, {"number": typo, "amount": "1000"})

    assert "last digit does not match the others" in text(response)


def test_cash_in_to_merchant_rejected(cashier, city):
    shop = services.open_account(AccountKind.MERCHANT, label="Warung")

    response = cashier.post(CASH_IN, {"number": shop.number, "amount": "1000"})

    assert "No citizen wallet has the number" in text(response)


# Cash-out -------------------------------------------------------------------------------


def test_cash_out_asks_for_pin(cashier, citizen_wallet):
    fund(citizen_wallet, 100_000)

    page = text(
        cashier.post(CASH_OUT, {"number": citizen_wallet.number, "amount": "30000"})
    )

    assert 'name="pin"' in page
    assert "they type their payment PIN themselves" in page


def test_cash_out_with_pin(cashier, citizen_wallet):
    fund(citizen_wallet, 100_000)

    _first, response = counter(
        cashier, CASH_OUT, citizen_wallet.number, "30000", pin=PIN
    )

    transfer = Transfer.objects.get(kind="withdrawal")
    assert response.status_code == 302
    assert reload(citizen_wallet).balance == 70_000
    assert transfer.credit_account == services.settlement_account()
    assert transfer.channel == "counter"


def test_cash_out_wrong_pin(cashier, citizen_wallet):
    fund(citizen_wallet, 100_000)

    _first, response = counter(
        cashier, CASH_OUT, citizen_wallet.number, "30000", pin="999999"
    )

    assert "Wrong PIN. 2 tries left before the PIN locks." in text(response)
    assert reload(citizen_wallet).balance == 100_000


def test_cash_out_needs_pin(cashier, citizen_wallet):
    fund(citizen_wallet, 100_000)

    _first, response = counter(
        cashier, CASH_OUT, citizen_wallet.number, "30000", pin=""
    )

    assert "Enter the 6-digit PIN." in text(response)


def test_cash_out_insufficient_balance(cashier, citizen_wallet):
    fund(citizen_wallet, 10_000)

    _first, response = counter(
        cashier, CASH_OUT, citizen_wallet.number, "30000", pin=PIN
    )

    assert "The balance is not enough: Rp10,000 is available." in text(response)
    assert not Transfer.objects.filter(kind="withdrawal").exists()


def test_cash_out_wallet_without_holder(cashier, city):
    account = services.open_account(AccountKind.CITIZEN)
    fund(account, 10_000)

    _first, response = counter(cashier, CASH_OUT, account.number, "5000", pin=PIN)

    assert "This wallet has no payment PIN yet." in text(response)
    assert reload(account).balance == 10_000


def test_closed_loop_blocks_cash_out(cashier, city, citizen_wallet):
    wallet_settings = {**city.settings["wallet"], "mode": "closed_loop"}
    city.settings = {**city.settings, "wallet": wallet_settings}
    city.save()
    fund(citizen_wallet, 100_000)

    form_page = text(cashier.get(CASH_OUT))
    posted = text(
        cashier.post(
            CASH_OUT,
            {"number": citizen_wallet.number, "amount": "30000", "pin": PIN},
        )
    )
    counter_page = text(cashier.get(COUNTER))

    assert "closed-loop city credit" in form_page
    assert "so withdrawal is not available" in posted
    assert 'data-testid="mode-blocked"' in counter_page
    assert reload(citizen_wallet).balance == 100_000


# The day ----------------------------------------------------------------------------------


def test_day_totals_and_net_cash(cashier, citizen_wallet):
    counter(cashier, CASH_IN, citizen_wallet.number, "100000")
    counter(cashier, CASH_OUT, citizen_wallet.number, "30000", pin=PIN)

    page = text(cashier.get(COUNTER))

    assert page.count('data-testid="counter-row"') == 2
    assert 'data-testid="cash-in-total">Rp100,000<' in page
    assert 'data-testid="cash-out-total">Rp30,000<' in page
    assert 'data-testid="net-cash">Rp70,000<' in page


def test_day_leaves_out_other_cashiers(cashier, citizen_wallet, city):
    other = create_user("kasir-2", "kasir-password-1", ["cashier"])
    services.top_up(
        citizen_wallet.number,
        40_000,
        transfer_id="other-cashier-1",
        channel="counter",
        actor=f"user:{other.pk}",
    )

    page = text(cashier.get(COUNTER))

    assert 'data-testid="counter-row"' not in page
    assert 'data-testid="cash-in-total">Rp0<' in page


def test_day_of_another_date(cashier, citizen_wallet):
    counter(cashier, CASH_IN, citizen_wallet.number, "100000")

    page = text(cashier.get(COUNTER, {"day": "2001-01-01"}))

    assert 'data-testid="counter-row"' not in page


def test_day_rejects_bad_date(cashier, citizen_wallet):
    page = text(cashier.get(COUNTER, {"day": "31-01-2025"}))

    assert "Enter the day as YYYY-MM-DD, such as 2025-03-31." in page


def test_receipt_of_other_cashier_is_404(cashier, citizen_wallet, city):
    other = create_user("kasir-2", "kasir-password-1", ["cashier"])
    transfer = services.top_up(
        citizen_wallet.number,
        40_000,
        transfer_id="other-cashier-1",
        channel="counter",
        actor=f"user:{other.pk}",
    )

    response = cashier.get(f"/wallet/counter/receipts/{transfer.reference}/")

    assert response.status_code == 404
