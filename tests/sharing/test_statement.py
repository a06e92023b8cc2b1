"""The monthly statement: computed from the journal, reproducible, summing exactly."""

import random

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from tests.sharing.statement_setup import (
    add_cost,
    citizen,
    fix_cost,
    make_pilot,
    merchant,
    new_id,
    pay,
    set_schedule,
    top_up,
)

from kotacerdas.journal import services as journal
from kotacerdas.levy.months import previous_month
from kotacerdas.sharing import statement
from kotacerdas.sharing.statement import (
    FEES_CITY,
    FEES_PARTNER,
    StatementUnavailable,
    compute,
    ledger_movements,
)
from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account
from kotacerdas.wallet.services import TransferRequest

pytestmark = pytest.mark.django_db


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def pilot(city):
    set_schedule(city)
    return make_pilot()


@pytest.fixture
def admin(personas):
    return personas["admin"]


@pytest.fixture
def trading(pilot):
    """Two top-ups and two QR payments above the free threshold, this month."""
    alice, shop = citizen(), merchant()
    top_up(alice, 1_900_000)
    top_up(alice, 1_200_000)
    pay(alice, shop, 1_234_567)
    pay(alice, shop, 600_001)
    return alice, shop


def balance(code):
    return Account.objects.get(code=code).balance


# Revenue and its split -------------------------------------------------------------


def test_revenue_by_fee_code(trading):
    found = compute(this_month(), "city")

    lines = {line.fee_code: line for line in found.revenue}
    assert set(lines) == {"QRIS-UMI", "TOPUP"}
    assert lines["TOPUP"].payments == 2
    assert lines["TOPUP"].fee_rupiah == 2_000
    # 0.3% rounded down: 3703 on 1.234.567 and 1800 on 600.001.
    assert lines["QRIS-UMI"].payments == 2
    assert lines["QRIS-UMI"].fee_rupiah == 3_703 + 1_800
    assert found.fees_rupiah == 2_000 + 5_503


def test_split_sums_to_fees_exactly(trading):
    found = compute(this_month(), "partner")

    for line in found.revenue:
        assert line.city_rupiah + line.partner_rupiah == line.fee_rupiah
    assert found.city_fees_rupiah + found.partner_fees_rupiah == found.fees_rupiah
    # The partner's 60% of each fee is rounded down; the city takes the rest.
    assert found.partner_fees_rupiah == 600 + 600 + 3_703 * 6 // 10 + 1_800 * 6 // 10


