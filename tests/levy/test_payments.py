"""Paying bills: from a wallet or at the counter, in part, once per transfer id."""

import pytest
from django.core.management import call_command

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.levy import billing, services
from kotacerdas.levy.models import Bill, Payment
from kotacerdas.levy.services import LevyError
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, Transfer

from .conftest import payloads

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill(house) -> Bill:
    billing.run_billing("2026-12")
    return Bill.objects.get(household=house.household)


@pytest.fixture
def payer(citizen_of, house):
    return citizen_of(house.household, balance=50_000)


def balance(account_number: str) -> int:
    return Account.objects.get(number=account_number).balance


def test_partial_payments_move_status(bill, payer):
    number = wallet.wallet_for(payer).number

    services.pay_from_wallet(bill, payer, amount=2_500, transfer_id="pay-1")
    bill.refresh_from_db()
    assert (bill.status, bill.paid_amount, bill.outstanding) == (
        "partly_paid",
        2_500,
        5_000,
    )

    services.pay_from_wallet(bill, payer, amount="5.000", transfer_id="pay-2")
    bill.refresh_from_db()
    assert (bill.status, bill.paid_amount, bill.outstanding) == ("paid", 7_500, 0)
    assert balance(number) == 50_000 - 7_500
    assert services.revenue_account().balance == 7_500


def test_overpay_rejected_naming_amount(bill, payer):
    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, payer, amount=8_000, transfer_id="pay-1")

    assert caught.value.field == "amount"
    assert caught.value.code == "exceeds_outstanding"
    assert caught.value.message == (
        "The amount Rp8,000 is more than the Rp7,500 still owed on bill "
        f"{bill.number}. Enter at most Rp7,500."
    )
    assert not Payment.objects.exists()
    assert not Transfer.objects.filter(kind="levy").exists()


def test_paid_bill_rejects_more(bill, payer):
    services.pay_from_wallet(bill, payer, amount=7_500, transfer_id="pay-1")

    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, payer, amount=1, transfer_id="pay-2")

    assert caught.value.code == "bill_paid"
    assert bill.number in caught.value.message


@pytest.mark.parametrize("typed", ["0", "-5", "7500.50", "abc", "", None, 1.5])
def test_invalid_amount_rejected(bill, payer, typed):
    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, payer, amount=typed, transfer_id="pay-1")

    assert caught.value.field == "amount"
    assert caught.value.message in (
        "Enter the amount as a whole number of rupiah, such as 7500.",
        "Enter an amount of at least Rp1.",
    )


def test_same_transfer_id_pays_once(bill, payer):
    first = services.pay_from_wallet(bill, payer, amount=3_000, transfer_id="pay-1")
    again = services.pay_from_wallet(bill, payer, amount=3_000, transfer_id="pay-1")

    bill.refresh_from_db()
    assert again.pk == first.pk
    assert bill.paid_amount == 3_000
    assert Payment.objects.count() == 1


def test_reused_transfer_id_other_amount_rejected(bill, payer):
    services.pay_from_wallet(bill, payer, amount=3_000, transfer_id="pay-1")

    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, payer, amount=4_000, transfer_id="pay-1")

    assert caught.value.field == "transfer_id"
    assert caught.value.code == "id_conflict"


def test_short_balance_rejected_nothing_written(bill, citizen_of, house):
    user = citizen_of(house.household, balance=1_000)

    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, user, amount=7_500, transfer_id="pay-1")

    bill.refresh_from_db()
    assert caught.value.code == "exceeds_balance"
    assert caught.value.field == "amount"
    assert "Rp1,000 is available" in caught.value.message
    assert bill.paid_amount == 0
    assert not Payment.objects.exists()


def test_counter_payment_debits_settlement(bill):
    settlement = wallet.settlement_account().number
    before = balance(settlement)

    payment = services.pay_at_counter(
        bill, amount=7_500, transfer_id="counter-1", actor="user:9"
    )

    bill.refresh_from_db()
    assert bill.status == "paid"
    assert payment.channel == "counter"
    assert payment.transfer.channel == "counter"
    assert payment.transfer.memo == bill.number
    assert balance(settlement) == before - 7_500


def test_payment_event_links_transfer(bill, payer):
    payment = services.pay_from_wallet(bill, payer, amount=2_000, transfer_id="pay-1")

    assert payloads("levy.payment.recorded") == [
        {
            "bill_id": bill.pk,
            "number": bill.number,
            "amount": 2_000,
            "transfer_client_id": "pay-1",
            "transfer_reference": payment.transfer.reference,
            "channel": "app",
            "paid_amount": 2_000,
            "status": "partly_paid",
        }
    ]


def test_cancelled_bill_cannot_be_paid(bill, payer):
    services.cancel_bill(bill, "duplicate")

    with pytest.raises(LevyError) as caught:
        services.pay_from_wallet(bill, payer, amount=100, transfer_id="pay-1")

    assert caught.value.code == "bill_cancelled"


def test_bill_with_payments_cannot_be_cancelled(bill, payer):
    services.pay_from_wallet(bill, payer, amount=100, transfer_id="pay-1")

    with pytest.raises(LevyError) as caught:
        services.cancel_bill(bill, "duplicate")

    bill.refresh_from_db()
    assert caught.value.code == "bill_has_payments"
    assert bill.status == "partly_paid"


def test_unknown_cancel_reason_rejected(bill):
    with pytest.raises(LevyError) as caught:
        services.cancel_bill(bill, "because")

    assert caught.value.field == "reason"


def test_verify_passes_then_catches_edited_paid_amount(bill, payer):
    services.pay_from_wallet(bill, payer, amount=2_000, transfer_id="pay-1")
    call_command("ledger", "seal")
    assert verify_ledger(node_verifier()).ok

    Bill.objects.filter(pk=bill.pk).update(paid_amount=7_500, status="paid")
    report = verify_ledger(node_verifier())

    assert not report.ok
    assert any(
        f"levy bill {bill.pk}" in problem and "paid_amount is 7500" in problem
        for problem in report.problems
    )


def test_verify_catches_edited_tariff(bill):
    call_command("ledger", "seal")
    bill.tariff.__class__.objects.filter(pk=bill.tariff_id).update(monthly_amount=1)

    report = verify_ledger(node_verifier())

    assert not report.ok
    assert any("levy tariff" in p and "monthly_amount" in p for p in report.problems)
