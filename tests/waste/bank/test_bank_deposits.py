"""Deposits: valuing at the dated price list, the two-phase wallet credit."""

import math
from datetime import timedelta
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, Transfer, TransferStatus
from kotacerdas.waste.bank import services, validation
from kotacerdas.waste.bank.models import Deposit
from kotacerdas.waste.bank.services import BankError

SCENARIO = [("pet", 3_200), ("cardboard", 1_500)]


def balances(account: Account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.credits_pending, account.credits_posted


@given(
    weight_g=st.integers(min_value=1, max_value=services.MAX_WEIGHT_G),
    price=st.integers(min_value=1, max_value=services.MAX_PRICE_PER_KG),
)
def test_item_value_rounds_half_up(weight_g, price):
    value = services.item_value(weight_g, price)
    exact = Fraction(weight_g * price, 1000)

    assert value == math.floor(exact + Fraction(1, 2))
    assert abs(value - exact) <= Fraction(1, 2)


def test_item_value_examples():
    assert services.item_value(3_200, 4_000) == 12_800
    assert services.item_value(1_500, 900) == 1_350
    assert services.item_value(1, 500) == 1
    assert services.item_value(1, 499) == 0
    assert services.item_value(333, 1_150) == 383


@pytest.mark.parametrize(
    ("text", "unit", "grams"),
    [
        ("3,2", "kg", 3_200),
        ("3.25", "kg", 3_250),
        ("0,001", "kg", 1),
        ("3200", "g", 3_200),
    ],
)
def test_parse_weight_accepts(text, unit, grams):
    assert services.parse_weight_g(text, unit) == grams


@pytest.mark.parametrize(
    ("text", "unit"),
    [("3,2555", "kg"), ("abc", "kg"), ("0", "kg"), ("2,5", "g"), ("", "kg")],
)
def test_parse_weight_rejects(text, unit):
    with pytest.raises(BankError) as caught:
        services.parse_weight_g(text, unit)

    assert caught.value.errors[0].field == "weight"


@given(grams=st.integers(min_value=1, max_value=services.MAX_WEIGHT_G))
@settings(max_examples=200)
def test_parse_weight_round_trips_kg(grams):
    text = f"{grams // 1000},{grams % 1000:03d}"

    assert services.parse_weight_g(text, "kg") == grams


def test_deposit_valued_from_dated_list(unit, member, teller):
    services.set_prices(
        unit, timezone.localdate() + timedelta(days=1), {"pet": 9_999}, actor="test"
    )

    deposit = services.record_deposit(member, SCENARIO, client_id="d-1", teller=teller)

    values = list(deposit.items.order_by("id").values_list("price_per_kg", "value"))
    assert values == [(4_000, 12_800), (900, 1_350)]
    assert deposit.total_value == 14_150
    assert deposit.status == Deposit.Status.PENDING


def test_deposit_pending_then_posted(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-2", teller=teller)

    assert balances(member.account) == (14_150, 0)

    validation.validate_deposit(deposit, teller)

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.POSTED
    assert deposit.posted_value == 14_150
    assert balances(member.account) == (0, 14_150)


def test_partial_post_pays_accepted_items(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-3", teller=teller)

    validation.validate_deposit(deposit, teller, rejected_items=[1])

    deposit.refresh_from_db()
    assert deposit.posted_value == 12_800
    assert list(deposit.items.order_by("id").values_list("accepted", flat=True)) == [
        True,
        False,
    ]
    assert balances(member.account) == (0, 12_800)


def test_void_releases_hold(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-4", teller=teller)

    validation.void_deposit(deposit, teller, reason=Deposit.Reason.DIRTY)

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.VOIDED
    assert deposit.reason == "dirty"
    assert balances(member.account) == (0, 0)


def test_void_needs_reason(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-5", teller=teller)

    with pytest.raises(BankError) as caught:
        validation.void_deposit(deposit, teller, reason="")

    assert caught.value.errors[0].field == "reason"
    assert caught.value.message == "Choose why the deposit is rejected."


def test_rejecting_all_items_voids(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-6", teller=teller)

    validation.validate_deposit(
        deposit, teller, rejected_items=[0, 1], reason=Deposit.Reason.NOT_SORTED
    )

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.VOIDED


def test_second_validation_rejected(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-7", teller=teller)
    validation.validate_deposit(deposit, teller)

    with pytest.raises(BankError) as caught:
        validation.void_deposit(deposit, teller, reason=Deposit.Reason.DIRTY)

    assert caught.value.message == "This deposit is already posted."
    assert balances(member.account) == (0, 14_150)


def test_same_client_id_records_once(unit, member, teller):
    first = services.record_deposit(member, SCENARIO, client_id="d-8", teller=teller)
    again = services.record_deposit(member, SCENARIO, client_id="d-8", teller=teller)

    assert again.pk == first.pk
    assert Deposit.objects.count() == 1
    assert balances(member.account) == (14_150, 0)


def test_client_id_reuse_with_other_items(unit, member, teller):
    services.record_deposit(member, SCENARIO, client_id="d-9", teller=teller)

    with pytest.raises(BankError) as caught:
        services.record_deposit(member, [("pet", 100)], client_id="d-9", teller=teller)

    assert caught.value.code == "id_conflict"


def test_material_without_price_named(unit, member, teller):
    with pytest.raises(BankError) as caught:
        services.record_deposit(
            member,
            [("pet", 100), ("glass-bottles", 500)],
            client_id="d-10",
            teller=teller,
        )

    assert caught.value.errors[0].field == "items-1"
    assert "glass-bottles" in caught.value.message
    assert Deposit.objects.count() == 0


def test_unit_without_money_rejected(unit, member, teller):
    with pytest.raises(BankError) as caught:
        services.record_deposit(
            member, [("copper", 30_000)], client_id="d-11", teller=teller
        )

    assert caught.value.code == "exceeds_balance"
    assert "payout account of Bank Sampah Sarunai" in caught.value.message
    assert Deposit.objects.count() == 0
    assert balances(member.account) == (0, 0)


def test_expired_hold_closes_deposit(unit, member, teller):
    deposit = services.record_deposit(member, SCENARIO, client_id="d-12", teller=teller)
    Transfer.objects.filter(pk=deposit.pending_transfer_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(BankError) as caught:
        validation.validate_deposit(deposit, teller)

    assert caught.value.code == "pending_expired"
    deposit.refresh_from_db()
    # The wallet voids the hold in its own job; the deposit follows it.
    assert deposit.status == Deposit.Status.PENDING
    assert wallet.expire_pending() == 1
    assert validation.close_expired() == 1
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.VOIDED
    assert deposit.reason == Deposit.Reason.EXPIRED
    assert deposit.pending_transfer.status == TransferStatus.EXPIRED
    assert balances(member.account) == (0, 0)


def test_teller_of_other_unit_refused(unit, member, other_unit, teller):
    other_teller = other_unit.tellers.get()

    with pytest.raises(PermissionDenied):
        services.record_deposit(member, SCENARIO, client_id="d-13", teller=other_teller)
    deposit = services.record_deposit(member, SCENARIO, client_id="d-14", teller=teller)
    with pytest.raises(PermissionDenied):
        validation.validate_deposit(deposit, other_teller)


def test_citizen_cannot_record(unit, member, personas):
    unit.tellers.add(personas["citizen"])

    with pytest.raises(PermissionDenied):
        services.record_deposit(
            member, SCENARIO, client_id="d-15", teller=personas["citizen"]
        )
