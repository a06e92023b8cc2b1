"""The verify page in chromium after node and witness key rotations.

The page checks bundles with WebCrypto (bundle-check.js), so these tests show
that the browser reads the key history as kotacerdas.verify does.
"""

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from playwright.sync_api import Page, expect, sync_playwright
from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_PATH

from kotacerdas.journal import bundles, services, witnessing
from kotacerdas.journal.keys import create_signing_key, node_key
from kotacerdas.journal.models import Block, Cosignature, Witness
from kotacerdas.journal.notes import cosign, cosigner_key, split_note
from kotacerdas.ops import keyring
from kotacerdas.verify import verify_bundle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORIGIN = "kotacerdas.padangpanjang.local/journal"
NAMES = ("witness.bank.example", "witness.uni.example")
CHECK_IN_PAGE = """
async ([bundle, keys]) => {
  try {
    await window.KotaCerdasBundle.verifyBundle(bundle, keys);
    return "ok";
  } catch (error) {
    return error instanceof window.KotaCerdasBundle.Failure ? error.code : String(error);
  }
}
"""


@pytest.fixture
def key_file(settings, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "keys" / "node-ed25519.pem"
    settings.KOTACERDAS_SIGNING_KEY_FILE = path
    settings.KOTACERDAS_LEDGER_ORIGIN = ORIGIN
    settings.KOTACERDAS_WITNESS_QUORUM = 2
    settings.VAR_DIR = tmp_path / "var"
    create_signing_key(path)
    node_key.cache_clear()
    yield path
    node_key.cache_clear()


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    """A page in a new headless chromium, as tests/browser/conftest.py makes it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="id-ID")
        context.set_default_timeout(10_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def seal(count: int) -> Block:
    for number in range(count):
        with transaction.atomic():
            payload = {"user_id": number + 1, "roles": ["citizen"], "actor_id": None}
            services.append("accounts.roles.changed", payload)
    block = services.seal_pending()
    assert block is not None
    return block


def cosign_block(block: Block, keys: dict[str, Ed25519PrivateKey]) -> None:
    text, _ = split_note(block.note)
    for name, key in keys.items():
        timestamp = int(time.time())
        Cosignature.objects.create(
            block=block,
            witness=Witness.objects.get(name=name),
            timestamp=timestamp,
            line=cosign(text, name, key, timestamp),
        )


def rotated_ledger(tmp_path: Path, settings) -> dict[str, dict]:
    """Build a ledger across a node and a witness key rotation; return bundles by name.

    Block 0 (3 entries): old node key, both witnesses with their first keys.
    Block 1 (5 entries): new node key, the bank witness with its new key.
    Block 2 (7 entries): the old node key again, as a stale process would.
    """
    keys = {name: Ed25519PrivateKey.generate() for name in NAMES}
    for name, key in keys.items():
        Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
    cosign_block(seal(3), keys)
    made = {"old": bundles.build_bundle(1)}
    rotation = keyring.rotate_node_key()
    old_bank_key = keys[NAMES[0]]
    keys[NAMES[0]] = Ed25519PrivateKey.generate()
    witnessing.replace_witness_key(
        NAMES[0], cosigner_key(NAMES[0], keys[NAMES[0]].public_key())
    )
    second = seal(2)
    cosign_block(second, keys)
    made["new"] = bundles.build_bundle(4)
    with_retired_key = dict(made["new"])
    text, _ = split_note(second.note)
    stamp = int(time.time())
    with_retired_key["checkpoint"] = second.note + cosign(
        text, NAMES[0], old_bank_key, stamp
    )
    made["retired_witness_key"] = with_retired_key

    stale = tmp_path / "stale.pem"
    shutil.copy(rotation.retired_file, stale)
    settings.KOTACERDAS_SIGNING_KEY_FILE = stale
    # Today's sealer rejects a stale key file. Seal past that check, as an
    # older sealer would have, so the verify page gets a block to reject.
    with patch.object(services, "sealing_key", node_key):
        seal(2)
    settings.KOTACERDAS_SIGNING_KEY_FILE = tmp_path / "keys" / "node-ed25519.pem"
    made["stale_node_key"] = bundles.build_bundle(6)
    return made


def test_browser_checks_bundles_across_rotation(
    key_file: Path, settings, tmp_path: Path, live_server, browser_page: Page
) -> None:
    made = rotated_ledger(tmp_path, settings)
    keys = bundles.published_keys()
    browser_page.goto(f"{live_server.url}/verify/")
    expected = {
        "old": "ok",
        "new": "ok",
        "retired_witness_key": "cosignature",
        "stale_node_key": "signature",
    }

    for name, bundle in made.items():
        python = verify_bundle(bundle, keys)
        in_page = browser_page.evaluate(CHECK_IN_PAGE, [bundle, keys])

        assert in_page == expected[name], name
        assert ("ok" if python.ok else python.code) == expected[name], name


def test_old_receipt_valid_on_page(
    key_file: Path, settings, tmp_path: Path, live_server, browser_page: Page
) -> None:
    made = rotated_ledger(tmp_path, settings)
    upload = tmp_path / "receipt-1.json"
    upload.write_text(json.dumps(made["old"]))
    browser_page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    browser_page.goto(f"{live_server.url}/verify/")

    browser_page.set_input_files("#bundle", str(upload))
    browser_page.get_by_role("button", name="Check the file").click()

    result = browser_page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-valid", "true")
    expect(result).to_have_attribute("data-checked-by", "browser")
    expect(browser_page.get_by_test_id("verify-headline")).to_have_text(
        "Valid: included in the checkpoint of 3 entries, co-signed by 2 of 2 witnesses."
    )


def test_new_entry_valid_on_page(
    key_file: Path, settings, tmp_path: Path, live_server, browser_page: Page
) -> None:
    rotated_ledger(tmp_path, settings)
    browser_page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )

    browser_page.goto(f"{live_server.url}/verify/?entry=4")

    result = browser_page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-valid", "true")
    expect(result).to_have_attribute("data-checked-by", "browser")
    expect(browser_page.get_by_test_id("verify-headline")).to_have_text(
        "Valid: included in the checkpoint of 5 entries, co-signed by 2 of 2 witnesses."
    )
