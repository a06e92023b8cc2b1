"""The citizen's wallet pages: balance, history, PIN and transfers.

Pages are read in English. The money moves through the real core services,
and each error path checks the message shown to the citizen and that no money
moved.
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.conftest import PASSWORD

from kotacerdas.accounts.services import create_user
from kotacerdas.wallet import pins, services
from kotacerdas.wallet.models import Account, AccountKind, Tier, Transfer
from kotacerdas.wallet.numbers import format_wallet_number

from .conftest import fund

pytestmark = pytest.mark.django_db

PIN = "135790"
HOME = "/wallet/"
TRANSFER = "/wallet/transfer/"
PIN_PAGE = "/wallet/pin/"


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


def reload(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


@pytest.fixture
def citizen_user(personas):
    return personas["citizen"]


@pytest.fixture
def client(signed_in) -> Client:
    return english(signed_in("citizen"))


@pytest.fixture
def wallet(citizen_user) -> Account:
    account = services.wallet_for(citizen_user)
    assert account is not None
    return account


@pytest.fixture
def with_pin(citizen_user) -> None:
    pins.set_pin(citizen_user, PIN)


@pytest.fixture
def payee(city) -> Account:
    """Another citizen's wallet, held by a user named Siti Rahmawati."""
    user = create_user("siti", "siti-password-1", ["citizen"])
    user.first_name, user.last_name = "Siti", "Rahmawati"
    user.save()
    account = services.wallet_for(user)
    assert account is not None
    return account


def set_mode(city, mode: str) -> None:
    city.settings = {
        **city.settings,
        "wallet": {**city.settings["wallet"], "mode": mode},
    }
    city.save()


def review(client: Client, number: str, amount: str, note: str = ""):
    return client.post(TRANSFER, {"number": number, "amount": amount, "note": note})


def confirm_data(response) -> dict[str, str]:
    """Return the hidden fields of a rendered confirmation form."""
    page = text(response)
    fields = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    )
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def send(client: Client, payee: Account, amount: str, pin: str = PIN, **extra):
    """Review a transfer, then confirm it with the PIN; return both responses."""
    first = review(client, payee.number, amount)
    data = {**confirm_data(first), "pin": pin, **extra}
    return first, client.post(TRANSFER, data)


# The wallet page ---------------------------------------------------------------


def test_home_shows_balance_and_number(client, wallet):
    fund(wallet, 50_000)

    page = text(client.get(HOME))

    assert "Rp50,000" in page
    assert format_wallet_number(wallet.number) in page


def test_home_shows_month_used(client, wallet):
    fund(wallet, 30_000)

    page = text(client.get(HOME))

    assert "Taken in this month: Rp30,000 of Rp20,000,000" in page


def test_unregistered_wallet_shows_notice(client, wallet):
    page = text(client.get(HOME))

    assert 'data-testid="unregistered-notice"' in page
    assert "may hold at most Rp2,000,000" in page
    assert "up to Rp20,000,000" in page


def test_registered_wallet_has_no_notice(client, wallet):
    services.change_account(wallet, tier=Tier.REGISTERED)

    page = text(client.get(HOME))

    assert 'data-testid="unregistered-notice"' not in page
    assert "Balance limit: Rp20,000,000" in page


def test_home_asks_to_set_pin(client, wallet):
    page = text(client.get(HOME))

    assert 'data-testid="no-pin"' in page


def test_frozen_wallet_shows_status(client, wallet):
    services.change_account(wallet, status="frozen")

    page = text(client.get(HOME))

    assert "This wallet is Frozen" in page


# History ------------------------------------------------------------------------


@pytest.fixture
def sent(client, wallet, payee, with_pin) -> Transfer:
    fund(wallet, 100_000)
    _first, response = send(client, payee, "20000")
    assert response.status_code == 302
    return Transfer.objects.get(kind="transfer")


def test_history_links_each_receipt(client, sent):
    page = text(client.get(HOME))

    assert f'href="/receipts/{sent.reference}/"' in page
    assert page.count('data-testid="history-row"') == 2


