"""The verify page's server side: the check without WebCrypto, bad input, ?entry=N."""

import io
import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format
from PIL import Image

from kotacerdas.journal import bundles
from kotacerdas.verify import encode_payload

from .conftest import append_events, seal

JSON = {"HTTP_ACCEPT": "application/json"}


def panel(response) -> dict[str, str]:
    """Return the result panel's data attributes and headline from a page."""
    html = response.content.decode()
    match = re.search(
        r'data-testid="verify-result" data-valid="(\w+)" data-code="(\w*)"', html
    )
    assert match, "the page shows no result panel"
    headline = re.search(r'data-testid="verify-headline"[^>]*>([^<]*)<', html)
    assert headline
    return {"valid": match.group(1), "code": match.group(2), "headline": headline[1]}


def tampered(bundle: dict[str, Any]) -> dict[str, Any]:
    """Return the bundle with the entry's roles changed, as a forger would."""
    body = bundle["entry"]["body"].replace('"citizen"', '"collector"')
    assert body != bundle["entry"]["body"]
    return {**bundle, "entry": {**bundle["entry"], "body": body}}


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="l").save(buffer, kind="png", scale=4, border=4)
    return buffer.getvalue()


def test_page_is_public_with_key_fingerprints(witnesses, indonesian: Client):
    response = indonesian.get("/verify/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert 'data-testid="log-fingerprint"' in html
    for witness in witnesses:
        assert witness.row.vkey in html
    assert 'id="verify-keys"' in html
    assert 'id="verify-texts"' in html


def test_valid_bundle_posted_without_javascript(witnessed_block, english: Client):
    witnessed_block(5)
    bundle = bundles.build_bundle(2)

    response = english.post("/verify/", {"text": json.dumps(bundle)})

    result = panel(response)
    assert result["valid"] == "true"
    assert result["headline"] == (
        "Valid: included in the checkpoint of 5 entries, co-signed by 2 of 3 witnesses."
    )
    html = response.content.decode()
    assert "witness.bank.example, witness.inspectorate.example" in html
    assert "accounts.roles.changed" in html
    assert "No chain anchor in this bundle yet." in html
    assert 'data-testid="verify-checked-by">Checked on the server.<' in html


def test_valid_bundle_fallback_returns_json(witnessed_block, english: Client):
    witnessed_block(4)
    bundle = bundles.build_bundle(3)

    response = english.post("/verify/", {"text": json.dumps(bundle)}, **JSON)

    result = response.json()["result"]
    assert result["ok"] is True
    assert result["tree_size"] == "4"
    assert result["index"] == 3
    assert result["witnessed"] is True
    assert result["witnesses"] == [
        "witness.bank.example",
        "witness.inspectorate.example",
    ]
    assert result["at"].endswith("Z")


def test_uploaded_bundle_file_is_checked(witnessed_block, english: Client):
    witnessed_block(3)
    data = json.dumps(bundles.build_bundle(0)).encode()
    upload = SimpleUploadedFile("receipt-0.json", data, "application/json")

    response = english.post("/verify/", {"bundle": upload})

    assert panel(response)["valid"] == "true"


def test_tampered_bundle_is_invalid_with_reason(witnessed_block, english: Client):
    witnessed_block(5)
    bundle = tampered(bundles.build_bundle(1))

    response = english.post("/verify/", {"text": json.dumps(bundle)})

    result = panel(response)
    assert result["valid"] == "false"
    assert result["code"] == "proof"
    assert result["headline"] == (
        "Invalid: the inclusion proof does not lead to the checkpoint&#x27;s root, "
        "so the entry or the proof was changed."
    )


def test_tampered_bundle_json_names_code(witnessed_block, english: Client):
    witnessed_block(5)
    bundle = bundles.build_bundle(1)
    bundle["checkpoint"] = bundle["checkpoint"].replace("\n5\n", "\n6\n", 1)

    response = english.post("/verify/", {"text": json.dumps(bundle)}, **JSON)

    assert response.json()["error"]["code"] == "signature"


def test_not_witnessed_bundle_says_so(witnesses, english: Client):
    append_events(2)
    seal()
    bundle = bundles.build_bundle(1)

    response = english.post("/verify/", {"text": json.dumps(bundle)})

    assert panel(response)["headline"] == (
        "Valid: included in the checkpoint of 2 entries, co-signed by 0 of 3 witnesses."
    )
    assert (
        "Not yet witnessed: 0 of the 2 cosignatures needed."
        in response.content.decode()
    )


def test_receipt_code_is_decoded_and_checked(witnessed_block, english: Client):
    witnessed_block(3)
    payload = encode_payload(bundles.build_bundle(2))

    response = english.post("/verify/", {"text": payload})

    assert panel(response)["valid"] == "true"


def test_damaged_receipt_code_is_named(witnessed_block, english: Client):
    witnessed_block(3)
    payload = encode_payload(bundles.build_bundle(2))

    response = english.post("/verify/", {"text": payload[:-7]})

    result = panel(response)
    assert result["code"] == "payload"
    assert "the receipt code (KCB1:) is damaged" in result["headline"]


@pytest.mark.parametrize("text", ["hello", "{not json", "<html></html>"])
def test_non_json_text_gets_clear_message(witnesses, english: Client, text: str):
    response = english.post("/verify/", {"text": text})

    result = panel(response)
    assert result["code"] == "not_json"
    assert result["headline"] == (
        "Invalid: the file or text is not JSON, and not a receipt code "
        "starting with KCB1:."
    )
    assert 'data-testid="verify-checked-by"' not in response.content.decode()


def test_oversize_file_gets_clear_message(witnesses, english: Client):
    upload = SimpleUploadedFile("big.json", b" " * 1_000_001, "application/json")

    response = english.post("/verify/", {"bundle": upload})

    result = panel(response)
    assert result["code"] == "too_large"
    assert "larger than 1000000 bytes" in result["headline"]


def test_json_that_is_no_bundle_is_format(witnesses, english: Client):
    response = english.post("/verify/", {"text": "[1, 2, 3]"}, **JSON)

    assert response.json()["error"]["code"] == "format"


def test_empty_post_asks_for_input(witnesses, english: Client):
    response = english.post("/verify/", {"text": "  "}, **JSON)

    assert response.json()["error"]["code"] == "empty"


def test_post_without_csrf_token_is_rejected(witnesses):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/verify/", {"text": "{}"})

    assert response.status_code == 403


def test_photo_of_receipt_qr_is_decoded(witnessed_block, english: Client):
    witnessed_block(3)
    payload = encode_payload(bundles.build_bundle(1))
    photo = SimpleUploadedFile("receipt.png", qr_png(payload), "image/png")

    response = english.post("/verify/", {"photo": photo, "decode": "1"}, **JSON)

    assert response.json() == {"text": payload}


def test_photo_without_javascript_is_verified(witnessed_block, english: Client):
    witnessed_block(3)
    payload = encode_payload(bundles.build_bundle(1))
    photo = SimpleUploadedFile("receipt.png", qr_png(payload), "image/png")

    response = english.post("/verify/", {"photo": photo})

    assert panel(response)["valid"] == "true"


def test_photo_without_qr_gets_receipt_message(witnesses, english: Client):
    image = io.BytesIO()
    Image.new("L", (200, 200), 255).save(image, format="PNG")
    photo = SimpleUploadedFile("blank.png", image.getvalue(), "image/png")

    response = english.post("/verify/", {"photo": photo, "decode": "1"}, **JSON)

    error = response.json()["error"]
    assert error["code"] == "photo"
    assert "QR code of the receipt" in error["values"]["message"]


def test_entry_query_for_sealed_entry(witnessed_block, english: Client):
    witnessed_block(3)

    response = english.get("/verify/?entry=2")

    assert response.status_code == 200
    assert 'data-entry="2"' in response.content.decode()


def test_entry_query_checked_without_javascript(witnessed_block, english: Client):
    """The proof QR's URL shows the result in a browser that runs no script."""
    witnessed_block(3)

    response = english.get("/verify/?entry=1")

    result = panel(response)
    assert result["valid"] == "true"
    assert result["headline"] == (
        "Valid: included in the checkpoint of 3 entries, co-signed by 2 of 3 witnesses."
    )
    html = response.content.decode()
    assert 'data-checked-by="server"' in html
    assert 'data-testid="verify-checked-by">Checked on the server.<' in html
    assert "witness.bank.example, witness.inspectorate.example" in html
    assert "accounts.roles.changed" in html


def test_entry_query_of_unwitnessed_entry_says_so(witnesses, indonesian: Client):
    append_events(2)
    seal()

    response = indonesian.get("/verify/?entry=0")

    assert response.status_code == 200
    assert panel(response)["valid"] == "true"
    assert 'data-testid="verify-not-witnessed"' in response.content.decode()


def test_entry_query_for_unsealed_entry(witnessed_block, english: Client):
    witnessed_block(3)
    append_events(1)

    response = english.get("/verify/?entry=3")

    assert response.status_code == 404
    result = panel(response)
    assert result["code"] == "not_sealed"
    assert result["headline"].startswith(
        "Invalid: ledger entry 3 is not in a checkpoint yet."
    )
    assert 'data-entry=""' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "code", "status"),
    [("99", "not_found", 404), ("abc", "bad_entry", 400), ("-1", "bad_entry", 400)],
)
def test_entry_query_that_cannot_exist(
    witnessed_block, english: Client, query: str, code: str, status: int
):
    witnessed_block(2)

    response = english.get(f"/verify/?entry={query}")

    assert response.status_code == status
    assert panel(response)["code"] == code


