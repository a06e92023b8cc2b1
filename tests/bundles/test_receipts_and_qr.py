"""Receipts link to their bundles, and the QR payloads carry verifying bundles."""

import base64
import json
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.journal import bundles, merkle, services
from kotacerdas.journal.models import Entry
from kotacerdas.journal.personal_data import reject_personal_data
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    register_building,
    register_household,
)
from kotacerdas.verify import PayloadError, verify_bundle
from kotacerdas.verify.payload import decode_payload, encode_payload
from kotacerdas.wallet import qr_image
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, AccountKind, Tier
from kotacerdas.wallet.services import TransferRequest

pytestmark = pytest.mark.django_db

FULL_NAME = "Siti Rahmawati"
NIK = "1374024708950001"


@pytest.fixture
def siti(city: Any) -> Account:
    """A funded wallet of a registered household member, whose name and NIK exist."""
    building = register_building(
        BuildingInput(
            kelurahan_code="13.74.02.1002",
            rw="2",
            rt="3",
            street_address="Jl. Sutan Syahrir No. 12",
            use="house",
            lat="-0.4651",
            lng="100.4002",
            floors=1,
            floor_area_m2=72,
            pln_va=1300,
        )
    )
    household = register_household(
        building, "1374020101150003", [MemberInput(FULL_NAME, NIK, "head")]
    )
    account = wallet.open_account(
        AccountKind.CITIZEN, member=household.members.get(), tier=Tier.REGISTERED
    )
    wallet.top_up(account.number, 100_000, transfer_id="fund-siti", channel="counter")
    return account


@pytest.fixture
def paid(siti: Account, witnesses: list[Any], cosigner: Callable[..., None]) -> Any:
    """A sealed, witnessed payment from Siti to a shop."""
    shop = wallet.open_account(AccountKind.MERCHANT, label="Warung Contoh")
    request = TransferRequest(
        id="pay-1",
        debit=siti.number,
        credit=shop.number,
        amount=7_500,
        kind="payment",
        channel="qris",
        memo="INV202501000123",
    )
    transfer = wallet.submit(request, actor="user:1")
    block = services.seal_pending()
    assert block is not None
    cosigner(block, witnesses[:2])
    return transfer


