"""A kelurahan officer imports last year's spreadsheet of 40 buildings.

One NIK was turned by Excel into 1.37402E+15 and one row is for another
kelurahan. She sees both problems by row and column before anything is
written, imports the valid rows, fixes the file and imports the rest.
"""

import codecs
import re

import pytest
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.registry import import_batches
from kotacerdas.registry.models import Building, Household

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "officer-password-1"
HEADERS = (
    "No. Urut;Kode Kelurahan;RW;RT;Alamat;Penggunaan;Daya Listrik (VA);No. KK;"
    "NIK Kepala Keluarga;Nama Kepala Keluarga"
)


@pytest.fixture
def officer(transactional_db):
    load_profile("padang-panjang")
    pasar_usang = Area.objects.get(code="13.74.02.1002")
    return create_user("petugas", PASSWORD, ["registry_officer"], kelurahan=pasar_usang)


def spreadsheet(fixed: bool) -> bytes:
    """The CSV Excel saves with Indonesian regional settings: BOM and semicolons."""
    lines = [HEADERS]
    for number in range(1, 41):
        kelurahan = "13.74.02.1002"
        nik = f"137402010190{number:04d}"
        if number == 7 and not fixed:
            nik = "1.37402E+15"
        if number == 12 and not fixed:
            kelurahan = "13.74.01.1001"
        lines.append(
            f"PU-{number:03d};{kelurahan};2;{number % 4 + 1};"
            f"Jl. Sutan Syahrir No. {number};rumah;1300;"
            f"137402010115{number:04d};{nik};Warga Nomor {number}"
        )
    return codecs.BOM_UTF8 + "\r\n".join(lines).encode("utf-8")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill("petugas")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")
    # English, so the test does not depend on the Indonesian catalogue.
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def upload(page: Page, base_url: str, data: bytes) -> None:
    page.goto(f"{base_url}/registry/import/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "bangunan-2024.csv", "mimeType": "text/csv", "buffer": data}],
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_url(re.compile(r"/registry/import/[0-9a-f-]{36}/$"))


def test_bad_rows_are_shown_before_anything_is_imported(
    live_server, officer, browser_page, monkeypatch
):
    page = browser_page
    sign_in(page, live_server.url)

    upload(page, live_server.url, spreadsheet(fixed=False))

    expect(page.get_by_test_id("rows-checked")).to_have_text("40")
    expect(page.get_by_test_id("rows-with-errors")).to_have_text("2")
    problems = page.get_by_test_id("import-problems").locator("tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("8")
    expect(problems.nth(0)).to_contain_text("NIK Kepala Keluarga")
    expect(problems.nth(0)).to_contain_text("Excel turned this number into 1.37402E+15")
    expect(problems.nth(1)).to_contain_text("13")
    expect(problems.nth(1)).to_contain_text("Kode Kelurahan")
    expect(problems.nth(1)).to_contain_text(
        "You may import only Kelurahan Pasar Usang; this row is for Kelurahan Ganting."
    )
    expect(page.get_by_role("button", name=re.compile("Import all"))).to_have_count(0)
    assert not Building.objects.exists()

    page.get_by_role("button", name="Import only the 38 valid rows").click()

    expect(page.get_by_test_id("rows-imported")).to_have_text("38")
    assert Building.objects.count() == 38
    assert Household.objects.count() == 38

    # The fixed file goes through the background path, whose progress the page
    # polls until the report is ready.
    monkeypatch.setattr(import_batches, "BACKGROUND_FROM_BYTES", 0)
    upload(page, live_server.url, spreadsheet(fixed=True))

    expect(page.get_by_test_id("rows-new")).to_have_text("2")
    expect(page.get_by_test_id("rows-with-errors")).to_have_text("0")
    page.get_by_role("button", name="Import all 2 rows").click()

    expect(page.get_by_test_id("rows-imported")).to_have_text("2")
    assert Building.objects.count() == 40
    assert Household.objects.count() == 40
