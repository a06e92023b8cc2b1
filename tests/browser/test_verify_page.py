"""The verify page in chromium: the check runs in the browser with WebCrypto.

Chromium has Ed25519 in WebCrypto, so every check here runs in verify.js and
the page must say so. Witness rows and their cosignature/v1 lines are made in
the test database so the checkpoint meets the quorum of 2.
"""

import io
import json
import time
from pathlib import Path

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from playwright.sync_api import Page, expect

from kotacerdas.journal import bundles, services
from kotacerdas.journal.models import Block, Cosignature, Witness
from kotacerdas.journal.notes import cosign, cosigner_key, split_note
from kotacerdas.verify import encode_payload, verify_bundle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITNESS_NAMES = ("witness.bank.example", "witness.uni.example")
VALID_EN = (
    "Valid: included in the checkpoint of 4 entries, co-signed by 2 of 2 witnesses."
)
PROOF_INVALID_EN = (
    "Invalid: the inclusion proof does not lead to the checkpoint's root, "
    "so the entry or the proof was changed."
)
CHECKED_IN_BROWSER_EN = (
    "Checked in your browser with WebCrypto. The server only supplied the "
    "bundle and the public keys."
)


def witnessed_block(count: int) -> Block:
    """Append, seal and have two witnesses co-sign, as the node and witnesses do."""
    for number in range(count):
        with transaction.atomic():
            payload = {"user_id": number + 1, "roles": ["citizen"], "actor_id": None}
            services.append("accounts.roles.changed", payload)
    block = services.seal_pending()
    assert block is not None
    text, _ = split_note(block.note)
    for name in WITNESS_NAMES:
        key = Ed25519PrivateKey.generate()
        witness = Witness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{name}",
            vkey=cosigner_key(name, key.public_key()),
        )
        timestamp = int(time.time())
        Cosignature.objects.create(
            block=block,
            witness=witness,
            timestamp=timestamp,
            line=cosign(text, name, key, timestamp),
        )
    return block


def use_english(page: Page, base_url: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url}]
    )


def result(page: Page):
    return page.get_by_test_id("verify-result")


def test_entry_verified_in_browser_english(live_server, browser_page, tmp_path):
    page = browser_page
    witnessed_block(4)
    use_english(page, live_server.url)

    page.goto(f"{live_server.url}/verify/?entry=2")

    expect(result(page)).to_have_attribute("data-valid", "true")
    expect(page.get_by_test_id("verify-headline")).to_have_text(VALID_EN)
    expect(result(page)).to_have_attribute("data-checked-by", "browser")
    expect(page.get_by_test_id("verify-checked-by")).to_have_text(CHECKED_IN_BROWSER_EN)
    expect(result(page)).to_contain_text("witness.bank.example, witness.uni.example")
    expect(result(page)).to_contain_text("accounts.roles.changed")
    page.screenshot(path=str(tmp_path / "verify-entry-en.png"), full_page=True)


def test_entry_verified_in_browser_indonesian(live_server, browser_page, tmp_path):
    page = browser_page
    witnessed_block(4)

    page.goto(f"{live_server.url}/verify/?entry=3")

    assert page.locator("html").get_attribute("lang") == "id"
    expect(result(page)).to_have_attribute("data-valid", "true")
    expect(result(page)).to_have_attribute("data-checked-by", "browser")
    expect(page.get_by_test_id("verify-headline")).to_contain_text("4")
    page.screenshot(path=str(tmp_path / "verify-entry-id.png"), full_page=True)


def write_bundle(path: Path, bundle: dict) -> Path:
    path.write_text(json.dumps(bundle, indent=2))
    return path


def test_tampered_upload_is_red(live_server, browser_page, tmp_path):
    page = browser_page
    witnessed_block(4)
    bundle = bundles.build_bundle(1)
    body = bundle["entry"]["body"].replace('"citizen"', '"collector"')
    forged = write_bundle(
        tmp_path / "forged.json", {**bundle, "entry": {**bundle["entry"], "body": body}}
    )
    genuine = write_bundle(tmp_path / "genuine.json", bundle)
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.set_input_files("#bundle", str(genuine))
    page.get_by_role("button", name="Check the file").click()
    expect(result(page)).to_have_attribute("data-valid", "true")

    page.set_input_files("#bundle", str(forged))
    page.get_by_role("button", name="Check the file").click()

    expect(result(page)).to_have_attribute("data-valid", "false")
    expect(result(page)).to_have_attribute("data-code", "proof")
    expect(result(page)).to_have_attribute("data-checked-by", "browser")
    expect(page.get_by_test_id("verify-headline")).to_have_text(PROOF_INVALID_EN)
    page.screenshot(path=str(tmp_path / "verify-tampered-en.png"), full_page=True)


