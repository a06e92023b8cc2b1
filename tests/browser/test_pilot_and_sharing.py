"""The pilot's trial report and the monthly sharing statement in chromium.

The auditor reaches the trial report from the home page and the revenue officer
opens the current month's statement, each in Indonesian and English. The city
runs the fee schedule and sharing rule of its shipped profile, so the demo
pilot's payments leave fees in the statement. Screenshots go to
var/test-output/screenshots/ for a person to look at.
"""

import tomllib
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Page, expect
from tests.browser.conftest import sign_in

from kotacerdas.command import projector
from kotacerdas.demo import services as demo
from kotacerdas.demo.pilot import PILOT_SLUG
from kotacerdas.pilot.models import Pilot
from kotacerdas.sharing import schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SEED = 5
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var/test-output/screenshots"
PROFILE = ROOT / "src/kotacerdas/city/data/padang-panjang/profile.toml"


def in_language(language: str, text: str, context: str = "") -> str:
    with translation.override(language):
        return pgettext(context, text) if context else gettext(text)


@pytest.fixture
def pilot_city(city):
    """The small demo city with its pilot, under the shipped fee schedule."""
    profile = tomllib.loads(PROFILE.read_text(encoding="utf-8"))
    sections = {"fees": profile["fees"], "sharing": profile["sharing"]}
    city.settings = {**city.settings, **schedule.read_section(sections)}
    city.save(update_fields=["settings"])
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED, pilot=True)
    projector.catch_up()
    return city


def check_trial_report(page: Page, base_url: str, language: str) -> None:
    pilot = Pilot.objects.get(slug=PILOT_SLUG)
    page.goto(f"{base_url}/")
    links = page.locator("nav.pilot-links")
    expect(links.get_by_role("heading")).to_have_text(
        in_language(language, "Pilot trial reports")
    )
    links.get_by_role("link", name=pilot.name).click()

    expect(page).to_have_url(f"{base_url}/pilot/{PILOT_SLUG}/report/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    title = in_language(language, "Trial report: %(name)s") % {"name": pilot.name}
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    change = in_language(language, "Change", "difference between periods")
    expect(page.locator("th", has_text=change).first).to_be_visible()
    expect(
        page.get_by_role("heading", name=in_language(language, "Method"))
    ).to_be_visible()
    checkpoint = in_language(language, "Journal checkpoint")
    expect(page.get_by_role("heading", name=checkpoint)).to_be_visible()
    page.screenshot(
        path=str(SCREENSHOTS / f"pilot-trial-report-{language}.png"), full_page=True
    )


def check_statement(page: Page, base_url: str, language: str) -> None:
    month = timezone.localdate().strftime("%Y-%m")
    page.goto(f"{base_url}/sharing/statements/?month={month}&party=partner")

    expect(page.locator("html")).to_have_attribute("lang", language)
    heading = in_language(language, "Monthly sharing statement")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    revenue = in_language(language, "Revenue by source")
    expect(page.get_by_role("heading", name=revenue)).to_be_visible()
    # Every fee of the shipped schedule was charged by the demo pilot's payments.
    for code in ("QRIS-UMI", "TOPUP", "CASHOUT", "LEVY-SERVICE"):
        expect(
            page.locator("section.statement td", has_text=code).first
        ).to_be_visible()
    empty = in_language(language, "No fees were charged in this month.")
    expect(page.get_by_text(empty)).to_have_count(0)
    page.screenshot(
        path=str(SCREENSHOTS / f"sharing-statement-{language}.png"), full_page=True
    )


def test_trial_report_and_statement_in_chromium(
    live_server, browser_page, personas, pilot_city
):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    for language in ("id", "en"):
        sign_in(page, live_server.url, personas["auditor"], language)
        check_trial_report(page, live_server.url, language)
        sign_in(page, live_server.url, personas["revenue_officer"], language)
        check_statement(page, live_server.url, language)
