"""The command center benchmark's synthetic city and its timing step, at small size.

The benchmark folds generated events instead of journal entries, so its
figures are only worth timing if they are the figures those events should
give: each dashboard figure must equal the total the generator kept while
emitting. The timing step must find the dashboard, its API and map layers
and get a 200 from each.
"""

import copy
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.command import figures
from kotacerdas.command.fold import EVENT_TYPES
from kotacerdas.command.models import Fact, OpenReport, Tally

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from command_center_city import DemoCity
from command_center_events import YearOfEvents, fold_events
from command_center_timing import (
    api_targets_from_schema,
    measure,
    page_targets,
)

pytestmark = pytest.mark.django_db
SEED = 7


@pytest.fixture
def small_city(city) -> DemoCity:
    return DemoCity.generate("small", SEED)


def local_time(day: date, minute: int) -> datetime:
    midnight = datetime(
        day.year, day.month, day.day, tzinfo=ZoneInfo(django_settings.TIME_ZONE)
    )
    return midnight + timedelta(minutes=minute)


def fold_window(city: DemoCity, days: int, now: datetime) -> YearOfEvents:
    year = YearOfEvents(copy.deepcopy(city), days, now, SEED)
    for index in range(days):
        events = year.day(index)
        assert {event.type for event in events} <= set(EVENT_TYPES)
        assert all(event.at <= now for event in events), index
        fold_events(events)
    return year


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    days=st.integers(min_value=1, max_value=45),
    # Ends from a New Year's Day (bills issued at 01:00-03:00 that day) to
    # two months later, at any minute of the day.
    end_offset=st.integers(min_value=0, max_value=60),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_window_folds_to_its_totals(small_city, days, end_offset, minute):
    Tally.objects.all().delete()
    Fact.objects.all().delete()
    OpenReport.objects.all().delete()
    end = date(2026, 1, 1) + timedelta(days=end_offset)
    now = local_time(end, minute)

    year = fold_window(small_city, days, now)

    period = figures.Period(today=end, now=now)
    values = {
        figure.key: figure.value
        for figure in figures.compute(figures.StoredTallies(), period)
    }
    expected = vars(year.totals)
    for key, total in expected.items():
        assert values[key] == total, key


def test_year_has_every_kind_of_activity(small_city):
    now = local_time(date(2026, 3, 10), 15 * 60)

    year = fold_window(small_city, 120, now)

    totals = year.totals
    assert totals.buildings > 0
    assert totals.households > 0
    assert 0 < totals.plates_installed < totals.plates_issued
    assert totals.wallets_active > 0
    assert totals.transfers_today > 0
    assert 0 < totals.levy_collected_month < totals.levy_billed_month
    assert totals.pickups_today > 0
    metrics = set(Tally.objects.values_list("metric", flat=True))
    assert {
        "route_stops",
        "route_done",
        "tonnage_g",
        "tonnage_est_g",
        "pickups_flagged",
        "containers_waiting",
        "reports_filed",
        "reports_closed",
        "levy_payments",
    } <= metrics


def test_timing_step_gets_every_target(small_city, signed_in):
    fold_window(small_city, 3, local_time(date(2026, 1, 5), 11 * 60))
    client = signed_in("command_center")

    pages, _skipped = page_targets()
    api, _api_skipped = api_targets_from_schema()

    labels = {target.label for target in pages + api}
    assert "command:dashboard" in labels
    assert "command:wall" in labels
    assert "GET /api/command/figures" in labels
    assert "GET /api/command/series/transfers" in labels
    assert any(label.startswith("command:map_layer ") for label in labels)
    for target in pages + api:
        result = measure(client, target, requests=2)
        # Form pages may redirect to the current month; the rest return 200.
        assert result.status in {200, 302}, target.path
        if result.status == 200:
            assert len(result.samples_ms) == 2, target.path
            assert result.queries, target.path
    dashboard = next(t for t in pages if t.label == "command:dashboard")
    assert measure(client, dashboard, requests=1).status == 200
