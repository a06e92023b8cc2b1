"""The command center benchmark's synthetic city and its timing step, at small size.

The benchmark folds generated events instead of journal entries, so its
figures are only worth timing if they are the figures those events should
give: each dashboard figure must equal the total the generator kept while
emitting. The timing step must find the dashboard, its API and map layers
and get a 200 from each.
"""

import copy
import json
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
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

from command_center_build import RUN_FILE, copy_rollups
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


def test_rollups_copy_from_kept_city(small_city, tmp_path):
    now = local_time(date(2026, 1, 20), 12 * 60)
    fold_window(small_city, 20, now)
    period = figures.Period(today=now.date(), now=now)
    expected = {
        figure.key: figure.value
        for figure in figures.compute(figures.StoredTallies(), period)
    }
    # A kept SQLite build stores days as text and times as UTC text.
    source = tmp_path / "bench.sqlite3"
    with closing(sqlite3.connect(source)) as kept:
        kept.execute(
            "CREATE TABLE command_tally (metric, day, kelurahan_code, key, value)"
        )
        kept.execute(
            "CREATE TABLE command_openreport "
            "(report_id, kind, kelurahan_code, filed_at, sla_due_at)"
        )
        kept.executemany(
            "INSERT INTO command_tally VALUES (?, ?, ?, ?, ?)",
            [
                (metric, day.isoformat(), kelurahan, key, value)
                for metric, day, kelurahan, key, value in Tally.objects.values_list(
                    "metric", "day", "kelurahan_code", "key", "value"
                )
            ],
        )
        kept.execute(
            "INSERT INTO command_openreport VALUES "
            "(7, 'missed_pickup', '13.74.01.1001', "
            "'2026-01-20 02:00:00', '2026-01-22 02:00:00')"
        )
        kept.commit()
    run = {
        "database": f"sqlite:///{source}",
        "size": "small",
        "days": 20,
        "with_registry": False,
        "built_on": "2026-01-20",
    }
    (tmp_path / RUN_FILE).write_text(json.dumps(run))
    Tally.objects.all().delete()
    OpenReport.objects.all().delete()

    copied = copy_rollups(str(tmp_path), now)

    assert copied == run
    report = OpenReport.objects.get()
    assert report.report_id == 7
    assert report.filed_at == datetime(2026, 1, 20, 2, tzinfo=UTC)
    assert report.sla_due_at == datetime(2026, 1, 22, 2, tzinfo=UTC)
    values = {
        figure.key: figure.value
        for figure in figures.compute(figures.StoredTallies(), period)
    }
    assert values["reports_open"] == 1
    for key, value in expected.items():
        if key not in {"reports_open", "reports_overdue"}:
            assert values[key] == value, key


def test_rollups_copy_rejects_other_day(small_city, tmp_path):
    run = {"database": "sqlite:///unused", "size": "small", "days": 3}
    (tmp_path / RUN_FILE).write_text(json.dumps({**run, "built_on": "2026-01-19"}))

    with pytest.raises(SystemExit, match="built on 2026-01-19"):
        copy_rollups(str(tmp_path), local_time(date(2026, 1, 20), 600))
