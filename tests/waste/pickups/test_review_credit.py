"""Reviewing pickups, the missed-pickup levy credit, and the replay checker."""

from datetime import date

import pytest
from django.core.management import call_command

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet.models import Account, Transfer
from kotacerdas.waste.models import Alert, Pickup, ServiceCredit
from kotacerdas.waste.pickups import (
    PickupConflict,
    PickupInvalid,
    record_pickup,
    review_pickup,
)
from kotacerdas.waste.pickups_credit import NoCredit, credit_amount, service_days

from .conftest import FAR_LAT, add_household, payloads, pickup_input, signed_text

pytestmark = pytest.mark.django_db


def pickup_problems() -> list[str]:
    """Return what `ledger verify` reports about pickups and credits.

    The fixtures create sites, vehicles and plans directly, which the other
    waste checkers report; this test is about the pickup checker only.
    """
    report = verify_ledger(node_verifier())
    return [p for p in report.problems if p.startswith("waste-pickups")]


def missed(route, personas, house_index=0, outcome="no_access"):
    return record_pickup(
        pickup_input(
            signed_text(route.houses[house_index]),
            outcome=outcome,
            weight_kg=None,
            reason="road closed for a wedding",
        ),
        personas["collector"],
    ).pickup


def test_service_days_count_schedule_weekdays(route, credit_ready):
    house = route.houses[0]

    # March 2027: Mondays 1,8,15,22,29; Wednesdays 3,10,17,24,31; Fridays
    # 5,12,19,26.
    assert service_days(house, date(2027, 3, 1)) == 14


def test_credit_amount_rounds_down(route, credit_ready):
    amount, reason = credit_amount(route.houses[0], date(2027, 3, 15))

    # Class RT-II, Rp7.500 a month, over 14 service days.
    assert (amount, reason) == (7500 // 14, None)


def test_confirmed_missed_pickup_credits_head(route, personas, credit_ready):
    pickup = missed(route, personas)

    result = review_pickup(
        pickup.pk, "confirm", "road was closed", personas["waste_operator"]
    )

    credit = result.credit.credit
    assert credit is not None
    assert credit.building == route.houses[0]
    assert credit.transfer_client_id == f"waste-credit:{pickup.pk}"
    transfer = Transfer.objects.get(client_id=credit.transfer_client_id)
    assert transfer.kind == "refund"
    assert transfer.credit_account == credit_ready
    assert transfer.amount == credit.amount
    (granted,) = payloads("waste.service_credit.granted")
    assert granted["amount"] == credit.amount
    (reviewed,) = payloads("waste.pickup.reviewed")
    assert reviewed["review"] == "confirmed"
    assert "road" not in str(reviewed)


def test_second_review_rejected(route, personas, credit_ready):
    pickup = missed(route, personas)
    review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    with pytest.raises(PickupConflict):
        review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert ServiceCredit.objects.count() == 1
    assert Transfer.objects.filter(kind="refund").count() == 1


def test_dismissed_pickup_earns_nothing(route, personas, credit_ready):
    pickup = missed(route, personas)

    result = review_pickup(
        pickup.pk, "dismiss", "the gate was open", personas["waste_operator"]
    )

    assert result.pickup.review == Pickup.Review.DISMISSED
    assert result.credit is None
    assert not ServiceCredit.objects.exists()


def test_not_put_out_earns_nothing(route, personas, credit_ready):
    pickup = missed(route, personas, outcome="not_out")

    result = review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert result.credit.reason == NoCredit.NOT_ELIGIBLE
    assert not ServiceCredit.objects.exists()


def test_rule_off_earns_nothing(route, personas, credit_ready, settings):
    settings.KOTACERDAS_MISSED_PICKUP_CREDIT = False
    pickup = missed(route, personas)

    result = review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert result.credit.reason == NoCredit.RULE_OFF
    assert result.pickup.review == Pickup.Review.CONFIRMED


def test_house_without_household_says_why(route, personas, credit_ready):
    pickup = missed(route, personas, house_index=1)

    result = review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert result.credit.reason == NoCredit.NO_HOUSEHOLD
    assert "no household" in result.credit.message


def test_head_without_wallet_says_why(route, personas, credit_ready):
    add_household(route.houses[1])
    pickup = missed(route, personas, house_index=1)

    result = review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert result.credit.reason == NoCredit.NO_WALLET


def test_empty_revenue_account_rejected_transfer(route, personas, credit_ready):
    revenue = Account.objects.get(code="revenue:waste_levy")
    Account.objects.filter(pk=revenue.pk).update(credits_posted=0)
    pickup = missed(route, personas)

    result = review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])

    assert result.credit.reason == NoCredit.TRANSFER_REJECTED
    assert result.pickup.review == Pickup.Review.CONFIRMED
    assert not ServiceCredit.objects.exists()


def test_review_clears_flag_alert(route, personas):
    pickup = record_pickup(
        pickup_input(signed_text(route.houses[0]), lat=FAR_LAT), personas["collector"]
    ).pickup

    review_pickup(
        pickup.pk, "confirm", "GPS drift under trees", personas["waste_operator"]
    )

    assert Alert.objects.get(pickup=pickup).cleared_at is not None


def test_bad_decision_named(route, personas):
    pickup = missed(route, personas)

    with pytest.raises(PickupInvalid) as caught:
        review_pickup(pickup.pk, "approve", "x" * 301, personas["waste_operator"])

    assert [e.field for e in caught.value.errors] == ["decision", "note"]


def test_verify_passes_then_names_edited_pickup(route, personas, credit_ready):
    record_pickup(pickup_input(signed_text(route.houses[1])), personas["collector"])
    flagged = record_pickup(
        pickup_input(signed_text(route.houses[2]), lat=FAR_LAT), personas["collector"]
    ).pickup
    pickup = missed(route, personas, house_index=0)
    review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])
    call_command("ledger", "seal")
    assert pickup_problems() == []

    Pickup.objects.filter(pk=flagged.pk).update(flags="", review="none")
    problems = pickup_problems()

    assert len(problems) == 1
    assert f"pickup {flagged.pk}" in problems[0]
    assert "flags is ''" in problems[0]
    assert "review is 'none'" in problems[0]


def test_verify_names_edited_credit(route, personas, credit_ready):
    pickup = missed(route, personas)
    review_pickup(pickup.pk, "confirm", "", personas["waste_operator"])
    call_command("ledger", "seal")
    ServiceCredit.objects.update(amount=99_999)

    report = verify_ledger(node_verifier())

    assert any(
        "service credit" in p and "amount is 99999" in p for p in report.problems
    )
