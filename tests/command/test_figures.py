"""Every dashboard figure equals its recomputation from the journal.

The demo city is built through the services (registry, wallets, levies, waste,
pickups, reports), and the worker's rollup job folds the journal in small
batches. Each figure read from the rollups must equal the same figure folded
into memory from the first entry. Where a table records the same fact, the
figure must also equal the table's count.
"""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from kotacerdas.command import figures, projector, recompute
from kotacerdas.command.models import Cursor, Tally
from kotacerdas.demo import services as demo
from kotacerdas.journal.models import Entry
from kotacerdas.levy.models import Bill
from kotacerdas.registry.models import Building, Household, Plate
from kotacerdas.wallet.models import Account, AccountKind, AccountStatus
from kotacerdas.waste.models import Pickup
from kotacerdas.waste.reports.models import OPEN_STATUSES, Report

pytestmark = pytest.mark.django_db
SEED = 5


@pytest.fixture
def demo_city(city):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    # Small batches, so facts written by one batch are read back by the next.
    while projector.fold_batch(size=97):
        pass
    return city


def test_rollups_reach_the_end_of_the_journal(demo_city):
    count = Entry.objects.count()

    assert projector.position() == count
    assert Cursor.objects.get().size == count
    assert projector.fold_batch() == 0


def test_each_figure_equals_its_recomputation(demo_city):
    folded, size = recompute.recompute()
    stored = figures.StoredTallies()
    period = figures.Period.current()

    assert size == projector.position()
    compared = 0
    for definition in figures.FIGURES:
        from_rollups = definition.compute(stored, period)
        from_journal = definition.compute(folded, period)
        assert from_rollups == from_journal, definition.key
        compared += 1
    assert compared == len(figures.FIGURES)
    # The demo city has something in every section.
    values = {f.key: f.value for f in figures.compute(stored, period)}
    for key in ("buildings", "plates_issued", "wallets_active", "levy_billed_month"):
        assert values[key] and values[key] > 0, key


def test_per_kelurahan_rows_equal_their_recomputation(demo_city):
    folded, _upto = recompute.recompute()

    assert figures.by_kelurahan(figures.StoredTallies()) == figures.by_kelurahan(folded)


def test_figures_match_the_domain_tables(demo_city):
    values = {f.key: f.value for f in figures.compute(figures.StoredTallies())}
    month = timezone.localdate().replace(day=1)
    live_bills = Bill.objects.filter(month=month).exclude(status=Bill.Status.CANCELLED)
    sums = live_bills.aggregate(billed=Sum("amount"), collected=Sum("paid_amount"))

    assert (
        values["buildings"]
        == Building.objects.exclude(status=Building.Status.DEMOLISHED).count()
    )
    assert (
        values["households"]
        == Household.objects.filter(status=Household.Status.ACTIVE).count()
    )
    assert (
        values["plates_issued"]
        == Plate.objects.exclude(status=Plate.Status.REVOKED).count()
    )
    assert (
        values["wallets_active"]
        == Account.objects.filter(
            kind=AccountKind.CITIZEN, status=AccountStatus.ACTIVE
        ).count()
    )
    assert values["levy_billed_month"] == (sums["billed"] or 0)
    assert values["levy_collected_month"] == (sums["collected"] or 0)
    assert (
        values["pickups_today"]
        == Pickup.objects.filter(
            scanned_at__date=timezone.localdate(), duplicate_of__isnull=True
        ).count()
    )
    assert (
        values["reports_open"]
        == Report.objects.filter(status__in=OPEN_STATUSES).count()
    )


def test_explain_shows_rules_and_both_values(demo_city):
    explanation = recompute.explain("collection_rate")

    assert explanation.agrees
    assert explanation.events_read > 0
    assert "levy.bill.issued" in explanation.event_types
    assert "wallet.transfer.posted" not in explanation.event_types
    assert any("def _bill_paid" in source for _kind, source in explanation.rules)


def test_changed_rollup_disagrees(demo_city):
    row = Tally.objects.filter(metric="buildings").first()
    row.value += 1
    row.save()

    explanation = recompute.explain("buildings")

    assert not explanation.agrees
    assert explanation.stored == explanation.recomputed + 1


def test_month_boundaries(demo_city):
    # Next month nothing is billed yet, and this month's unpaid part is arrears.
    stored = figures.StoredTallies()
    now = figures.Period.current()
    next_month = (now.month_start + timedelta(days=32)).replace(day=1)
    later = figures.Period(today=next_month, now=now.now + timedelta(days=32))
    this_month = figures.value("levy_billed_month", stored, now)
    unpaid = this_month - figures.value("levy_collected_month", stored, now)

    assert figures.value("levy_billed_month", stored, later) == 0
    assert figures.value("collection_rate", stored, later) is None
    assert figures.value("arrears", stored, later) == (
        figures.value("arrears", stored, now) + unpaid
    )
