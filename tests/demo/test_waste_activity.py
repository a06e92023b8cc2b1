"""The demo's waste activity: bank deposits, routes and the crews' pickups.

The build plans and records the previous day with collections in full, and
today up to the build's time.
"""

import json
from datetime import datetime, time, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from kotacerdas.demo import services as demo
from kotacerdas.demo import waste_activity
from kotacerdas.demo.wallets import build_demo_wallets
from kotacerdas.demo.waste import DEMO_COLLECTOR
from kotacerdas.demo.waste import build as build_demo_waste
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.personal_data import reject_personal_data
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.journal.worker import app_jobs
from kotacerdas.registry.models import Building, Member
from kotacerdas.registry.services import member_nik
from kotacerdas.wallet.models import Account, Transfer, TransferKind
from kotacerdas.waste.bank.models import Deposit, Membership, Unit
from kotacerdas.waste.models import (
    Alert,
    Pickup,
    RoutePlan,
    RouteStop,
    Schedule,
    Site,
)

pytestmark = pytest.mark.django_db
SEED = 21
# A short search keeps each build to a few seconds; plan quality is not tested here.
TIME_LIMIT_S = 0.2
# The default of `waste.bank.demo.seed`.
MEMBERS_PER_UNIT = 8


def local_time(hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate(), time(hour, minute))
    )


def build_city() -> None:
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    build_demo_wallets(SEED)
    build_demo_waste(SEED)


@pytest.fixture
def late_evening():
    return local_time(23)


@pytest.fixture
def built(city, late_evening):
    """The small demo built late in the day, when every planned stop is due."""
    build_city()
    return waste_activity.build(SEED, time_limit_s=TIME_LIMIT_S, now=late_evening)


def demo_stops(day=None):
    return RouteStop.objects.filter(
        plan__date=day or timezone.localdate(),
        kind__in=waste_activity.ROUTE_KINDS,
        arrival__isnull=False,
    )


def todays_pickups():
    return Pickup.objects.filter(plan__date=timezone.localdate())


def both_days(summary, name):
    return getattr(summary.pickups, name) + getattr(summary.previous_pickups, name)


def test_build_plans_today(built):
    plans = RoutePlan.objects.filter(date=timezone.localdate())

    assert built.plans > 0
    assert plans.count() == built.plans
    assert plans.filter(crew__members__username=DEMO_COLLECTOR).exists()


def test_build_records_every_due_stop(built):
    counts = built.pickups

    assert counts.recorded > 0
    assert counts.failed == 0
    assert built.previous_pickups.failed == 0
    assert todays_pickups().count() == counts.recorded
    assert Pickup.objects.count() == both_days(built, "recorded")
    assert not demo_stops().filter(status=RouteStop.Status.PLANNED).exists()
    assert not Pickup.objects.exclude(client_id__startswith="demo-").exists()


def test_build_finishes_previous_service_day(built):
    previous = built.previous_day
    today = timezone.localdate()

    assert previous is not None
    assert today - timedelta(days=7) <= previous < today
    assert built.previous_plans > 0
    assert RoutePlan.objects.filter(date=previous).count() == built.previous_plans
    assert built.previous_pickups.recorded > 0
    assert Pickup.objects.filter(plan__date=previous).count() == (
        built.previous_pickups.recorded
    )
    assert not demo_stops(previous).filter(status=RouteStop.Status.PLANNED).exists()


def test_previous_service_day_skips_days_without_collections(city):
    build_city()
    today = timezone.localdate()
    three_days_ago = today - timedelta(days=3)

    Schedule.objects.update(weekdays=str(three_days_ago.isoweekday()))
    assert waste_activity.previous_service_day(today) == three_days_ago

    Schedule.objects.update(active=False)
    assert waste_activity.previous_service_day(today) is None


