"""Statement pages and exports: who reaches them, and the PDF and XLSX contents."""

import base64
import io

import openpyxl
import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from tests.sharing.statement_setup import (
    add_cost,
    citizen,
    make_pilot,
    merchant,
    pay,
    set_schedule,
    top_up,
)

from kotacerdas.accounts.roles import ROLES
from kotacerdas.journal import services as journal
from kotacerdas.sharing.statement import compute

pytestmark = pytest.mark.django_db

ALLOWED = {"admin", "revenue_officer", "auditor"}
PERSONAS = [role.name for role in ROLES] + ["outsider"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def month_text():
    return f"{timezone.localdate():%Y-%m}"


def urls():
    query = f"?month={month_text()}&party=partner"
    return [
        reverse("sharing:statement"),
        reverse("sharing:statement") + query,
        reverse("sharing:statement_pdf") + query,
        reverse("sharing:statement_xlsx") + query,
    ]


@pytest.fixture
def trading(city, personas):
    set_schedule(city)
    pilot = make_pilot()
    alice, shop = citizen(), merchant()
    top_up(alice, 1_900_000)
    pay(alice, shop, 1_234_567)
    add_cost(pilot, personas["admin"], amount=2_500_000, text="=Server sewa")
    return pilot


def pdf_text(content):
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


def client_in(signed_in, language):
    client = signed_in("auditor")
    client.cookies["django_language"] = language
    return client


# Access -----------------------------------------------------------------------------


def test_eleven_roles_are_tried():
    assert len(ROLES) == 11
    assert {role.name for role in ROLES} >= ALLOWED


@pytest.mark.parametrize("persona", PERSONAS)
def test_statement_access_by_role(signed_in, trading, persona):
    client = signed_in(persona)

    for url in urls():
        response = client.get(url)
        if persona in ALLOWED:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
            templates = [template.name for template in response.templates]
            assert "403.html" in templates, url


@pytest.mark.parametrize("index", range(4))
def test_statement_sends_visitor_to_login(trading, index):
    response = Client().get(urls()[index])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


# The page ---------------------------------------------------------------------------


def test_page_shows_figures_and_position(signed_in, trading):
    client = client_in(signed_in, "en")
    found = compute(timezone.localdate(), "partner")

    response = client.get(urls()[1])

    page = response.content.decode()
    assert f'data-position="{found.position}"' in page
    assert "Revenue by source" in page
    assert "QRIS-UMI" in page
    assert "=Server sewa" in page
    assert f"Rp{found.owed_to_partner_rupiah:,}" in page
    # The partner's costs exceed its fee share, and the sign leads the symbol.
    assert found.party_net_rupiah < 0
    assert f"-Rp{-found.party_net_rupiah:,}" in page
    assert "equals the wallet ledger" in page
    assert f"position={found.position}" in page


def test_page_rejects_bad_month(signed_in, trading):
    client = client_in(signed_in, "en")

    response = client.get(reverse("sharing:statement") + "?month=2026-13&party=city")

    assert response.status_code == 400
    assert "The month must be from 01 to 12" in response.content.decode()


def test_page_rejects_position_past_end(signed_in, trading):
    client = client_in(signed_in, "en")
    size = journal.journal_size()

    response = client.get(urls()[1] + f"&position={size + 5}")

    assert response.status_code == 400
    assert "fewer entries than this position" in response.content.decode()


def test_export_of_bad_month_shows_form(signed_in, trading):
    client = client_in(signed_in, "en")

    response = client.get(reverse("sharing:statement_pdf") + "?month=x&party=city")

    assert response.status_code == 400
    assert "Enter the month as YYYY-MM" in response.content.decode()


# PDF and XLSX in both languages ----------------------------------------------------


@pytest.mark.parametrize("language", ["en", "id"])
def test_pdf_text_in_reader_language(signed_in, trading, language):
    client = client_in(signed_in, language)
    found = compute(timezone.localdate(), "partner")

    response = client.get(urls()[2] + f"&position={found.position}")

    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    with translation.override(language):
        month = formats.date_format(found.month, "F Y")
        owed = formats.number_format(found.owed_to_partner_rupiah, force_grouping=True)
        heading = gettext("Revenue by source")
        source = gettext("Where these figures come from")
    assert month in text
    assert heading in text
    assert source in text
    assert f"Rp{owed}" in text
    assert "QRIS-UMI" in text
    assert str(found.position) in text
    if language == "id":
        assert "." in owed
    else:
        assert "," in owed


@pytest.mark.parametrize("language", ["en", "id"])
def test_xlsx_cells_in_reader_language(signed_in, trading, language):
    client = client_in(signed_in, language)
    found = compute(timezone.localdate(), "partner")

    response = client.get(urls()[3])

    assert response["Content-Type"] == XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    with translation.override(language):
        owed_label = gettext("Owed by the city to the partner")
        month = formats.date_format(found.month, "F Y")
    summary = workbook.worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row}
    assert values[owed_label] == found.owed_to_partner_rupiah
    assert month in summary["A1"].value
    costs = workbook.worksheets[2]
    rows = list(costs.iter_rows(values_only=True))
    assert rows[1][5] == 2_500_000
    # Typed text that a spreadsheet would run as a formula is kept as text.
    assert rows[1][4] == "'=Server sewa"
    revenue = workbook.worksheets[1]
    cells = list(revenue.iter_rows(values_only=True))
    assert {row[0] for row in cells[1:]} == {"QRIS-UMI", "TOPUP"}
    assert sum(row[4] for row in cells[1:]) == found.fees_rupiah


def test_page_names_block_root_hash(signed_in, trading):
    call_command("ledger", "seal")
    client = client_in(signed_in, "en")
    block = journal.latest_block()

    response = client.get(urls()[1])

    page = response.content.decode()
    assert base64.b64encode(bytes(block.root_hash)).decode() in page
    assert f"Block {block.height}," in page