def test_tampered_upload_is_red_indonesian(live_server, browser_page, tmp_path):
    page = browser_page
    witnessed_block(4)
    bundle = bundles.build_bundle(1)
    bundle["checkpoint"] = bundle["checkpoint"].replace("\n4\n", "\n5\n", 1)
    forged = write_bundle(tmp_path / "forged.json", bundle)
    page.goto(f"{live_server.url}/verify/")

    page.set_input_files("#bundle", str(forged))
    page.locator("#bundle-form button").click()

    expect(result(page)).to_have_attribute("data-valid", "false")
    expect(result(page)).to_have_attribute("data-code", "signature")
    page.screenshot(path=str(tmp_path / "verify-tampered-id.png"), full_page=True)


def test_pasted_receipt_code_verified(live_server, browser_page):
    page = browser_page
    witnessed_block(4)
    payload = encode_payload(bundles.build_bundle(0))
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.fill("#text", payload)
    page.get_by_role("button", name="Check the text").click()

    expect(page.get_by_test_id("verify-headline")).to_have_text(VALID_EN)
    expect(result(page)).to_have_attribute("data-checked-by", "browser")


def test_non_json_paste_named(live_server, browser_page):
    page = browser_page
    witnessed_block(2)
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.fill("#text", "this is not a bundle")
    page.get_by_role("button", name="Check the text").click()

    expect(result(page)).to_have_attribute("data-code", "not_json")
    expect(page.get_by_test_id("verify-headline")).to_have_text(
        "Invalid: the file or text is not JSON, and not a receipt code starting "
        "with KCB1:."
    )


def test_receipt_address_pasted_points_to_the_proof_qr(live_server, browser_page):
    page = browser_page
    witnessed_block(2)
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.fill("#text", f"{live_server.url}/receipts/TRX-DN3Z9P42QC/")
    page.get_by_role("button", name="Check the text").click()

    expect(result(page)).to_have_attribute("data-code", "receipt_url")
    expect(page.get_by_test_id("verify-headline")).to_contain_text(
        "Scan the larger proof QR code below it"
    )


def test_receipt_qr_photo_verified(live_server, browser_page, tmp_path):
    page = browser_page
    witnessed_block(4)
    payload = encode_payload(bundles.build_bundle(2))
    photo = tmp_path / "receipt-qr.png"
    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=4, border=4)
    photo.write_bytes(buffer.getvalue())
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="Check the photo").click()

    expect(page.get_by_test_id("verify-headline")).to_have_text(VALID_EN)
    expect(result(page)).to_have_attribute("data-checked-by", "browser")
    page.screenshot(path=str(tmp_path / "verify-photo-en.png"), full_page=True)


def test_unsealed_entry_message(live_server, browser_page):
    page = browser_page
    witnessed_block(2)
    with transaction.atomic():
        services.append(
            "accounts.roles.changed",
            {"user_id": 9, "roles": ["citizen"], "actor_id": None},
        )
    use_english(page, live_server.url)

    page.goto(f"{live_server.url}/verify/?entry=2")

    expect(result(page)).to_have_attribute("data-code", "not_sealed")


def test_publication_prints_without_nav(live_server, browser_page, tmp_path):
    page = browser_page
    block = witnessed_block(3)
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/ledger/publication/")

    page.emulate_media(media="print")

    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_test_id("publication-size")).to_have_text(str(block.tree_size))
    page.pdf(path=str(tmp_path / "publication.pdf"), format="A4")
    page.screenshot(path=str(tmp_path / "publication-print.png"), full_page=True)


# Runs bundle-check.js on one bundle and returns "ok" or the failure code.
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


def mutated(
    bundle: dict, field: str, position: int, character: str, number: int
) -> dict:
    """Return a copy of the bundle with one field changed in one place."""
    copy = json.loads(json.dumps(bundle))

    def replace(text: str) -> str:
        at = position % len(text)
        return text[:at] + character + text[at + 1 :]

    if field == "body":
        copy["entry"]["body"] = replace(copy["entry"]["body"])
    elif field == "checkpoint":
        copy["checkpoint"] = replace(copy["checkpoint"])
    elif field == "proof":
        hashes = copy["proof"]
        hashes[position % len(hashes)] = replace(hashes[position % len(hashes)])
    elif field == "drop_proof":
        copy["proof"].pop(position % len(copy["proof"]))
    elif field == "index":
        copy["entry"]["index"] = number
    return copy


MUTATIONS = st.tuples(
    st.sampled_from(["body", "checkpoint", "proof", "drop_proof", "index"]),
    st.integers(min_value=0, max_value=10_000),
    st.characters(min_codepoint=32, max_codepoint=126),
    st.integers(min_value=-2, max_value=12),
)


def test_browser_and_python_agree(live_server, browser_page):
    page = browser_page
    witnessed_block(6)
    bundle = bundles.build_bundle(3)
    keys = bundles.published_keys()
    page.goto(f"{live_server.url}/verify/")
    assert page.evaluate(CHECK_IN_PAGE, [bundle, keys]) == "ok"

    @hypothesis_settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(MUTATIONS)
    def agree(mutation: tuple[str, int, str, int]) -> None:
        changed = mutated(bundle, *mutation)
        python = verify_bundle(changed, keys)
        expected = "ok" if python.ok else python.code

        assert page.evaluate(CHECK_IN_PAGE, [changed, keys]) == expected, python.reason

    agree()
