"""The public ledger pages fit a phone's screen (390 x 844 CSS pixels).

Keys, hashes and witness names are long words; a page that does not wrap
them, or lets a wide table widen it, scrolls sideways on a phone. The
witnesses carry the demo witnesses' names, the longest the city runs.
"""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from kotacerdas.journal import services
from kotacerdas.journal.models import (
    Anchor,
    Block,
    ChainDeployment,
    Cosignature,
    Witness,
)
from kotacerdas.journal.notes import cosign, cosigner_key, split_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# A page of the keys, forms and a result is about 3,000 px tall on a phone;
# one character per line made it 13,600 px.
MAX_VERIFY_HEIGHT = 5000
WITNESS_NAMES = (
    "witness.pemkot.padangpanjang.local",
    "witness.banknagari.local",
    "witness.inspektorat.padangpanjang.local",
)


def witnessed_blocks(count: int) -> list[Block]:
    """Seal `count` blocks of two entries each, all co-signed by three witnesses."""
    signers = []
    for name in WITNESS_NAMES:
        key = Ed25519PrivateKey.generate()
        row = Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
        signers.append((row, key))
    blocks = []
    for number in range(count):
        for user in (2 * number + 1, 2 * number + 2):
            with transaction.atomic():
                payload = {"user_id": user, "roles": ["citizen"], "actor_id": None}
                services.append("accounts.roles.changed", payload)
        block = services.seal_pending()
        assert block is not None
        text, _ = split_note(block.note)
        for row, key in signers:
            timestamp = int(time.time())
            Cosignature.objects.create(
                block=block,
                witness=row,
                timestamp=timestamp,
                line=cosign(text, row.name, key, timestamp),
            )
        blocks.append(block)
    return blocks


def anchor_all(blocks: list[Block]) -> None:
    """Record a confirmed anchor of each block on an in-process chain."""
    deployment = ChainDeployment.objects.create(
        chain_id=31337,
        genesis_hash="0x" + "ab" * 32,
        address="0x" + "12" * 20,
        deploy_tx="0x" + "34" * 32,
        partners=["0x" + "12" * 20, "0x" + "13" * 20, "0x" + "14" * 20],
        threshold=2,
        in_process=True,
    )
    for number, block in enumerate(blocks):
        Anchor.objects.create(
            block=block,
            deployment=deployment,
            sender="0x" + "12" * 20,
            nonce=number,
            tx_hash="0x" + f"{number:02x}" * 32,
            status=Anchor.Status.CONFIRMED,
            chain_block_number=100 + number,
            final=True,
            sent_at=timezone.now(),
        )


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def page_height(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


@pytest.fixture
def phone(browser_page: Page) -> Page:
    browser_page.set_viewport_size(PHONE)
    return browser_page


def test_verify_page_fits_a_phone(live_server, phone, tmp_path):
    witnessed_blocks(2)

    phone.goto(f"{live_server.url}/verify/")

    expect(phone.get_by_test_id("verify-keys")).to_contain_text(WITNESS_NAMES[2])
    assert page_width(phone) <= PHONE["width"]
    assert page_height(phone) < MAX_VERIFY_HEIGHT
    phone.screenshot(path=str(tmp_path / "verify-phone.png"), full_page=True)


def test_verify_result_fits_a_phone(live_server, phone, tmp_path):
    witnessed_blocks(2)

    phone.goto(f"{live_server.url}/verify/?entry=1")

    result = phone.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-checked-by", "browser")
    expect(result).to_contain_text(WITNESS_NAMES[2])
    assert page_width(phone) <= PHONE["width"]
    assert page_height(phone) < MAX_VERIFY_HEIGHT
    phone.screenshot(path=str(tmp_path / "verify-result-phone.png"), full_page=True)


def test_ledger_page_fits_a_phone(live_server, phone, tmp_path):
    anchor_all(witnessed_blocks(3))

    phone.goto(f"{live_server.url}/ledger/")

    expect(phone.get_by_test_id("witness-table")).to_contain_text(WITNESS_NAMES[2])
    expect(phone.get_by_test_id("anchors").locator("tbody tr")).to_have_count(3)
    assert page_width(phone) <= PHONE["width"]
    phone.screenshot(path=str(tmp_path / "ledger-phone.png"), full_page=True)


def test_publication_page_fits_a_phone(live_server, phone, tmp_path):
    anchor_all(witnessed_blocks(2))

    phone.goto(f"{live_server.url}/ledger/publication/")

    expect(phone.get_by_test_id("publication-cosigners")).to_contain_text(
        WITNESS_NAMES[2]
    )
    expect(phone.get_by_test_id("publication-root-hex")).to_be_visible()
    assert page_width(phone) <= PHONE["width"]
    phone.screenshot(path=str(tmp_path / "publication-phone.png"), full_page=True)