def test_many_random_fees_split_exactly(pilot):
    rng = random.Random(20261205)
    alice, shop = citizen(), merchant()
    top_up(alice, 19_000_000)
    amounts = [rng.randint(500_001, 750_000) for _ in range(25)]
    for amount in amounts:
        pay(alice, shop, amount)

    found = compute(this_month(), "city")

    expected_fees = 1_000 + sum(amount * 30 // 10_000 for amount in amounts)
    assert found.fees_rupiah == expected_fees
    assert found.city_fees_rupiah + found.partner_fees_rupiah == expected_fees
    assert found.city_fees_rupiah == balance(FEES_CITY)
    assert found.partner_fees_rupiah == balance(FEES_PARTNER)


def test_totals_equal_fee_account_movement(trading):
    found = compute(this_month(), "city")
    ledger = ledger_movements(this_month())

    assert found.movements == ledger
    assert ledger[FEES_CITY].net_rupiah == found.city_fees_rupiah
    assert ledger[FEES_PARTNER].net_rupiah == found.partner_fees_rupiah
    assert found.shares_match_movements()


def test_payout_counts_as_debit_not_revenue(trading):
    partner = Account.objects.get(code=FEES_PARTNER)
    before = compute(this_month(), "partner")
    payout = TransferRequest(
        id=new_id("payout"),
        debit=partner.number,
        credit=services.settlement_account().number,
        amount=1_000,
        kind="withdrawal",
        channel="bank_va",
    )
    services.submit(payout)

    after = compute(this_month(), "partner")

    assert after.partner_fees_rupiah == before.partner_fees_rupiah
    assert after.movements[FEES_PARTNER].debits_rupiah == 1_000
    assert after.movements == ledger_movements(this_month())


def test_rule_recorded_in_events_is_used(trading, city):
    # A new rule in the profile does not change the split the events recorded.
    set_schedule(city, city_bp=9000)

    found = compute(this_month(), "city")

    assert {(rule.city_bp, rule.partner_bp) for rule in found.rules} == {(4000, 6000)}


# Costs and what is owed -------------------------------------------------------------


def test_costs_divided_and_owed(trading, pilot, admin):
    add_cost(pilot, admin, amount=1_000_001, category="hardware")
    add_cost(pilot, admin, amount=250_000, category="operations")

    found = compute(this_month(), "partner")

    assert found.costs_rupiah == 1_250_001
    # The city takes the remainder rupiah of a fee and bears that of a cost.
    assert [line.city_rupiah for line in found.costs] == [400_001, 100_000]
    assert found.city_costs_rupiah + found.partner_costs_rupiah == found.costs_rupiah
    assert found.owed_to_partner_rupiah == (
        found.partner_fees_rupiah + found.city_costs_rupiah
    )
    assert found.party_net_rupiah == (
        found.partner_fees_rupiah - found.partner_costs_rupiah
    )


def test_cost_counts_in_its_own_month(pilot, admin):
    earlier = previous_month(this_month())
    add_cost(pilot, admin, day=earlier.replace(day=20), amount=700_000)

    assert compute(this_month(), "city").costs == ()
    assert compute(earlier, "city").costs_rupiah == 700_000


def test_correction_replaces_from_its_entry(pilot, admin):
    original = add_cost(pilot, admin, amount=1_500_000)
    before = journal.journal_size()
    fix_cost(original, admin, amount=1_200_000)

    assert compute(this_month(), "city", before).costs_rupiah == 1_500_000
    assert compute(this_month(), "city").costs_rupiah == 1_200_000
    [line] = compute(this_month(), "city").costs
    assert line.corrects_cost_id == original.pk


def test_withdrawn_cost_leaves_statement(pilot, admin):
    fix_cost(add_cost(pilot, admin), admin, amount=0, reason="recorded twice")

    assert compute(this_month(), "city").costs == ()


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    city_bp=st.integers(min_value=0, max_value=10_000),
    remainder_to=st.sampled_from(["city", "partner"]),
)
def test_cost_line_split_sums(amount, city_bp, remainder_to):
    payload = {
        "cost_id": 1,
        "pilot_slug": "uji",
        "category": "hardware",
        "incurred_on": "2026-11-03",
        "amount_rupiah": amount,
        "rule_version": "2026-11-01",
        "city_bp": city_bp,
        "partner_bp": 10_000 - city_bp,
        "remainder_to": remainder_to,
    }

    line = statement._cost_line(7, payload)

    assert line.city_rupiah + line.partner_rupiah == amount
    assert line.city_rupiah >= 0
    assert line.partner_rupiah >= 0


# Reproducible from the journal ------------------------------------------------------


def test_recomputation_ignores_unrelated_entries(trading, pilot, admin):
    add_cost(pilot, admin, amount=300_000)
    first = compute(this_month(), "partner")

    # Unrelated: a cost in another month, a transfer with no fee, a new pilot.
    earlier = previous_month(this_month())
    add_cost(pilot, admin, day=earlier.replace(day=2), amount=55_000)
    carol = citizen()
    services.submit(
        TransferRequest(
            id=new_id("send"),
            debit=trading[0].number,
            credit=carol.number,
            amount=10_000,
            kind="transfer",
        )
    )
    make_pilot("uji-coba-dua", "13.74.01.1001")
    again = compute(this_month(), "partner")

    assert again.position > first.position
    assert again.figures == first.figures
    assert again.revenue == first.revenue
    assert again.costs == first.costs


def test_same_position_same_statement(trading, pilot, admin):
    first = compute(this_month(), "city")
    add_cost(pilot, admin, amount=99_000)
    pay(trading[0], trading[1], 700_000)

    again = compute(this_month(), "city", first.position)

    assert again.figures == first.figures
    assert again.revenue == first.revenue
    assert again.movements == first.movements
    assert compute(this_month(), "city").figures != first.figures


def test_position_past_journal_rejected(pilot):
    size = journal.journal_size()

    with pytest.raises(StatementUnavailable) as caught:
        compute(this_month(), "city", size + 1)

    assert caught.value.field == "position"


def test_unknown_party_rejected(pilot):
    with pytest.raises(StatementUnavailable) as caught:
        compute(this_month(), "mayor")

    assert caught.value.field == "party"


def test_empty_month_has_zero_figures(pilot):
    found = compute(this_month().replace(year=2025), "city")

    assert found.figures == (0, 0, 0, 0, 0, 0, 0)
    assert found.rules == ()


def test_statement_names_covering_block(trading):
    position = journal.journal_size()
    call_command("ledger", "seal")
    pay(trading[0], trading[1], 800_000)
    call_command("ledger", "seal")

    found = compute(this_month(), "city", position)

    assert found.block is not None
    assert found.block.tree_size == position
    assert compute(this_month(), "city").block.tree_size == journal.journal_size()