def test_history_filters_by_kind(client, sent):
    page = text(client.get(HOME, {"kind": "transfer"}))

    assert page.count('data-testid="history-row"') == 1
    assert 'data-kind="transfer"' in page
    assert 'data-kind="topup"' not in page


def test_history_filters_by_month(client, sent):
    page = text(client.get(HOME, {"month": "2001-01"}))

    assert 'data-testid="history-empty"' in page


def test_history_rejects_bad_month(client, sent):
    page = text(client.get(HOME, {"month": "2025-13"}))

    assert "Enter the month as YYYY-MM, such as 2025-03." in page
    assert page.count('data-testid="history-row"') == 2


def test_history_masks_payee_name(client, sent):
    page = text(client.get(HOME))

    assert "S*** R********" in page
    assert "Rahmawati" not in page


def test_history_paginates(client, wallet):
    for _ in range(23):
        fund(wallet, 1_000)

    first = text(client.get(HOME))
    second = text(client.get(HOME, {"page": "2"}))

    assert first.count('data-testid="history-row"') == 20
    assert second.count('data-testid="history-row"') == 3


def test_history_htmx_returns_partial(client, sent):
    page = text(client.get(HOME, {"kind": "transfer"}, HTTP_HX_REQUEST="true"))

    assert "<html" not in page
    assert page.count('data-testid="history-row"') == 1


def test_history_leaves_out_others_transfers(client, wallet, payee, city):
    other = services.open_account(AccountKind.CITIZEN)
    fund(other, 5_000)
    fund(payee, 7_000)

    page = text(client.get(HOME))

    assert 'data-testid="history-empty"' in page


# The PIN ------------------------------------------------------------------------


def test_first_pin_is_set(client, citizen_user, wallet):
    response = client.post(PIN_PAGE, {"new_pin": PIN, "new_pin_again": PIN})

    assert response.status_code == 302
    pins.check_pin(citizen_user, PIN)


def test_pin_change_needs_current(client, with_pin):
    response = client.post(PIN_PAGE, {"new_pin": "246813", "new_pin_again": "246813"})

    assert "Enter the 6-digit PIN." in text(response)


def test_pin_change_wrong_current_counts(client, citizen_user, with_pin):
    response = client.post(
        PIN_PAGE,
        {"current_pin": "999888", "new_pin": "246813", "new_pin_again": "246813"},
    )

    assert "Wrong PIN. 2 tries left before the PIN locks." in text(response)
    pins.check_pin(citizen_user, PIN)


def test_pin_change_with_current(client, citizen_user, with_pin):
    response = client.post(
        PIN_PAGE,
        {"current_pin": PIN, "new_pin": "246813", "new_pin_again": "246813"},
    )

    assert response.status_code == 302
    pins.check_pin(citizen_user, "246813")


def test_pin_rejects_mismatch(client, wallet):
    response = client.post(PIN_PAGE, {"new_pin": PIN, "new_pin_again": "135791"})

    assert "The two new PINs differ. Type the same 6 digits twice." in text(response)


def test_pin_rejects_weak_pin(client, wallet):
    response = client.post(PIN_PAGE, {"new_pin": "123456", "new_pin_again": "123456"})

    assert "This PIN is too easy to guess." in text(response)


def test_pin_rejects_letters(client, wallet):
    response = client.post(PIN_PAGE, {"new_pin": "12ab56", "new_pin_again": "12ab56"})

    assert "The PIN is exactly 6 digits. Enter it again." in text(response)


# Transfers: the first step --------------------------------------------------------


def test_review_shows_masked_payee(client, wallet, payee, with_pin):
    fund(wallet, 50_000)

    page = text(review(client, payee.number, "25.000"))

    assert 'data-testid="payee-name">S*** R********<' in page
    assert "Rp25,000" in page
    assert "Rahmawati" not in page


def test_review_rejects_check_digit(client, wallet, payee):
    digits = payee.number[:-1] + str((int(payee.number[-1]) + 1) % 10)

    response = review(client, digits, "1000")

    assert response.status_code == 400
    assert "last digit does not match the others" in text(response)


