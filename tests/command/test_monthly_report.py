"""The monthly PDF report: its figures, its text in both languages, who gets it."""

import base64
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from kotacerdas.command import display, monthly_report, monthly_report_pdf, recompute
from kotacerdas.command.figures import FIGURES_BY_KEY, StoredTallies
from kotacerdas.command.monthly_report import ReportUnavailable
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import Block
from kotacerdas.levy.models import Bill
from kotacerdas.registry.models import Building
from kotacerdas.waste.models import Pickup
from kotacerdas.waste.reports.models import Report

from .test_lists import busy_city  # noqa: F401  (the demo city fixture)

pytestmark = pytest.mark.django_db

VIEWERS = {"admin", "auditor", "command_center"}


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


def report_url(year: int, month: int) -> str:
    return reverse("command:monthly_report", kwargs={"year": year, "month": month})


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def all_lines(report: monthly_report.MonthlyReport) -> list[monthly_report.Line]:
    figures = report.figures
    return [*figures.registry, *figures.money, *figures.waste]


# ------------------------------------------------------- on the demo city


def test_report_figures_match_dashboard_journal_and_pdf(busy_city):  # noqa: F811
    journal.seal_pending()
    today = timezone.localdate()
    report = monthly_report.build_report(today.year, today.month)
    figures = report.figures
    values = {line.key: line.value for line in all_lines(report)}

    # The dashboard's figures for the same period.
    stored = StoredTallies()
    shared = [key for key in values if key in FIGURES_BY_KEY]
    assert len(shared) == 13
    for key in shared:
        assert values[key] == FIGURES_BY_KEY[key].compute(stored, figures.period), key

    # A fold of the journal up to the same position gives the same report.
    folded, upto = recompute.recompute()
    assert upto == report.provenance.position
    assert monthly_report.compute(folded, figures.month, figures.period) == figures

    # The domain tables hold the same month.
    month = today.replace(day=1)
    bills = Bill.objects.filter(month=month).exclude(status=Bill.Status.CANCELLED)
    assert values["levy_billed_month"] == bills.aggregate(s=Sum("amount"))["s"]
    assert values["levy_collected_month"] == bills.aggregate(s=Sum("paid_amount"))["s"]
    counted = Pickup.objects.filter(
        duplicate_of__isnull=True, scanned_at__date__range=(month, today)
    )
    assert values["pickups"] == counted.count() > 0
    assert values["reports_filed"] == Report.objects.count() == 5
    assert values["reports_closed"] == 1
    live = Building.objects.exclude(status=Building.Status.DEMOLISHED).count()
    assert sum(line.buildings for line in figures.kelurahan) == live
    assert (
        sum(line.levy_billed for line in figures.kelurahan)
        == (values["levy_billed_month"])
    )
    grams = sum(grams for _group, _label, grams in figures.tonnage_by_group)
    assert grams == values["tonnage_month"]
    assert not figures.complete

    # Where the figures come from.
    block = Block.objects.order_by("-height").first()
    assert block is not None
    assert report.provenance.block_height == block.height
    assert report.provenance.block_tree_size == block.tree_size
    assert report.provenance.position == block.tree_size

    # The PDF carries every figure in the reader's format, in both languages.
    root = base64.b64encode(bytes(block.root_hash)).decode()
    billed = values["levy_billed_month"]
    texts = {}
    for language in ("en", "id"):
        with translation.override(language):
            text = pdf_text(monthly_report_pdf.render(report))
            expected = [
                display.figure_value(line.unit, line.value)
                for line in all_lines(report)
            ]
            expected += [line.name for line in figures.kelurahan]
            expected.append(formats.date_format(today, "F Y"))
        for value in expected:
            assert value in text, (language, value)
        assert root in text
        assert str(report.provenance.position) in text
        texts[language] = text
    size = report.provenance.position
    assert f"first {size} entries (0 to {size - 1})" in texts["en"]
    assert "Rp" + f"{billed:,}" in texts["en"]
    assert "Rp" + f"{billed:,}".replace(",", ".") in texts["id"]


# ------------------------------------------------------- months and messages


def test_report_for_current_month_over_http(signed_in):
    today = timezone.localdate()
    client = english(signed_in("command_center"))

    response = client.get(report_url(today.year, today.month))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "Registry at the end of the period" in text
    assert "Where these figures come from" in text


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_report_unavailable_months_explained(signed_in):
    client = english(signed_in("command_center"))
    today = timezone.localdate()
    later = next_month(today)
    earlier = previous_month(today)
    cases = [
        (
            later,
            f"{later:%Y-%m} has not begun yet. Choose {today:%Y-%m} or an earlier"
            " month.",
        ),
        (
            earlier,
            f"The journal began in {today:%Y-%m}, so it has nothing for"
            f" {earlier:%Y-%m}. Choose {today:%Y-%m} or a later month.",
        ),
    ]
    for month, message in cases:
        response = client.get(report_url(month.year, month.month))
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode()

    wrong = client.get(report_url(today.year, 13))
    assert wrong.status_code == 404
    assert "Enter a month from 01 to 12 and a year from 2000 to 2099." in (
        wrong.content.decode()
    )


def test_empty_journal_has_no_report(db):
    today = timezone.localdate()

    with translation.override("en"), pytest.raises(ReportUnavailable) as raised:
        monthly_report.month_period(today.year, today.month)

    assert raised.value.message == (
        "The journal has no entries yet, so there is nothing to report."
    )
    assert monthly_report.available_months() == []


def test_past_month_covers_whole_month(city, monkeypatch):
    today = timezone.localdate()
    earlier = previous_month(today)
    monkeypatch.setattr(monthly_report, "journal_start", lambda: earlier)

    report = monthly_report.build_report(earlier.year, earlier.month)
    with translation.override("en"):
        text = pdf_text(monthly_report_pdf.render(report))

    last_day = today.replace(day=1) - timedelta(days=1)
    assert report.figures.complete
    assert report.figures.period.today == last_day
    assert report.figures.period.month_start == earlier
    assert f"Figures for the whole month, to {last_day.day} " in text
    assert monthly_report.available_months() == [today.replace(day=1), earlier]


def test_report_form_redirects_or_explains(signed_in):
    client = english(signed_in("command_center"))
    today = timezone.localdate()
    form_url = reverse("command:report_form")

    page = client.get(form_url)
    assert page.status_code == 200
    assert f'data-month="{today:%Y-%m}"' in page.content.decode()

    chosen = client.get(form_url, {"month": f"{today:%Y-%m}"})
    assert chosen.status_code == 302
    assert chosen["Location"] == report_url(today.year, today.month)

    later = next_month(today)
    for sent, message in (
        ("2026-13", "The month must be from 01 to 12, such as 2026-12."),
        ("March", "Enter the month as YYYY-MM, such as 2026-12."),
        (f"{later:%Y-%m}", f"{later:%Y-%m} has not begun yet."),
    ):
        response = client.get(form_url, {"month": sent})
        assert response.status_code == 400, sent
        assert message in response.content.decode(), sent


# ------------------------------------------------------------------ access


def test_report_only_for_dashboard_roles(personas, signed_in):
    today = timezone.localdate()
    urls = (reverse("command:report_form"), report_url(today.year, today.month))

    assert len(personas) == 12  # eleven roles and one user without a role
    for persona in personas:
        client = signed_in(persona)
        for url in urls:
            expected = 200 if persona in VIEWERS else 403
            assert client.get(url).status_code == expected, (persona, url)
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
