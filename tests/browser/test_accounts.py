import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from kotacerdas.city.services import load_profile
from kotacerdas.demo.services import create_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_city(transactional_db):
    load_profile("padang-panjang")
    create_demo_city()


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.locator("main").get_by_role("button", name="Masuk").click()


def test_collector_home_in_both_languages(live_server, demo_city, browser_page):
    page = browser_page

    sign_in(page, live_server.url, "collector", settings.KOTACERDAS_DEMO_PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Selamat datang, collector"
    )
    expect(
        page.get_by_role("heading", level=2, name="Petugas pengangkut")
    ).to_be_visible()
    expect(
        page.get_by_role("link", name="Rute hari ini", exact=True).first
    ).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "id")

    page.select_option("#language-select", "en")

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, collector")
    expect(page.get_by_role("heading", level=2, name="Collector")).to_be_visible()
    expect(page.get_by_text("Scan building plates at pickup")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")


def test_registry_officer_sees_kelurahan(live_server, demo_city, browser_page):
    page = browser_page

    sign_in(page, live_server.url, "registry", settings.KOTACERDAS_DEMO_PASSWORD)

    expect(
        page.get_by_role("heading", level=2, name="Petugas registrasi")
    ).to_be_visible()
    expect(
        page.get_by_text("Wilayah kerja Anda: Kelurahan Pasar Usang")
    ).to_be_visible()


def test_repeated_failures_show_lock_page(live_server, demo_city, browser_page):
    page = browser_page

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, live_server.url, "citizen", "wrong-password")
        expect(page.get_by_text("Nama pengguna atau kata sandi salah.")).to_be_visible()

    # The failure that reaches the limit already gets the lock
    # page, and the right password does not get through while the lock lasts.
    sign_in(page, live_server.url, "citizen", "wrong-password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk dikunci")
    sign_in(page, live_server.url, "citizen", settings.KOTACERDAS_DEMO_PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk dikunci")
    expect(page.get_by_text("Coba lagi dalam 15 menit")).to_be_visible()
