"""What a teller and a member read: material names, member numbers, rejections."""

import re

import pypdfium2 as pdfium
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.waste.bank import services, validation
from kotacerdas.waste.bank.models import Membership

from .conftest import make_unit, new_member

pytestmark = pytest.mark.django_db

CLEAN_NUMBER = re.compile(r"^([A-Z0-9]+(-[A-Z0-9]+)*-)?[0-9]{4,}$")


def pdf_words(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        text = "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    return " ".join(text.split())


@pytest.fixture
def partly_rejected(member, teller):
    """3.2 kg of PET accepted and 1.5 kg of cardboard rejected at sorting."""
    deposit = services.record_deposit(
        member, [("pet", 3_200), ("cardboard", 1_500)], client_id="d-1", teller=teller
    )
    return validation.validate_deposit(deposit, teller, rejected_items=[1])


def test_deposit_form_lists_prices_by_name(signed_in, unit, member):
    response = signed_in("waste_bank_teller").get(
        f"/waste/banks/{unit.code}/members/{member.pk}/deposit/"
    )

    page = response.content.decode()
    prices = page[page.index('data-testid="todays-prices"') :].split("</ul>")[0]
    assert "<li>PET bottles, clean, label and cap removed: Rp4,000</li>" in prices
    assert "<li>Cardboard: Rp900</li>" in prices
    assert "<code>" not in prices
    assert ">pet<" not in prices


@given(
    code=st.from_regex(r"[-a-z0-9_]{1,40}", fullmatch=True) | st.text(max_size=60),
    serial=st.integers(min_value=1, max_value=99_999),
)
def test_member_number_is_clean_for_any_unit_code(code, serial):
    number = services.member_number(code, serial)

    assert CLEAN_NUMBER.match(number), number
    assert "--" not in number
    assert not number.endswith("-")
    assert number.endswith(f"{serial:04d}")
    assert len(number) <= Membership._meta.get_field("number").max_length


@pytest.mark.parametrize(
    ("code", "number"),
    [
        ("anggrek-kalikih", "ANGGREK-0001"),
        ("kalikih-anggrek", "KALIKIH-0001"),
        ("bsu--sarunai", "BSU-SARU-0001"),
        ("rw-05-bukit", "RW-05-BU-0001"),
        ("sarunai", "SARUNAI-0001"),
    ],
)
def test_joining_gives_a_clean_number(code, number, teller):
    unit = make_unit(code, "Bank Sampah Contoh", teller)

    membership = new_member(unit)

    assert membership.number == number
    assert services.find_membership(unit, number.lower()) == membership


def test_deposit_page_marks_rejected_item(signed_in, unit, partly_rejected):
    response = signed_in("waste_bank_teller").get(
        f"/waste/banks/{unit.code}/deposits/{partly_rejected.pk}/"
    )

    page = response.content.decode()
    rejected = re.findall(
        r'<tr class="muted" data-testid="rejected-item">.*?</tr>', page
    )
    assert len(rejected) == 1
    assert "Cardboard · <strong>rejected at sorting</strong>" in rejected[0]
    assert "<del>Rp1,350</del> not credited" in rejected[0]
    assert "PET bottles" not in rejected[0]
    assert "Rp12,800" in page


def test_savings_book_marks_rejected_item(signed_in, member, partly_rejected):
    response = signed_in("citizen").get(f"/waste/banks/book/{member.pk}/")

    page = response.content.decode()
    assert "Cardboard 1.500 kg (rejected at sorting, Rp1,350 not credited)" in page
    assert "PET bottles, clean, label and cap removed 3.200 kg," in page


def test_savings_book_pdf_marks_rejected_item(signed_in, member, partly_rejected):
    response = signed_in("citizen").get(f"/waste/banks/book/{member.pk}/pdf/")

    words = pdf_words(response.content)
    assert response["Content-Type"] == "application/pdf"
    assert "Cardboard 1.500 kg (rejected at sorting, Rp1,350 not credited)" in words
    assert "12,800" in words
