"""Public receipts: the page, its PDF with a QR code, and the journal proof."""

import base64
from datetime import timedelta
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.urls import reverse
from django.utils import timezone

from kotacerdas.journal import merkle
from kotacerdas.journal import services as journal
from kotacerdas.journal.models import Block
from kotacerdas.registry.services import (
    BuildingInput,
    MemberInput,
    register_building,
    register_household,
)
from kotacerdas.wallet import receipts, services
from kotacerdas.wallet.models import AccountKind, Tier
from kotacerdas.wallet.services import TransferRequest

from .conftest import fund, new_id

pytestmark = pytest.mark.django_db

FULL_NAME = "Siti Rahmawati"
MASKED_NAME = "S*** R********"
RENDER_DPI = 200
PAGE_WIDTH_PT = 80 / 25.4 * 72
JAKARTA = ZoneInfo("Asia/Jakarta")
WAITING = "Waiting to be sealed into a block (usually within a minute)."


@pytest.fixture
def siti(city):
    """A registered wallet of a household member named Siti Rahmawati."""
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
        building,
        "1374020101150003",
        [MemberInput(FULL_NAME, "1374024708950001", "head")],
    )
    member = household.members.get()
    wallet = services.open_account(
        AccountKind.CITIZEN, member=member, tier=Tier.REGISTERED
    )
    fund(wallet, 100_000)
    return wallet


def pay(payer, payee, amount: int, memo: str = "", **changes):
    request = TransferRequest(
        id=new_id("pay"),
        debit=payer.number,
        credit=payee.number,
        amount=amount,
        kind="payment",
        channel="qris",
        memo=memo,
        **changes,
    )
    return services.submit(request, actor="user:1")


def masked(number: str) -> str:
    return f"{number[:4]} **** {number[-4:]}"


def decode_qr_codes(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    try:
        found = []
        for page in document:
            image = page.render(scale=RENDER_DPI / 72).to_pil()
            results = zxingcpp.read_barcodes(
                image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            )
            found.extend(result.text for result in results)
            page.close()
        return found
    finally:
        document.close()


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        page = document[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        page.close()
        # Wrapped lines end in line breaks; compare the words.
        return " ".join(text.split())
    finally:
        document.close()


def test_receipt_page_shows_payment_facts(client, siti, shop):
    transfer = pay(siti, shop, 7_500, memo="INV202501000123")

    response = client.get(reverse("wallet:receipt", args=[transfer.reference]))

    assert response.status_code == 200
    page = response.content.decode()
    assert transfer.reference in page
    assert "Rp7,500" in page
    assert "Payment" in page
    assert "QR payment" in page
    assert "Warung Contoh" in page
    assert "INV202501000123" in page
    assert "Posted" in page
    assert masked(siti.number) in page
    assert masked(shop.number) in page


def test_receipt_page_masks_citizen_names(client, siti, shop):
    transfer = pay(siti, shop, 7_500)

    page = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    text = page.decode()
    assert MASKED_NAME in text
    assert FULL_NAME not in text
    assert "Rahmawati" not in text
    assert siti.number not in text
    assert shop.number not in text


def test_receipt_page_needs_no_login(client, siti, shop):
    transfer = pay(siti, shop, 2_000)

    response = client.get(reverse("wallet:receipt", args=[transfer.reference]))

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]


def test_receipt_time_is_jakarta_time(client, siti, shop):
    transfer = pay(siti, shop, 2_000)

    page = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    local = transfer.created_at.astimezone(JAKARTA)
    assert f'datetime="{local.isoformat()}"' in page.decode()
    assert "WIB" in page.decode()


def test_lowercase_reference_finds_receipt(client, siti, shop):
    transfer = pay(siti, shop, 2_000)

    response = client.get(f"/receipts/{transfer.reference.lower()}/")

    assert response.status_code == 200
    assert transfer.reference in response.content.decode()


@pytest.mark.parametrize(
    "reference", ["TRX-0000000000", "TRX-SHORT", "not-a-receipt", "TRX-ABCDEFGHIJ"]
)
def test_unknown_reference_gets_404_page(client, city, reference):
    response = client.get(f"/receipts/{reference}/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert client.get(f"/receipts/{reference}/pdf").status_code == 404


def test_unsealed_receipt_says_it_waits(client, siti, shop):
    transfer = pay(siti, shop, 2_000)

    page = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    text = page.decode()
    assert WAITING in text
    assert "/api/journal/entries/" not in text
    assert reverse("journal:entry", args=[transfer.entry_seq]) in text


def test_sealed_receipt_links_a_valid_proof(client, siti, shop):
    transfer = pay(siti, shop, 2_000)
    block = journal.seal_pending()
    assert block is not None

    text = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    page = text.decode()
    assert WAITING not in page
    root = base64.b64encode(bytes(block.root_hash)).decode()
    assert root in page
    assert f"Block {block.height}, tree size {block.tree_size}" in page
    proof_url = f"/api/journal/entries/{transfer.entry_seq}?tree_size={block.tree_size}"
    assert proof_url in page
    proof = client.get(proof_url).json()
    assert proof["seq"] == transfer.entry_seq
    assert proof["body"]["payload"]["reference"] == transfer.reference
    assert merkle.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]),
        transfer.entry_seq,
        proof["tree_size"],
        [base64.b64decode(node) for node in proof["proof"]],
        bytes(block.root_hash),
    )
    entry_page = client.get(reverse("journal:entry", args=[transfer.entry_seq]))
    assert entry_page.status_code == 200