def decode_pdf_qr_codes(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    try:
        found = []
        for page in document:
            image = page.render(scale=300 / 72).to_pil()
            formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            found += [
                result.text for result in zxingcpp.read_barcodes(image, formats=formats)
            ]
            page.close()
        return found
    finally:
        document.close()


def test_wallet_bundle_verifies(paid: Any) -> None:
    result = verify_bundle(
        bundles.build_bundle(paid.entry_seq), bundles.published_keys()
    )
    assert result.ok, result.reason
    assert result.witnessed
    assert result.index == paid.entry_seq


def test_bundle_holds_no_personal_data(paid: Any) -> None:
    bundle = bundles.build_bundle(paid.entry_seq)
    envelope = json.loads(bundle["entry"]["body"])
    reject_personal_data(envelope["payload"])
    text = json.dumps(bundle) + bundles.bundle_qr_payload(bundle, paid.entry_seq)
    assert FULL_NAME not in text
    assert NIK not in text


def test_receipt_page_links_proof(client: Any, paid: Any) -> None:
    response = client.get(reverse("wallet:receipt", args=[paid.reference]))
    page = response.content.decode()
    verify_link = f"{reverse('journal:verify')}?entry={paid.entry_seq}"
    assert f'href="{verify_link}"' in page
    assert f'href="{reverse("journal:bundle", args=[paid.entry_seq])}"' in page
    assert 'data-testid="proof-qr"' in page
    assert "<svg" in page


def test_bundle_download(client: Any, paid: Any) -> None:
    response = client.get(reverse("journal:bundle", args=[paid.entry_seq]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{paid.entry_seq}.json"'
    )
    keys = client.get(reverse("journal:keys")).json()
    assert verify_bundle(json.loads(response.content), keys).ok


def test_unsealed_bundle_download_404(client: Any, siti: Account) -> None:
    response = client.get(reverse("journal:bundle", args=[0]))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_sealed"
    api = client.get("/api/journal/entries/0/bundle")
    assert api.status_code == 404
    assert "wait for the next checkpoint" in api.json()["error"]["message"]


def test_pdf_proof_qr_verifies(client: Any, paid: Any) -> None:
    response = client.get(reverse("wallet:receipt_pdf", args=[paid.reference]))
    assert response.status_code == 200
    codes = decode_pdf_qr_codes(response.content)
    proofs = [code for code in codes if code.startswith("KCB1:")]
    assert len(proofs) == 1, codes
    result = verify_bundle(
        bundles.decode_qr_payload(proofs[0]), bundles.published_keys()
    )
    assert result.ok, result.reason
    assert result.index == paid.entry_seq


def test_qr_image_round_trip(witnessed_block: Callable[[int], Any]) -> None:
    witnessed_block(300)
    bundle = bundles.build_bundle(123)
    payload = bundles.bundle_qr_payload(bundle, 123)
    assert payload.startswith("KCB1:")
    image = qr_image.qr_modules(payload)
    scaled = image.resize((image.width * 4, image.height * 4))
    framed = qr_image.render_png(payload, pixels_per_module=4)
    assert framed  # the PNG form renders too
    decoded = zxingcpp.read_barcodes(
        qr_image.ImageOps.expand(scaled, border=16, fill=255)
    )
    assert [result.text for result in decoded] == [payload]
    assert bundles.decode_qr_payload(decoded[0].text) == bundle


def test_large_proof_falls_back_to_url(
    witnessed_block: Callable[[int], Any], settings: Any
) -> None:
    settings.KOTACERDAS_PUBLIC_URL = "https://kota.example.id/"
    witnessed_block(9)
    bundle = bundles.build_bundle(4)
    payload = bundles.bundle_qr_payload(bundle, 4, limit=100)
    assert payload == "https://kota.example.id/verify/?entry=4"
    with pytest.raises(PayloadError, match="download the bundle of entry 4"):
        bundles.decode_qr_payload(payload)


def test_damaged_payload_rejected() -> None:
    with pytest.raises(PayloadError, match="not valid base45"):
        bundles.decode_qr_payload("KCB1:ABCDEFG")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(entries=st.integers(1, 40), position=st.floats(0, 1, exclude_max=True))
def test_bundles_verify_any_size(
    entries: int, position: float, witnessed_block: Callable[[int], Any]
) -> None:
    """Grow one tree block by block; a bundle of any entry verifies at every size.

    The database outlives the examples, so each example adds a block to the
    same tree and picks its entry by relative position in the tree.
    """
    witnessed_block(entries)
    keys = bundles.published_keys()
    latest = services.latest_block()
    assert latest is not None
    size = latest.tree_size
    index = int(position * size)
    bundle = bundles.build_bundle(index)
    result = verify_bundle(bundle, keys)
    assert result.ok, result.reason
    assert result.tree_size == size
    assert len(bundle["proof"]) == len(merkle.inclusion_ranges(index, size))
    payload = bundles.bundle_qr_payload(bundle, index)
    assert bundles.decode_qr_payload(payload) == bundle


def test_building_history_links_proofs(signed_in: Any, siti: Account) -> None:
    officer = signed_in("registry_officer")
    building = siti.member.household.building
    url = reverse("registry:building_detail", kwargs={"building_id": building.pk})
    page = officer.get(url, {"history": "1"}).content.decode()
    registered = Entry.objects.get(event_type="registry.building.registered")
    assert f'href="{reverse("journal:verify")}?entry={registered.seq}"' in page
    assert f'href="{reverse("journal:bundle", args=[registered.seq])}"' in page


@given(
    hashes=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=20),
    body_bytes=st.binary(min_size=0, max_size=300),
    cut=st.integers(min_value=1, max_value=12),
)
@settings(max_examples=300)
def test_payload_cut_short_is_rejected(
    hashes: list[bytes], body_bytes: bytes, cut: int
) -> None:
    # Cutting the last characters can remove only the zlib checksum, after
    # which the JSON itself still inflates whole; that must not pass.
    bundle = {
        "format": "kotacerdas-bundle/v1",
        "origin": "example.org/log",
        "entry": {"index": 1, "body": json.dumps({"seq": 1, "x": body_bytes.hex()})},
        "proof": [base64.b64encode(value).decode() for value in hashes],
        "checkpoint": "example.org/log\n2\n",
        "anchor": None,
    }
    payload = encode_payload(bundle)
    assert decode_payload(payload) == bundle

    with pytest.raises(PayloadError):
        decode_payload(payload[:-cut])