def test_review_rejects_short_number(client, wallet):
    response = review(client, "8800 1234", "1000")

    assert "The wallet number must be 12 digits" in text(response)


def test_review_rejects_unknown_wallet(client, wallet):
    response = review(client, "880012345679", "1000")

    assert "No wallet has the number 8800 1234 5679." in text(response)


def test_review_rejects_own_number(client, wallet):
    response = review(client, wallet.number, "1000")

    assert "This is your own wallet number." in text(response)


def test_review_rejects_merchant_number(client, wallet, city):
    shop = services.open_account(AccountKind.MERCHANT, label="Warung")

    response = review(client, shop.number, "1000")

    assert "not a citizen wallet" in text(response)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("7.5", "Enter the amount in whole rupiah, such as 25000 or 25.000."),
        ("7,50", "Enter the amount in whole rupiah, such as 25000 or 25.000."),
        ("-100", "Enter the amount in whole rupiah, such as 25000 or 25.000."),
        ("0", "The amount must be above zero."),
        ("", "Enter the amount in rupiah."),
    ],
)
def test_review_rejects_bad_amount(client, wallet, payee, typed, message):
    response = review(client, payee.number, typed)

    assert response.status_code == 400
    assert message in text(response)


def test_review_rejects_nik_in_note(client, wallet, payee):
    response = review(client, payee.number, "1000", note="1374024708950001")

    assert "must not contain a NIK" in text(response)


# Transfers: confirming with the PIN -------------------------------------------------


def test_transfer_moves_money(client, wallet, payee, with_pin):
    fund(wallet, 50_000)

    _first, response = send(client, payee, "20000")

    transfer = Transfer.objects.get(kind="transfer")
    assert response.status_code == 302
    assert response["Location"] == reverse("wallet:done", args=[transfer.reference])
    assert reload(wallet).balance == 30_000
    assert reload(payee).balance == 20_000
    assert transfer.actor == f"user:{wallet.holder_id}"


def test_done_page_links_receipt(client, wallet, payee, with_pin):
    fund(wallet, 50_000)
    _first, response = send(client, payee, "20000")

    page = text(client.get(response["Location"]))

    transfer = Transfer.objects.get(kind="transfer")
    assert f'href="/receipts/{transfer.reference}/"' in page
    assert "Transfer done." in page
    assert "S*** R********" in page


def test_wrong_pin_counts_down(client, wallet, payee, with_pin):
    fund(wallet, 50_000)

    _first, response = send(client, payee, "20000", pin="999999")

    assert response.status_code == 400
    assert "Wrong PIN. 2 tries left before the PIN locks." in text(response)
    assert reload(wallet).balance == 50_000


def test_third_wrong_pin_locks(client, wallet, payee, with_pin):
    fund(wallet, 50_000)
    first = review(client, payee.number, "20000")
    data = confirm_data(first)

    for _ in range(2):
        client.post(TRANSFER, {**data, "pin": "999999"})
    locked = client.post(TRANSFER, {**data, "pin": "999999"})
    after = client.post(TRANSFER, {**data, "pin": PIN})

    assert "Wrong PIN. The PIN is now locked until " in text(locked)
    assert "The PIN is locked after too many wrong tries, until " in text(after)
    assert reload(wallet).balance == 50_000
    assert not Transfer.objects.filter(kind="transfer").exists()


def test_confirm_keeps_amount_after_error(client, wallet, payee, with_pin):
    fund(wallet, 50_000)

    _first, response = send(client, payee, "20000", pin="999999")

    page = text(response)
    assert 'name="amount" value="20000"' in page
    assert f'name="number" value="{payee.number}"' in page


def test_insufficient_balance_message(client, wallet, payee, with_pin):
    fund(wallet, 5_000)

    _first, response = send(client, payee, "20000")

    assert "The balance is not enough: Rp5,000 is available." in text(response)
    assert reload(payee).balance == 0


