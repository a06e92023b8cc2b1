"""The public ledger status page follows new checkpoints without a reload."""

import pytest
from django.db import transaction

from kotacerdas.journal import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_TIMEOUT_MS = 15_000


def append_and_seal(count: int) -> None:
    for index in range(count):
        with transaction.atomic():
            services.append(
                "accounts.roles.changed",
                {"user_id": index + 1, "roles": ["citizen"], "actor_id": None},
            )
    services.seal_pending()


def test_status_page_follows_checkpoints(live_server, browser_page) -> None:
    start = services.journal_size()
    append_and_seal(3)

    browser_page.goto(f"{live_server.url}/ledger/")
    size = browser_page.get_by_test_id("checkpoint-size")

    assert browser_page.locator("html").get_attribute("lang") == "id"
    assert size.inner_text() == str(start + 3)

    append_and_seal(2)
    browser_page.wait_for_function(
        "expected => document.querySelector('[data-testid=checkpoint-size]')"
        ".textContent.trim() === expected",
        arg=str(start + 5),
        timeout=POLL_TIMEOUT_MS,
    )
    note = browser_page.get_by_test_id("checkpoint-note").inner_text()

    assert f"\n{start + 5}\n" in note
    assert "\u2014 " in note


def test_entry_page_shows_proof(live_server, browser_page) -> None:
    append_and_seal(5)

    browser_page.goto(f"{live_server.url}/ledger/entries/2/")

    assert browser_page.locator("ol.proof li").count() == 3
    assert "accounts.roles.changed" in browser_page.content()
