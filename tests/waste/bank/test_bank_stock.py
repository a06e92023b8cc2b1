"""Stock from posted deposits, sales to off-takers and the replay checker."""

import pytest
from django.core.management import call_command

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.waste.bank import sales, services, validation
from kotacerdas.waste.bank.models import Deposit, DepositItem, Offtaker, Sale
from kotacerdas.waste.bank.services import BankError


@pytest.fixture
def stocked(unit, member, teller):
    """Post one deposit of PET and cardboard and void another."""
    kept = services.record_deposit(
        member, [("pet", 3_200), ("cardboard", 1_500)], client_id="s-1", teller=teller
    )
    validation.validate_deposit(kept, teller)
    voided = services.record_deposit(
        member, [("pet", 9_000)], client_id="s-2", teller=teller
    )
    validation.void_deposit(voided, teller, reason=Deposit.Reason.DIRTY)
    return kept


@pytest.fixture
def pengepul(unit, teller) -> Offtaker:
    return sales.add_offtaker(unit, "UD Plastik Jaya", Offtaker.Kind.PENGEPUL, teller)


def test_stock_counts_posted_only(unit, stocked, member, teller):
    services.record_deposit(member, [("pet", 500)], client_id="s-3", teller=teller)

    assert sales.stock_g(unit) == {"cardboard": 1_500, "pet": 3_200}


def test_rejected_item_not_stocked(unit, member, teller):
    deposit = services.record_deposit(
        member, [("pet", 1_000), ("hdpe", 700)], client_id="s-4", teller=teller
    )
    validation.validate_deposit(deposit, teller, rejected_items=[1])

    assert sales.stock_g(unit) == {"pet": 1_000}


def test_sale_reduces_stock(unit, stocked, pengepul, teller):
    sale = sales.record_sale(
        pengepul, [("pet", 3_000, 5_500)], client_id="sale-1", user=teller
    )

    assert sale.total_value == 16_500
    assert sale.number.startswith("SARUNAI-S")
    assert sales.stock_g(unit) == {"cardboard": 1_500, "pet": 200}


def test_oversell_refused_with_message(unit, stocked, pengepul, teller):
    with pytest.raises(BankError) as caught:
        sales.record_sale(
            pengepul,
            [("pet", 2_000, 5_500), ("pet", 1_500, 5_500)],
            client_id="sale-2",
            user=teller,
        )

    assert caught.value.code == "exceeds_stock"
    assert caught.value.message == (
        "Only 3.2 kg of PET bottles, clean, label and cap removed is in stock, "
        "not 3.5 kg. Sell at most what is in stock."
    )
    assert Sale.objects.count() == 0


def test_sale_idempotent(unit, stocked, pengepul, teller):
    first = sales.record_sale(
        pengepul, [("pet", 1_000, 5_500)], client_id="sale-3", user=teller
    )
    again = sales.record_sale(
        pengepul, [("pet", 1_000, 5_500)], client_id="sale-3", user=teller
    )

    assert again.pk == first.pk
    assert sales.stock_g(unit)["pet"] == 2_200


def test_offtaker_needs_business_name(unit, teller):
    with pytest.raises(BankError) as caught:
        sales.add_offtaker(unit, "   ", Offtaker.Kind.PENGEPUL, teller)

    assert caught.value.errors[0].field == "business_name"


def test_verify_passes_then_catches_edit(unit, stocked, pengepul, teller):
    sales.record_sale(pengepul, [("pet", 1_000, 5_500)], client_id="s-5", user=teller)
    call_command("ledger", "seal")
    assert verify_ledger(node_verifier()).ok

    item = DepositItem.objects.filter(deposit=stocked).order_by("id").first()
    assert item is not None
    DepositItem.objects.filter(pk=item.pk).update(weight_g=32_000)
    report = verify_ledger(node_verifier())

    assert not report.ok
    assert any(
        f"waste bank deposit {stocked.pk}" in problem and "items is" in problem
        for problem in report.problems
    )


def test_verify_catches_edited_posted_value(unit, stocked):
    call_command("ledger", "seal")
    Deposit.objects.filter(pk=stocked.pk).update(posted_value=14_000)

    report = verify_ledger(node_verifier())

    assert any(
        "posted_value is 14000 but the journal says 14150" in problem
        for problem in report.problems
    )
