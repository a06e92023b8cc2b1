"""From a new building to a scanned plate, in Indonesian, as the city's staff do it.

A registry officer registers a house and downloads its plate; the page of the
PDF goes, as a picture, to a collector's scan page, which must show that
house. A QR code with the same plate code but a signature the city never made
must show the forged message instead.
"""

import io
import re

import pypdfium2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page, expect

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.registry.models import Building
from kotacerdas.registry.plates import _b64url, public_keys_json, signed_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "journey-password-1"
ADDRESS = "Jl. Imam Bonjol No. 7"
FORGED_ID = "Kode QR ini tidak ditandatangani oleh Pemerintah Kota"


@pytest.fixture
def staff(transactional_db):
    load_profile("padang-panjang")
    pasar_usang = Area.objects.get(code="13.74.02.1002")
    return {
        "officer": create_user(
            "petugas", PASSWORD, ["registry_officer"], kelurahan=pasar_usang
        ),
        "collector": create_user("pengangkut", PASSWORD, ["collector"]),
    }


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def sign_out(page: Page) -> None:
    page.locator("form.logout button").click()


def test_registered_plate_scans_back(live_server, staff, browser_page, tmp_path):
    page = browser_page
    sign_in(page, live_server.url, "petugas")

    page.goto(f"{live_server.url}/registry/buildings/new/")
    page.locator("#id_rw").fill("4")
    page.locator("#id_rt").fill("1")
    page.locator("#id_street_address").fill(ADDRESS)
    page.locator("#id_use").select_option("house")
    page.locator("#id_pln_va").fill("1300")
    page.locator("#location-picker").click()
    page.locator("form.building-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/registry/buildings/\d+/$"))
    building = Building.objects.get(street_address=ADDRESS)
    expect(page.locator("[data-levy]")).to_contain_text("Rumah Tangga II")
    expect(page.locator("[data-levy]")).to_contain_text("7.500")

    with page.expect_download() as download_info:
        page.locator('a[href$="plate.pdf"]').first.click()
    pdf_path = tmp_path / "plate.pdf"
    download_info.value.save_as(pdf_path)
    plate_picture = tmp_path / "plate.png"
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    pdf[0].render(scale=200 / 72).to_pil().convert("RGB").save(plate_picture)
    sign_out(page)

    sign_in(page, live_server.url, "pengangkut")
    page.goto(f"{live_server.url}/scan/")
    page.set_input_files("#photo", str(plate_picture))
    page.locator("#photo").locator("xpath=ancestor::form").locator(
        "button[type=submit]"
    ).click()
    expect(page.get_by_test_id("scan-code")).to_have_text(building.plate_code)
    expect(page.get_by_test_id("building-address")).to_have_text(ADDRESS)

    kid = next(iter(public_keys_json()))
    signature = _b64url(
        Ed25519PrivateKey.generate().sign(signed_message(kid, building.plate_code))
    )
    forged_url = f"{live_server.url}/p/{building.plate_code}?k={kid}&s={signature}"
    forged_picture = tmp_path / "forged.png"
    buffer = io.BytesIO()
    segno.make_qr(forged_url, error="h").save(buffer, kind="png", scale=6, border=4)
    forged_picture.write_bytes(buffer.getvalue())
    page.goto(f"{live_server.url}/scan/")
    page.set_input_files("#photo", str(forged_picture))
    page.locator("#photo").locator("xpath=ancestor::form").locator(
        "button[type=submit]"
    ).click()
    expect(page.get_by_test_id("scan-message")).to_contain_text(FORGED_ID)
    expect(page.get_by_test_id("building-address")).to_have_count(0)
