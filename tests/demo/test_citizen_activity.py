"""The demo citizens' worker job: payments, levies and reports through the services."""

import random

import pytest
from django.test import override_settings

from kotacerdas.command import figures, projector
from kotacerdas.demo import citizen_activity
from kotacerdas.demo import services as demo
from kotacerdas.journal.worker import app_jobs
from kotacerdas.levy.models import Payment
from kotacerdas.wallet.models import Transfer
from kotacerdas.waste.reports.models import Report

pytestmark = pytest.mark.django_db
SEED = 9


@pytest.fixture
def demo_city(city):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    projector.catch_up()
    return city


def test_job_is_registered():
    assert "demo-citizens" in [job.name for job in app_jobs()]


def test_job_is_off_unless_enabled(demo_city):
    transfers = Transfer.objects.count()

    counts = citizen_activity.run_demo_citizens(random.Random(1))

    assert counts == citizen_activity.RunCounts()
    assert Transfer.objects.count() == transfers


@override_settings(KOTACERDAS_DEMO_CITIZENS=True)
def test_rounds_move_the_dashboard(demo_city, monkeypatch):
    monkeypatch.setattr(citizen_activity, "REPORT_CHANCE", 1.0)
    monkeypatch.setattr(citizen_activity, "LEVY_CHANCE", 1.0)
    stored = figures.StoredTallies()
    before_transfers = figures.value("transfers_today", stored)
    before_collected = figures.value("levy_collected_month", stored)
    before_reports = figures.value("reports_open", stored)
    payments = Payment.objects.count()
    reports = Report.objects.count()

    totals = citizen_activity.RunCounts()
    for round_number in range(3):
        counts = citizen_activity.run_demo_citizens(random.Random(round_number))
        totals.transfers += counts.transfers
        totals.levy_payments += counts.levy_payments
        totals.reports += counts.reports
    projector.catch_up()

    assert totals.transfers > 0
    assert totals.levy_payments > 0
    assert totals.reports > 0
    assert Payment.objects.count() == payments + totals.levy_payments
    assert Report.objects.count() == reports + totals.reports
    # A levy paid at the counter is a transfer too (settlement to revenue).
    made = totals.transfers + totals.levy_payments
    assert figures.value("transfers_today", stored) == before_transfers + made
    assert figures.value("levy_collected_month", stored) > before_collected
    assert figures.value("reports_open", stored) == before_reports + totals.reports
