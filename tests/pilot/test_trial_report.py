"""The trial report on the demo city: figures, their recomputation, page and PDF."""

import base64
from datetime import date
from io import StringIO

import pypdfium2 as pdfium
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kotacerdas.accounts.models import User
from kotacerdas.command import fold, projector
from kotacerdas.command.figures import FoldedTallies
from kotacerdas.command.models import Tally
from kotacerdas.demo import pilot as demo_pilot
from kotacerdas.demo import services as demo
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import Block
from kotacerdas.pilot import trial_display
from kotacerdas.pilot.models import BaselineFigure, Pilot
from kotacerdas.pilot.trial import Window, metric_value
from kotacerdas.pilot.trial_metrics import TrialMetric
from kotacerdas.pilot.trial_report import build_trial_report, check, recompute_trial

pytestmark = pytest.mark.django_db

SEED = 5


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(texts)
    finally:
        document.close()


@pytest.fixture
def pilot_city(city):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED, pilot=True)
    projector.catch_up()
    journal.seal_pending()
    return Pilot.objects.get(slug=demo_pilot.PILOT_SLUG)


def rows_of(report, code=""):
    table = next(t for t in report.figures.tables if t.kelurahan_code == code)
    return {row.metric: row for row in table.rows}


def test_demo_pilot_report_matches_journal(pilot_city):
    report = build_trial_report(pilot_city)

    # The figures equal a fold of the journal up to the same entry.
    again = recompute_trial(pilot_city, report.provenance.position, report.today)
    assert again == report.figures
    assert check(report) == []

    # The demo gives every trial figure something to show.
    rows = rows_of(report)
    assert report.figures.trial.days == demo_pilot.TRIAL_DAYS_SO_FAR + 1
    assert len(report.figures.kelurahan_codes) == demo_pilot.PILOT_SIZE
    for metric in (
        TrialMetric.LEVY_RATE,
        TrialMetric.ON_SCHEDULE,
        TrialMetric.MISSED_REPORTS,
        TrialMetric.BANK_DEPOSITS,
        TrialMetric.WALLETS,
        TrialMetric.TRANSFERS,
        TrialMetric.TRANSFER_VALUE,
        TrialMetric.PLATES_INSTALLED,
        TrialMetric.BUILDINGS,
    ):
        assert rows[metric].trial, metric
    assert rows[TrialMetric.MISSED_CLOSE_HOURS].trial is not None

    # Baselines come from the paper figures the demo entered.
    assert rows[TrialMetric.MISSED_REPORTS].baseline_source == "paper"
    assert rows[TrialMetric.LEVY_RATE].baseline_source == "paper"
    assert rows[TrialMetric.WALLETS].baseline_source == "journal"
    code = report.figures.kelurahan_codes[0]
    area = rows_of(report, code)
    paper = BaselineFigure.objects.get(
        pilot=pilot_city, kelurahan_code=code, metric="levy_rate"
    )
    assert area[TrialMetric.LEVY_RATE].baseline == paper.value
    assert area[TrialMetric.LEVY_RATE].baseline_source == "paper"
    assert area[TrialMetric.WALLETS].baseline == 0
    assert area[TrialMetric.WALLETS].baseline_source == "journal"

    # The checkpoint is the latest block, which covers every folded entry.
    block = Block.objects.latest("height")
    assert report.provenance.block_height == block.height
    assert report.provenance.position == block.tree_size


def test_changed_rollups_fail_the_check(pilot_city):
    tally = Tally.objects.filter(metric="transfers_citizen").first()
    assert tally is not None
    tally.value += 5
    tally.save()

    report = build_trial_report(pilot_city)

    problems = check(report)
    assert problems
    assert any("transfers" in line for line in problems)
    with pytest.raises(CommandError, match="differ from the journal"):
        call_command("pilot", "report", pilot_city.slug, "--check", stdout=StringIO())


def test_check_command_passes(pilot_city):
    out = StringIO()

    call_command("pilot", "report", pilot_city.slug, "--check", stdout=out)

    assert "Every figure matches" in out.getvalue()


def test_report_page_and_pdf_both_languages(pilot_city):
    client = Client()
    client.force_login(User.objects.get(username="command"))
    report = build_trial_report(pilot_city)
    block = Block.objects.latest("height")
    root = base64.b64encode(bytes(block.root_hash)).decode()
    page_url = reverse("pilot_trial:report", args=[pilot_city.slug])
    pdf_url = reverse("pilot_trial:report_pdf", args=[pilot_city.slug])

    texts = {}
    for language in ("en", "id"):
        with translation.override(language):
            expected = [
                row.trial
                for table in trial_display.tables_text(report)
                for row in table.rows
            ]
            title = trial_display.tables_text(report)[1].title
        client.cookies["django_language"] = language
        page = client.get(page_url)
        assert page.status_code == 200
        html = page.content.decode()
        response = client.get(pdf_url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        texts[language] = text
        for value in expected:
            assert value in html, (language, value)
        assert title in text
        assert root in text
        assert root in html
        assert f"{report.provenance.position - 1}" in text
        if language == "en":
            assert "Non-pilot areas" in text
            assert "Non-pilot areas" in html
    assert "Method" in texts["en"]
    assert texts["en"] != texts["id"]


def test_fee_transfers_not_counted_twice():
    day = date(2026, 3, 10)
    state = fold.State()
    state.add("transfers_citizen", day, "13.74.01.1001", "qr_payment", 2)
    state.add("transfers_citizen", day, "13.74.01.1001", "fee", 2)
    state.add("transfer_value_citizen", day, "13.74.01.1001", "qr_payment", 50000)
    state.add("transfer_value_citizen", day, "13.74.01.1001", "fee", 350)
    state.add("transfers_citizen", day, "13.74.01.1002", "p2p", 7)
    tallies = FoldedTallies(state)
    window = Window(day, day)

    count = metric_value(TrialMetric.TRANSFERS, tallies, ["13.74.01.1001"], window)
    value = metric_value(TrialMetric.TRANSFER_VALUE, tallies, ["13.74.01.1001"], window)

    assert count == 2
    assert value == 50000


def test_non_pilot_buildings_scaled_to_area(pilot_city):
    report = build_trial_report(pilot_city)
    codes = ("", *report.figures.kelurahan_codes)

    for code in codes:
        buildings = rows_of(report, code)[TrialMetric.BUILDINGS]
        # Scaled to the area, the non-pilot count is the area's own count.
        assert buildings.others == buildings.trial, code
    assert (
        len({rows_of(report, code)[TrialMetric.BUILDINGS].others for code in codes}) > 1
    )