def test_receipt_names_first_sealing_block(client, siti, shop):
    transfer = pay(siti, shop, 2_000)
    first = journal.seal_pending()
    pay(siti, shop, 3_000)
    journal.seal_pending()
    assert Block.objects.count() == 2

    receipt = receipts.find_receipt(transfer.reference)

    assert receipt is not None
    assert receipt.seal is not None
    assert receipt.seal.height == first.height
    assert receipt.seal.tree_size == first.tree_size


def test_pdf_qr_decodes_to_page_url(client, siti, shop, settings):
    settings.KOTACERDAS_PUBLIC_URL = "https://kota.example.id/"
    transfer = pay(siti, shop, 7_500, memo="INV202501000123")

    response = client.get(reverse("wallet:receipt_pdf", args=[transfer.reference]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    expected = f"https://kota.example.id/receipts/{transfer.reference}/"
    assert decode_qr_codes(response.content) == [expected]


def test_pdf_is_thermal_width(client, siti, shop):
    transfer = pay(siti, shop, 7_500)

    content = client.get(
        reverse("wallet:receipt_pdf", args=[transfer.reference])
    ).content

    document = pdfium.PdfDocument(content)
    width_pt, height_pt = document[0].get_size()
    document.close()
    assert width_pt == pytest.approx(PAGE_WIDTH_PT, abs=0.5)
    assert height_pt > width_pt


def test_pdf_shows_facts_without_names(client, siti, shop):
    transfer = pay(siti, shop, 7_500, memo="INV202501000123")

    content = client.get(
        reverse("wallet:receipt_pdf", args=[transfer.reference])
    ).content

    text = pdf_text(content)
    assert transfer.reference in text
    assert "Rp7,500" in text
    assert "INV202501000123" in text
    assert MASKED_NAME in text
    assert masked(siti.number) in text
    assert "Warung Contoh" in text
    assert FULL_NAME not in text
    assert siti.number not in text
    assert WAITING in text


def test_counter_receipt_shows_cashier_role(client, personas, bob):
    cashier = personas["cashier"]

    transfer = services.top_up(
        bob.number,
        50_000,
        transfer_id=new_id("cash-in"),
        channel="counter",
        actor=f"user:{cashier.pk}",
    )

    page = client.get(reverse("wallet:receipt", args=[transfer.reference])).content
    text = page.decode()
    assert "Counter receipt" in text
    assert "Served by" in text
    assert "Cashier or agent" in text
    assert "Cash at a counter" in text
    assert cashier.get_username() not in text


def test_counter_receipt_without_known_cashier(client, bob):
    transfer = services.top_up(
        bob.number, 50_000, transfer_id=new_id("cash-in"), channel="counter"
    )

    text = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    assert "Counter staff" in text.decode()


def test_bank_top_up_is_no_counter_receipt(client, bob):
    transfer = services.top_up(bob.number, 50_000, transfer_id=new_id("va"))

    text = client.get(reverse("wallet:receipt", args=[transfer.reference])).content

    page = text.decode()
    assert "Counter receipt" not in page
    assert "Partner bank" in page


def test_posted_reservation_names_resolution(client, siti, shop):
    reservation = pay(siti, shop, 9_000, pending=True)
    posted = services.post_pending(
        id=new_id("post"), pending_id=reservation.client_id, amount=7_000
    )

    reserved_page = client.get(
        reverse("wallet:receipt", args=[reservation.reference])
    ).content.decode()
    posted_page = client.get(
        reverse("wallet:receipt", args=[posted.reference])
    ).content.decode()

    assert "Resolved by" in reserved_page
    assert reverse("wallet:receipt", args=[posted.reference]) in reserved_page
    assert "then Rp7,000 was posted" in reserved_page
    assert "This settles a reservation of Rp9,000." in posted_page
    assert reverse("wallet:receipt", args=[reservation.reference]) in posted_page


def test_pending_reservation_says_it_waits(client, siti, shop):
    reservation = pay(siti, shop, 9_000, pending=True, timeout_s=600)

    page = client.get(
        reverse("wallet:receipt", args=[reservation.reference])
    ).content.decode()

    assert "Pending" in page
    assert "released automatically at" in page
    assert "Resolved by" not in page


def test_voided_reservation_says_nothing_moved(client, siti, shop):
    reservation = pay(siti, shop, 9_000, pending=True)
    voided = services.void_pending(id=new_id("void"), pending_id=reservation.client_id)

    reserved_page = client.get(
        reverse("wallet:receipt", args=[reservation.reference])
    ).content.decode()
    void_page = client.get(
        reverse("wallet:receipt", args=[voided.reference])
    ).content.decode()

    assert "Voided" in reserved_page
    assert "then released at" in reserved_page
    assert "This releases a reservation; nothing moved." in void_page


def test_expired_reservation_shows_expiry(client, siti, shop):
    reservation = pay(siti, shop, 9_000, pending=True, timeout_s=60)
    services.expire_pending(now=timezone.now() + timedelta(minutes=5))
    release = reservation.resolutions.get()

    reserved_page = client.get(
        reverse("wallet:receipt", args=[reservation.reference])
    ).content.decode()
    release_page = client.get(
        reverse("wallet:receipt", args=[release.reference])
    ).content.decode()

    assert "Expired" in reserved_page
    assert "because it was not posted in time" in reserved_page
    assert "Expired" in release_page
    assert "not posted in time; nothing moved." in release_page


def test_levy_receipt_names_city_revenue(client, siti, levy_revenue):
    request = TransferRequest(
        id=new_id("levy"),
        debit=siti.number,
        credit=levy_revenue.number,
        amount=7_500,
        kind="levy",
        memo="RET-2025-01-0001",
    )
    transfer = services.submit(request)

    page = client.get(
        reverse("wallet:receipt", args=[transfer.reference])
    ).content.decode()

    assert "City revenue" in page
    assert "RET-2025-01-0001" in page
    assert masked(levy_revenue.number) not in page


def test_mask_number_keeps_four_each_side():
    assert receipts.mask_number("880012345674") == "8800 **** 5674"
    assert receipts.mask_number("1234") == "****"