def test_result_in_indonesian_keeps_codes(witnessed_block, indonesian: Client):
    witnessed_block(3)
    bundle = tampered(bundles.build_bundle(0))

    response = indonesian.post("/verify/", {"text": json.dumps(bundle)})

    assert '<html lang="id">' in response.content.decode()
    assert panel(response)["code"] == "proof"


def test_nav_links_to_verify_page(witnesses, english: Client):
    html = english.get("/ledger/").content.decode()

    assert 'href="/verify/"' in html
    assert 'href="/ledger/publication/"' in html


def test_result_shows_recording_time_in_city_zone(
    witnessed_block, english: Client, settings
):
    witnessed_block(3)
    bundle = bundles.build_bundle(1)
    utc_text = json.loads(bundle["entry"]["body"])["at"]
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    jakarta = moment.astimezone(ZoneInfo(settings.TIME_ZONE))

    html = english.post("/verify/", {"text": json.dumps(bundle)}).content.decode()

    assert f"Recorded at ({settings.TIME_ZONE})" in html
    assert utc_text not in html, "the raw UTC text is not shown"
    with translation.override("en"):
        assert date_format(jakarta, "DATETIME_FORMAT") in html


def test_file_that_is_no_picture_gets_receipt_message(witnesses, english: Client):
    photo = SimpleUploadedFile("notes.png", b"not an image at all", "image/png")

    response = english.post("/verify/", {"photo": photo, "decode": "1"}, **JSON)

    message = response.json()["error"]["values"]["message"]
    assert "receipt's QR code" in message
    assert "plate" not in message