def test_payee_balance_cap_message(client, wallet, payee, with_pin):
    services.change_account(wallet, tier=Tier.REGISTERED)
    fund(wallet, 600_000)
    fund(payee, 1_900_000)

    _first, response = send(client, payee, "500000")

    page = text(response)
    assert "balance limit of Rp2,000,000 for unregistered wallets" in page
    assert reload(wallet).balance == 600_000


def test_double_submit_pays_once(client, wallet, payee, with_pin):
    fund(wallet, 50_000)
    first = review(client, payee.number, "20000")
    data = {**confirm_data(first), "pin": PIN}

    one = client.post(TRANSFER, data)
    two = client.post(TRANSFER, data)

    assert one.status_code == two.status_code == 302
    assert one["Location"] == two["Location"]
    assert Transfer.objects.filter(kind="transfer").count() == 1
    assert reload(wallet).balance == 30_000


def test_reused_form_with_new_amount(client, wallet, payee, with_pin):
    fund(wallet, 50_000)
    first = review(client, payee.number, "20000")
    data = {**confirm_data(first), "pin": PIN}
    client.post(TRANSFER, data)

    response = client.post(TRANSFER, {**data, "amount": "10000"})

    page = text(response)
    assert "This form was already sent for another payment." in page
    assert f'value="{data["transfer_id"]}"' not in page
    assert Transfer.objects.filter(kind="transfer").count() == 1


def test_tampered_transfer_id_rejected(client, wallet, payee, with_pin):
    fund(wallet, 50_000)
    first = review(client, payee.number, "20000")
    data = {**confirm_data(first), "pin": PIN, "transfer_id": "bad id!"}

    response = client.post(TRANSFER, data)

    assert "This form is out of date." in text(response)
    assert not Transfer.objects.filter(kind="transfer").exists()


# The step-up above the configured amount ----------------------------------------------


@pytest.fixture
def rich(wallet, with_pin) -> Account:
    services.change_account(wallet, tier=Tier.REGISTERED)
    fund(wallet, 3_000_000)
    return wallet


def test_step_up_asks_for_password(client, rich, payee):
    first = review(client, payee.number, "1500000")

    assert 'name="password"' in text(first)


def test_small_transfer_has_no_password(client, rich, payee):
    first = review(client, payee.number, "15000")

    assert 'name="password"' not in text(first)


def test_step_up_without_password(client, rich, payee):
    services.change_account(payee, tier=Tier.REGISTERED)

    _first, response = send(client, payee, "1500000")

    assert "Payments above Rp1,000,000 also need your account password." in text(
        response
    )
    assert reload(rich).balance == 3_000_000


def test_step_up_wrong_password(client, rich, payee):
    services.change_account(payee, tier=Tier.REGISTERED)

    _first, response = send(client, payee, "1500000", password="not-the-password")

    assert "The account password is wrong." in text(response)
    assert reload(rich).balance == 3_000_000


def test_step_up_with_password(client, rich, payee):
    services.change_account(payee, tier=Tier.REGISTERED)

    _first, response = send(client, payee, "1500000", password=PASSWORD)

    assert response.status_code == 302
    assert reload(rich).balance == 1_500_000


# The operating mode ---------------------------------------------------------------------


def test_closed_loop_blocks_transfers(client, city, wallet, payee, with_pin):
    set_mode(city, "closed_loop")
    fund(wallet, 50_000)

    page = text(client.get(TRANSFER))
    posted = text(review(client, payee.number, "1000"))

    assert "closed-loop city credit" in page
    assert 'name="number"' not in page
    assert "closed-loop city credit" in posted
    assert not Transfer.objects.filter(kind="transfer").exists()


def test_done_page_of_other_wallet_is_404(client, wallet, payee, city):
    other = services.open_account(AccountKind.CITIZEN)
    fund(other, 5_000)
    foreign = Transfer.objects.get(credit_account=other)

    response = client.get(reverse("wallet:done", args=[foreign.reference]))

    assert response.status_code == 404
