"""The demo pilot's partner costs: journaled once, and shown by statements."""

from datetime import timedelta

import pytest
from tests.sharing.statement_setup import make_pilot, set_schedule, today

from kotacerdas.accounts.services import create_user
from kotacerdas.demo.sharing_costs import DEMO_COSTS, seed_demo_costs
from kotacerdas.sharing.models import PartnerCost
from kotacerdas.sharing.statement import compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(city):
    set_schedule(city)
    create_user("admin", "demo-password-1", ["admin"])
    return make_pilot()


def test_demo_costs_recorded_once(pilot):
    first = seed_demo_costs(pilot)
    again = seed_demo_costs(pilot)

    assert len(first) == len(DEMO_COSTS)
    assert again == []
    assert PartnerCost.objects.count() == len(DEMO_COSTS)
    assert all(cost.entry_seq is not None for cost in first)


def test_demo_costs_within_passed_pilot_days(pilot):
    costs = seed_demo_costs(pilot)

    days = [cost.incurred_on for cost in costs]
    assert min(days) == pilot.starts_on
    assert max(days) == today()
    assert days == sorted(days)


def test_statements_show_demo_costs(pilot):
    costs = seed_demo_costs(pilot)

    months = {cost.incurred_on.replace(day=1) for cost in costs}
    total = sum(compute(month, "partner").costs_rupiah for month in months)
    assert total == sum(amount for _category, amount, _text in DEMO_COSTS)


def test_no_demo_costs_without_admin(city):
    set_schedule(city)
    pilot = make_pilot()

    assert seed_demo_costs(pilot) == []


def test_no_demo_costs_for_future_pilot(pilot):
    pilot.starts_on = today() + timedelta(days=3)
    pilot.ends_on = today() + timedelta(days=40)
    pilot.save()

    assert seed_demo_costs(pilot) == []
