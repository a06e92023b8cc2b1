"""Statistics figures against hand-made pickups, schedules and reports."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from tests.waste.reports.conftest import report_input

from kotacerdas.waste import statistics
from kotacerdas.waste.models import Alert, Pickup, SipsnCategory
from kotacerdas.waste.reports import services as reports
from kotacerdas.waste.reports.models import Report, Status

from .conftest import DAY, at, building, pickup, schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_of_pickups(collector, pasar_usang, ganting):
    """Pickups of 10 November 2026: 20 kg counted, 7 kg of it from volume."""
    house = building("13.74.02.1002")
    shop = building("13.74.02.1002", use="shop")
    empty_house = building("13.74.02.1002", rt="2")
    office = building("13.74.01.1001", use="office")
    first = pickup(collector, house, weight_g=10_000)
    pickup(collector, house, hour=10, weight_g=10_000, duplicate_of=first)
    pickup(collector, shop, category="organic", volume_l=20)
    pickup(collector, empty_house, outcome=Pickup.Outcome.NOT_OUT)
    pickup(collector, office, category="recyclable", weight_g=3_000)
    pickup(
        collector,
        house,
        day=DAY + timedelta(days=1),
        category="residue",
        weight_g=1_000,
    )
    return {"house": house, "shop": shop, "empty": empty_house, "office": office}


def test_tonnage_counts_once_and_converts_volume(month_of_pickups):
    rows = statistics.tonnage(DAY, DAY)

    table = {(r.kelurahan_code, r.category): (r.weight_g, r.estimated_g) for r in rows}
    assert table == {
        ("13.74.02.1002", "mixed"): (10_000, 0),
        ("13.74.02.1002", "organic"): (7_000, 7_000),
        ("13.74.01.1001", "recyclable"): (3_000, 0),
    }
    assert sum(r.pickups for r in rows) == 3


def test_tonnage_uses_local_dates(collector, pasar_usang):
    house = building("13.74.02.1002")
    late = at(DAY, 23) + timedelta(minutes=30)
    pickup(collector, house, scanned_at=late, weight_g=500)

    on_day = statistics.tonnage(DAY, DAY)
    next_day = statistics.tonnage(DAY + timedelta(days=1), DAY + timedelta(days=1))

    assert [r.weight_g for r in on_day] == [500]
    assert next_day == []


def test_coverage_counts_exceptions_as_served(
    month_of_pickups, pasar_usang, ganting, crew
):
    building("13.74.02.1002", rt="3")  # scheduled, never visited
    schedule(pasar_usang, crew, weekdays="246")
    schedule(ganting, crew, weekdays="135")  # not on Tuesdays

    rows = statistics.coverage(DAY)

    assert [(r.kelurahan_code, r.scheduled, r.served) for r in rows] == [
        ("13.74.02.1002", 4, 3)
    ]
    assert rows[0].share == 0.75


def test_coverage_of_one_rt(month_of_pickups, pasar_usang, crew):
    rt_two = month_of_pickups["empty"].unit
    schedule(pasar_usang, crew, weekdays="2", unit=rt_two)

    rows = statistics.coverage(DAY)

    assert [(r.scheduled, r.served) for r in rows] == [(1, 1)]


def test_coverage_ignores_expired_schedule(month_of_pickups, pasar_usang, crew):
    old = schedule(pasar_usang, crew, weekdays="2")
    old.valid_to = DAY - timedelta(days=1)
    old.save()

    assert statistics.coverage(DAY) == []


def test_recovery_without_bank_deposits(month_of_pickups):
    figures = statistics.recovery(DAY, DAY)

    assert figures.collected_g == 20_000
    assert figures.bank_g == 0
    assert figures.share == 0.0


@given(grams=st.integers(min_value=0, max_value=10**12))
def test_split_grams_keeps_total(grams):
    for categories in statistics.GROUP_CATEGORIES.values():
        parts = statistics.split_grams(grams, categories)

        assert sum(parts.values()) == grams
        assert min(parts.values()) >= 0


def test_split_falls_back_to_national_shares():
    # The city reports no textile, glass or rubber; reusable waste still splits.
    parts = statistics.split_grams(1_000, statistics.GROUP_CATEGORIES["reusable"])

    assert parts == {"kain": 375, "kaca": 332, "karet_kulit": 293}


def test_sipsn_workbook_totals_match(month_of_pickups):
    data = statistics.sipsn_workbook(2026, 11)

    book = load_workbook(io.BytesIO(data))
    composition = list(book["Komposisi"].iter_rows(min_row=2, values_only=True))
    sources = {
        row[0]: row[1] for row in book["Sumber"].iter_rows(min_row=2, values_only=True)
    }
    daily = list(book["Harian"].iter_rows(min_row=2, values_only=True))
    total_row = composition[-1]
    category_rows = composition[:-1]
    assert book.sheetnames == ["Komposisi", "Sumber", "Harian", "Metode"]
    assert len(category_rows) == len(SipsnCategory.values)
    # 20 kg on the 10th and 1 kg of residue on the 11th.
    assert total_row[4] == 21.0
    assert round(sum(row[4] for row in category_rows), 3) == 21.0
    assert total_row[1] == 1.0  # weighed residue is the only measured part
    assert total_row[2] == 20.0
    assert sources["Rumah Tangga"] == 11.0
    assert sources["Perniagaan"] == 7.0
    assert sources["Perkantoran"] == 3.0
    assert sources["Total"] == 21.0
    assert round(sum(row[5] for row in daily), 3) == 21.0


def test_open_reports_by_age_counts_overdue(personas):
    fresh = reports.file_report(
        report_input(kind="full_container"), personas["citizen"]
    )
    old = reports.file_report(report_input(kind="full_container"), personas["citizen"])
    closed = reports.file_report(
        report_input(kind="missed_pickup"), personas["citizen"]
    )
    reports.change_status(closed.pk, Status.REJECTED, personas["waste_operator"])
    two_days_ago = timezone.now() - timedelta(hours=48)
    Report.objects.filter(pk=old.pk).update(
        created_at=two_days_ago, sla_due_at=two_days_ago + timedelta(hours=24)
    )

    rows = {row.kind: row for row in statistics.open_reports_by_age()}

    full = rows["full_container"]
    assert (full.open, full.overdue, full.oldest_hours) == (2, 1, 48)
    assert full.by_age == {"0-24h": 1, "24-72h": 1, "72h-7d": 0, "7d+": 0}
    assert rows["missed_pickup"].open == 0
    assert fresh.pk != old.pk


def test_overdue_alerts_open_once_and_clear(personas):
    report = reports.file_report(report_input(), personas["citizen"])
    later = report.sla_due_at + timedelta(minutes=1)

    before = statistics.raise_overdue_alerts(report.sla_due_at - timedelta(minutes=1))
    first = statistics.raise_overdue_alerts(later)
    again = statistics.raise_overdue_alerts(later)
    reports.change_status(report.pk, Status.REJECTED, personas["waste_operator"])
    after_close = statistics.raise_overdue_alerts(later)

    alert = Alert.objects.get()
    assert (before, first, again, after_close) == ((0, 0), (1, 0), (0, 0), (0, 1))
    assert alert.kind == "report_overdue"
    assert alert.subject == f"wastereports.report:{report.pk}"
    assert alert.details["report_kind"] == "illegal_dumping"
    assert alert.cleared_at is not None


def test_flagged_pickups_counted(collector, pasar_usang):
    house = building("13.74.02.1002")
    pickup(collector, house, weight_g=100, review=Pickup.Review.PENDING)
    pickup(collector, house, hour=11, weight_g=100, review=Pickup.Review.CONFIRMED)

    flagged = statistics.flagged_pickups()

    assert flagged["count"] == 1
    assert flagged["oldest_scanned_at"] == at(DAY)