def test_photo_with_two_qr_reads_proof(witnessed_block, english: Client):
    witnessed_block(3)
    payload = encode_payload(bundles.build_bundle(1))
    page_qr = Image.open(io.BytesIO(qr_png("http://127.0.0.1:8000/receipts/TRX-1/")))
    proof_qr = Image.open(io.BytesIO(qr_png(payload)))
    both = Image.new("L", (page_qr.width + proof_qr.width, proof_qr.height), 255)
    both.paste(page_qr, (0, 0))
    both.paste(proof_qr, (page_qr.width, 0))
    buffer = io.BytesIO()
    both.save(buffer, format="PNG")
    photo = SimpleUploadedFile("receipt.png", buffer.getvalue(), "image/png")

    response = english.post("/verify/", {"photo": photo, "decode": "1"}, **JSON)

    assert response.json() == {"text": payload}


def test_receipt_address_photo_names_proof_qr(witnesses, english: Client):
    address = "http://127.0.0.1:8000/receipts/TRX-DN3Z9P42QC/"
    photo = SimpleUploadedFile("top.png", qr_png(address), "image/png")

    result = panel(english.post("/verify/", {"photo": photo}))

    assert result["valid"] == "false"
    assert result["code"] == "receipt_url"
    assert "Scan the larger proof QR code below it" in result["headline"]
