"""Playwright fixtures: Debian's chromium driven through the sync API."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, sync_playwright

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    """Yield a fresh page in a new headless chromium with default timeouts of 10 s."""
    # Playwright's sync API runs an event loop in this thread, and Django refuses
    # ORM calls from a thread with a running loop unless this is set.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="id-ID")
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def sign_in(page: Page, base_url: str, user, language: str) -> None:
    """Sign `user` in on the page's context, reading pages in `language`."""
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url},
        ]
    )
