"""Reconciliation pages: who may open them, uploads, reports and CSV export."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from kotacerdas.accounts.roles import ROLES
from kotacerdas.reconciliation import services
from kotacerdas.reconciliation.models import DailyReconciliation, StatementImport
from kotacerdas.reconciliation.statements import import_statement

from .conftest import bank_top_up, statement_csv

pytestmark = pytest.mark.django_db

ALLOWED = {"revenue_officer"}
PERSONAS = [role.name for role in ROLES] + ["outsider"]


@pytest.fixture
def pages(alice):
    """Every reconciliation URL, with a day report and a statement to open."""
    top_up = bank_top_up(alice, 50_000)
    report = services.compute_day(timezone.localdate())
    day = report.date.isoformat()
    local = timezone.localtime(top_up.created_at)
    statement = import_statement(
        statement_csv(f"{local:%d/%m/%Y};{local:%H:%M};TRF;PRQ-X;12.000,00;"),
        "jan.csv",
    ).statement
    return {
        "day_list": ("get", reverse("reconciliation:day_list")),
        "day_detail": ("get", reverse("reconciliation:day_detail", args=[day])),
        "day_recompute": (
            "post",
            reverse("reconciliation:day_recompute", args=[day]),
        ),
        "statement_list": ("get", reverse("reconciliation:statement_list")),
        "statement_template": ("get", reverse("reconciliation:statement_template")),
        "statement_detail": (
            "get",
            reverse("reconciliation:statement_detail", args=[statement.pk]),
        ),
        "statement_mismatches": (
            "get",
            reverse("reconciliation:statement_mismatches", args=[statement.pk]),
        ),
    }


def test_every_page_is_in_the_matrix(pages):
    from kotacerdas.reconciliation.urls import urlpatterns

    assert {pattern.name for pattern in urlpatterns} == set(pages)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_revenue_officer_gets_in(pages, signed_in, persona):
    client = signed_in(persona)

    for name, (method, url) in pages.items():
        response = getattr(client, method)(url)

        if persona in ALLOWED:
            expected = 302 if name == "day_recompute" else 200
            assert response.status_code == expected, name
        else:
            assert response.status_code == 403, name


def test_anonymous_is_sent_to_login(pages, client):
    for name, (method, url) in pages.items():
        response = getattr(client, method)(url)

        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("accounts:login")), name


def test_day_list_shows_status(signed_in, alice):
    bank_top_up(alice, 50_000)
    services.compute_day(timezone.localdate())

    page = signed_in("revenue_officer").get(reverse("reconciliation:day_list"))

    text = page.content.decode()
    assert "OK" in text
    assert "Rp50,000" in text


def test_missing_day_offers_computing(signed_in, city):
    client = signed_in("revenue_officer")
    day = timezone.localdate().isoformat()

    page = client.get(reverse("reconciliation:day_detail", args=[day]))
    response = client.post(reverse("reconciliation:day_recompute", args=[day]))

    assert "This day has no report yet." in page.content.decode()
    assert response.status_code == 302
    assert DailyReconciliation.objects.filter(date=timezone.localdate()).exists()


@pytest.mark.parametrize("day", ["2025-02-30", "yesterday", "2999-01-01"])
def test_invalid_or_future_day_is_404(signed_in, city, day):
    response = signed_in("revenue_officer").get(f"/wallet/reconcile/days/{day}/")

    assert response.status_code == 404


def test_cashier_named_on_day_page(signed_in, personas, alice):
    from kotacerdas.wallet import services as wallet

    cashier = personas["cashier"]
    wallet.top_up(
        alice.number,
        30_000,
        transfer_id="cash-1",
        channel="counter",
        actor=f"user:{cashier.pk}",
    )
    services.compute_day(timezone.localdate())

    page = signed_in("revenue_officer").get(
        reverse("reconciliation:day_detail", args=[timezone.localdate().isoformat()])
    )

    text = page.content.decode()
    assert cashier.get_username() in text
    assert "Rp30,000" in text


def test_upload_shows_report(signed_in, alice):
    top_up = bank_top_up(alice, 50_000)
    local = timezone.localtime(top_up.created_at)
    data = statement_csv(
        f"{local:%d/%m/%Y};{local:%H:%M};TRF;{top_up.reference};50.000,00;",
        f"{local:%d/%m/%Y};{local:%H:%M};TRF;PRQ-9;1.000,50;",
    )
    client = signed_in("revenue_officer")

    response = client.post(
        reverse("reconciliation:statement_list"),
        {"file": io.BytesIO(data)},
        follow=True,
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "has a fraction of a rupiah" in text
    assert top_up.reference in text
    statement = StatementImport.objects.get()
    assert statement.uploaded_by.username == "persona-revenue_officer"


def test_second_upload_says_already_imported(signed_in, alice):
    top_up = bank_top_up(alice, 50_000)
    local = timezone.localtime(top_up.created_at)
    data = statement_csv(f"{local:%d/%m/%Y};;TRF;{top_up.reference};50.000,00;")
    client = signed_in("revenue_officer")
    url = reverse("reconciliation:statement_list")
    client.post(url, {"file": io.BytesIO(data)})

    response = client.post(url, {"file": io.BytesIO(data)}, follow=True)

    assert "This file was already imported" in response.content.decode()
    assert StatementImport.objects.count() == 1


def test_bad_file_shows_field_error(signed_in, city):
    response = signed_in("revenue_officer").post(
        reverse("reconciliation:statement_list"),
        {"file": io.BytesIO(b"Tanggal;Jumlah\n31/01/2025;1.000\n")},
    )

    assert response.status_code == 400
    assert "No header row was found" in response.content.decode()
    assert not StatementImport.objects.exists()


def test_mismatch_export_lists_problems(signed_in, alice, bob):
    listed = bank_top_up(alice, 50_000)
    missing = bank_top_up(bob, 60_000)
    local = timezone.localtime(listed.created_at)
    statement = import_statement(
        statement_csv(
            f"{local:%d/%m/%Y};;TRF;{listed.reference};50.000,00;",
            f"{local:%d/%m/%Y};;=HYPERLINK(1);PRQ-9;7.000,00;",
        ),
        "jan.csv",
    ).statement

    response = signed_in("revenue_officer").get(
        reverse("reconciliation:statement_mismatches", args=[statement.pk])
    )

    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "status"
    statuses = sorted(r[0] for r in rows[1:])
    assert statuses == [
        "In the ledger, not in the statement",
        "In the statement, not in the ledger",
    ]
    assert [r[7] for r in rows[1:] if r[7]] == [missing.reference]
    assert "'=HYPERLINK(1)" in text
    assert listed.reference not in text


def test_template_download_reads_back(signed_in, city):
    from kotacerdas.reconciliation.statement_csv import parse_statement

    response = signed_in("revenue_officer").get(
        reverse("reconciliation:statement_template")
    )

    statement = parse_statement(response.content)
    assert [row.error_code for row in statement.rows] == ["", ""]
    assert statement.rows[0].credit == 50_000
    assert statement.rows[1].debit == 20_000
