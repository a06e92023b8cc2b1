"""The daily float check, its worker job and `kotacerdas reconcile daily`."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from kotacerdas.journal.worker import app_jobs
from kotacerdas.reconciliation import services
from kotacerdas.reconciliation.models import DailyReconciliation
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account

from .conftest import bank_top_up, new_id, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_day(personas, settlement, alice, bob, shop):
    """A day with bank and counter top-ups, a payment, a levy and a withdrawal."""
    cashier = f"user:{personas['cashier'].pk}"
    bank_top_up(alice, 100_000)
    bank_top_up(bob, 40_000)
    wallet.top_up(
        bob.number, 25_000, transfer_id=new_id("cash"), channel="counter", actor=cashier
    )
    submit(alice, shop, 12_500, "payment", channel="qris")
    submit(bob, settlement, 10_000, "withdrawal", channel="counter", actor=cashier)
    levy = wallet.revenue_account("waste_levy")
    submit(settlement, levy, 7_500, "levy", channel="counter", actor=cashier)
    return cashier


def test_fresh_ledger_with_activity_balances(busy_day):
    report = services.compute_day(timezone.localdate())

    assert report.ok
    assert report.balances_total == 162_500
    assert report.float_total == 162_500
    assert report.difference == 0
    assert report.accounts_off == []


def test_report_sums_day_by_channel(busy_day):
    report = services.compute_day(timezone.localdate())

    assert report.topups_bank_va == 140_000
    assert report.topups_counter == 25_000
    assert report.withdrawals == 10_000
    flows = {(f["direction"], f["kind"], f["channel"]): f for f in report.flows}
    assert flows[("in", "topup", "bank_va")]["count"] == 2
    assert flows[("in", "levy", "counter")]["amount"] == 7_500
    assert flows[("out", "withdrawal", "counter")]["amount"] == 10_000
    assert ("in", "payment", "qris") not in flows


def test_cashier_hands_over_counter_cash(busy_day):
    report = services.compute_day(timezone.localdate())

    assert report.cashiers == [
        {"actor": busy_day, "cash_in": 32_500, "cash_out": 10_000, "count": 3}
    ]


def test_tampered_balance_shows_mismatch(busy_day, alice):
    Account.objects.filter(pk=alice.pk).update(
        credits_posted=F("credits_posted") + 1_000
    )

    report = services.compute_day(timezone.localdate())

    assert not report.ok
    assert report.difference == 1_000
    assert report.accounts_off == [
        {
            "account_id": alice.pk,
            "number": alice.number,
            "kind": "citizen",
            "field": "credits_posted",
            "stored": 101_000,
            "from_transfers": 100_000,
        }
    ]


def test_cancelling_tampering_still_found(busy_day, alice, bob):
    Account.objects.filter(pk=alice.pk).update(credits_posted=F("credits_posted") + 500)
    Account.objects.filter(pk=bob.pk).update(credits_posted=F("credits_posted") - 500)

    report = services.compute_day(timezone.localdate())

    assert report.difference == 0
    assert not report.ok
    assert {row["number"] for row in report.accounts_off} == {alice.number, bob.number}


def test_tampered_day_page_points_to_verify(busy_day, alice, signed_in):
    Account.objects.filter(pk=alice.pk).update(credits_posted=F("credits_posted") + 1)
    report = services.compute_day(timezone.localdate())

    page = signed_in("revenue_officer").get(
        f"/wallet/reconcile/days/{report.date:%Y-%m-%d}/"
    )

    text = page.content.decode()
    assert "Mismatch" in text
    assert "kotacerdas ledger verify" in text
    assert alice.number in text


def test_report_before_transfers_excludes_them(city, alice):
    before = timezone.now()
    bank_top_up(alice, 50_000)

    report = services.compute_day(timezone.localdate(before), now=before)

    assert report.ok
    assert report.balances_total == 0
    assert report.float_total == 0
    assert report.topups_bank_va == 0
    assert not report.final


def test_yesterday_report_is_final(city, alice):
    bank_top_up(alice, 50_000)
    yesterday = timezone.localdate() - timedelta(days=1)

    report = services.compute_day(yesterday)

    assert report.final
    assert report.ok
    assert report.float_total == 0
    assert report.topups_bank_va == 0


def test_future_day_is_rejected(city):
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(services.ReconciliationError, match="has not begun yet"):
        services.compute_day(tomorrow)

    assert not DailyReconciliation.objects.exists()


def test_daily_job_is_idempotent(city, alice):
    bank_top_up(alice, 50_000)

    services.run_daily_job()
    first_yesterday = DailyReconciliation.objects.get(
        date=timezone.localdate() - timedelta(days=1)
    )
    services.run_daily_job()

    assert DailyReconciliation.objects.count() == 2
    again = DailyReconciliation.objects.get(pk=first_yesterday.pk)
    assert again.computed_at == first_yesterday.computed_at
    today = DailyReconciliation.objects.get(date=timezone.localdate())
    assert today.topups_bank_va == 50_000


def test_daily_job_is_registered():
    jobs = {job.name: job for job in app_jobs()}

    assert "reconcile-daily" in jobs
    assert jobs["reconcile-daily"].run is services.run_daily_job


def test_command_reports_balanced_day(busy_day, capsys):
    call_command("reconcile", "daily")

    output = capsys.readouterr().out
    assert "difference Rp0" in output
    assert "balanced" in output


def test_command_fails_on_tampered_ledger(busy_day, alice):
    Account.objects.filter(pk=alice.pk).update(debits_posted=F("debits_posted") + 1)

    with pytest.raises(CommandError, match="kotacerdas ledger verify"):
        call_command("reconcile", "daily", "--date", timezone.localdate().isoformat())


@pytest.mark.parametrize("value", ["31/01/2025", "2025-13-01", "tomorrow"])
def test_command_rejects_invalid_date(city, value):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "daily", "--date", value)