def test_pickups_have_plausible_figures(built):
    collected = Pickup.objects.filter(outcome=Pickup.Outcome.COLLECTED)
    first_scans = collected.filter(duplicate_of__isnull=True)
    not_out = Pickup.objects.filter(outcome=Pickup.Outcome.NOT_OUT)

    assert first_scans.count() == both_days(built, "collected")
    assert not first_scans.filter(weight_g__isnull=True).exists()
    assert not first_scans.filter(weight_g__lt=300).exists()
    assert not_out.count() == both_days(built, "not_out")
    assert not not_out.filter(reason="").exists()
    assert not not_out.filter(weight_g__isnull=False).exists()


def test_pickups_scanned_after_arrival(built, late_evening):
    for pickup in Pickup.objects.filter(duplicate_of__isnull=True).select_related(
        "stop", "plan"
    ):
        assert pickup.stop is not None, pickup.client_id
        assert pickup.stop.arrival is not None
        arrival = timezone.make_aware(
            datetime.combine(pickup.plan.date, pickup.stop.arrival)
        )
        delay = pickup.scanned_at - arrival
        assert (
            timedelta(0) <= delay <= timedelta(seconds=waste_activity.SCAN_DELAY_MAX_S)
        ), pickup.client_id
        assert pickup.scanned_at <= late_evening


def test_one_repeat_scan_by_collector_each_day(built):
    repeats = Pickup.objects.filter(duplicate_of__isnull=False)

    assert built.pickups.repeats == 1
    assert built.previous_pickups.repeats == 1
    assert repeats.count() == 2
    assert {repeat.plan.date for repeat in repeats} == {
        timezone.localdate(),
        built.previous_day,
    }
    for repeat in repeats:
        assert repeat.collector.username == DEMO_COLLECTOR
        assert repeat.container_id is not None
        assert repeat.duplicate_of.container_id == repeat.container_id


def test_far_scans_wait_for_review(built):
    far = Pickup.objects.filter(flags__contains="far")

    assert far.count() == both_days(built, "far")
    for pickup in far:
        assert pickup.distance_m > 150, pickup.client_id
        assert pickup.review == Pickup.Review.PENDING
        assert Alert.objects.filter(
            pickup=pickup, kind=Alert.Kind.PICKUP_FLAGGED
        ).exists()
    near = Pickup.objects.exclude(flags__contains="far").exclude(distance_m=None)
    assert not near.filter(distance_m__gt=150).exists()


def test_second_build_adds_nothing(built, late_evening):
    pickups = Pickup.objects.count()
    entries = Entry.objects.count()

    again = waste_activity.build(SEED, time_limit_s=TIME_LIMIT_S, now=late_evening)

    assert again.pickups.recorded == 0
    assert again.previous_pickups.recorded == 0
    assert again.banks.units == 0
    assert again.plans == built.plans
    assert again.previous_plans == built.previous_plans
    assert Pickup.objects.count() == pickups
    assert Entry.objects.count() == entries


def test_journal_events_carry_no_personal_data(city, late_evening):
    build_city()
    first_seq = Entry.objects.count()

    waste_activity.build(SEED, time_limit_s=TIME_LIMIT_S, now=late_evening)

    entries = Entry.objects.filter(seq__gte=first_seq)
    bodies = [bytes(entry.body).decode() for entry in entries]
    types = {entry.event_type for entry in entries}
    assert "waste.pickup.recorded" in types
    assert "waste.route.planned" in types
    names = list(Member.objects.values_list("full_name", flat=True))
    phones = [p for p in Member.objects.values_list("phone", flat=True) if p]
    niks = [member_nik(m, unmasked=True) for m in Member.objects.all()]
    addresses = list(Building.objects.values_list("street_address", flat=True))
    reasons = list(Pickup.objects.exclude(reason="").values_list("reason", flat=True))
    for body in bodies:
        reject_personal_data(json.loads(body)["payload"])
        for text in [*names, *phones, *niks, *addresses, *reasons]:
            assert text not in body, f"{text!r} in a journal event"


def test_ledger_verifies_after_build(built):
    assert verify_ledger(node_verifier()).problems == []


def test_citizen_wallet_gets_bank_credit(built):
    wallet = Account.objects.get(holder__username=demo.CITIZEN_USERNAME)
    credits = Transfer.objects.filter(
        credit_account=wallet,
        kind=TransferKind.WASTE_BANK_CREDIT,
        debit_account__code__startswith="waste_bank:",
    )

    assert built.banks.units == 7
    assert built.banks.deposits > 0
    assert credits.exists()


# ------------------------------------------------------------- the worker job


@pytest.fixture
def planned_before_dawn(city):
    """The small demo built just after midnight: today planned, nothing due yet."""
    build_city()
    return waste_activity.build(SEED, time_limit_s=TIME_LIMIT_S, now=local_time(0, 1))


def test_dawn_build_records_only_previous_day(planned_before_dawn):
    assert planned_before_dawn.plans > 0
    assert planned_before_dawn.pickups.recorded == 0
    assert not todays_pickups().exists()
    assert planned_before_dawn.previous_pickups.recorded > 0
    assert Pickup.objects.count() == planned_before_dawn.previous_pickups.recorded


def test_job_registered_with_worker():
    jobs = {job.name: job for job in app_jobs()}

    assert "demo-crews" in jobs
    assert jobs["demo-crews"].interval_s == waste_activity.CREWS_JOB_INTERVAL_S


def test_job_off_without_setting(planned_before_dawn):
    assert waste_activity.run_demo_crews(now=local_time(23)) == 0
    assert not todays_pickups().exists()


@override_settings(KOTACERDAS_DEMO_CREWS=True)
def test_job_records_due_stop_once(planned_before_dawn):
    first = demo_stops().order_by("arrival", "plan_id", "sequence").first()
    assert first is not None and first.arrival is not None
    arrival = timezone.make_aware(datetime.combine(first.plan.date, first.arrival))
    now = arrival + timedelta(seconds=waste_activity.SCAN_DELAY_MAX_S + 1)

    recorded = waste_activity.run_demo_crews(now=now)
    again = waste_activity.run_demo_crews(now=now)

    assert recorded >= 1
    assert again == 0
    assert Pickup.objects.filter(stop=first).count() == 1
    assert todays_pickups().count() == recorded
    later = demo_stops().filter(arrival__gt=timezone.localtime(now).time())
    assert later.exists()
    assert not Pickup.objects.filter(stop__in=later).exists()


@override_settings(KOTACERDAS_DEMO_CREWS=True)
def test_job_limits_stops_per_run(planned_before_dawn, monkeypatch):
    monkeypatch.setattr(waste_activity, "MAX_STOPS_PER_RUN", 2)
    stops_with_pickups = todays_pickups().values("stop").distinct()

    first = waste_activity.run_demo_crews(now=local_time(23))
    after_first = stops_with_pickups.count()
    second = waste_activity.run_demo_crews(now=local_time(23))

    assert first >= 2
    assert after_first == 2
    assert second >= 2
    assert stops_with_pickups.count() == 4
    assert todays_pickups().count() == first + second


def test_banks_reuse_demo_sites(built):
    banks = Site.objects.filter(kind=Site.Kind.WASTE_BANK)

    assert banks.count() == 7
    assert all(site.code.startswith("bank-sampah-") for site in banks)
    assert set(Unit.objects.values_list("site__code", flat=True)) == set(
        banks.values_list("code", flat=True)
    )


def test_bank_members_need_no_login(built):
    for unit in Unit.objects.all():
        memberships = Membership.objects.filter(unit=unit)
        assert memberships.count() == MEMBERS_PER_UNIT, unit.code
        assert Deposit.objects.filter(membership__unit=unit).count() == (
            MEMBERS_PER_UNIT
        ), unit.code
    without_login = Membership.objects.filter(account__holder__isnull=True)
    assert without_login.count() >= 7 * (MEMBERS_PER_UNIT - 1)
    assert built.banks.members == 7 * MEMBERS_PER_UNIT
