"""Teller pages and the savings book, through the Django test client."""

import pytest
from django.utils import timezone

from kotacerdas.waste.bank import services
from kotacerdas.waste.bank.models import Deposit, Sale

ROWS = {
    "weight_unit": "kg",
    "material_0": "pet",
    "weight_0": "3,2",
    "material_1": "cardboard",
    "weight_1": "1,5",
}


def deposit_url(unit, member) -> str:
    return f"/waste/banks/{unit.code}/members/{member.pk}/deposit/"


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("waste_bank_teller", 200),
        ("citizen", 403),
        ("cashier", 403),
        ("waste_operator", 403),
        ("admin", 403),
        ("outsider", 403),
    ],
)
def test_unit_page_by_persona(signed_in, unit, persona, status):
    response = signed_in(persona).get(f"/waste/banks/{unit.code}/")

    assert response.status_code == status


def test_other_units_teller_refused(client, unit, other_unit, member):
    client.force_login(other_unit.tellers.get())

    assert client.get(f"/waste/banks/{unit.code}/").status_code == 403
    assert (
        client.post(deposit_url(unit, member), ROWS | {"client_id": "x"}).status_code
        == 403
    )


def test_find_member_by_number(signed_in, unit, member):
    response = signed_in("waste_bank_teller").get(
        f"/waste/banks/{unit.code}/", {"member": member.number.lower()}
    )

    assert response.status_code == 302
    assert response["Location"] == deposit_url(unit, member)


def test_teller_records_and_posts(signed_in, unit, member):
    teller = signed_in("waste_bank_teller")

    response = teller.post(deposit_url(unit, member), ROWS | {"client_id": "page-1"})

    deposit = Deposit.objects.get()
    assert response.status_code == 302
    assert deposit.total_value == 14_150
    page = teller.get(response["Location"])
    assert "Rp14,150" in page.content.decode()
    teller.post(response["Location"], {"action": "post", "rejected": ["1"]})
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.POSTED
    assert deposit.posted_value == 12_800


def test_deposit_form_names_bad_weight(signed_in, unit, member):
    rows = ROWS | {"weight_1": "1,5555", "client_id": "page-2"}

    response = signed_in("waste_bank_teller").post(deposit_url(unit, member), rows)

    assert response.status_code == 200
    assert "Enter the weight in kg with at most 3 decimals" in response.content.decode()
    assert Deposit.objects.count() == 0


def test_void_without_reason_shows_error(signed_in, unit, member, teller):
    deposit = services.record_deposit(
        member, [("pet", 1_000)], client_id="page-3", teller=teller
    )

    response = signed_in("waste_bank_teller").post(
        f"/waste/banks/{unit.code}/deposits/{deposit.pk}/", {"action": "void"}
    )

    assert "Choose why the deposit is rejected." in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PENDING


def test_member_reads_own_book(signed_in, unit, member, teller):
    services.record_deposit(member, [("pet", 3_200)], client_id="page-4", teller=teller)

    response = signed_in("citizen").get(f"/waste/banks/book/{member.pk}/")

    text = response.content.decode()
    assert response.status_code == 200
    assert "Rp12,800 waiting for the sorting check" in text


def test_book_refused_to_other_citizen(client, unit, member):
    from tests.waste.bank.conftest import new_member

    stranger = new_member(unit)
    client.force_login(stranger.account.holder)

    assert client.get(f"/waste/banks/book/{member.pk}/").status_code == 403


def test_book_pdf_is_pdf(signed_in, unit, member, teller):
    services.record_deposit(member, [("pet", 3_200)], client_id="page-5", teller=teller)

    response = signed_in("waste_bank_teller").get(f"/waste/banks/book/{member.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_price_list_copies_current(signed_in, unit):
    response = signed_in("waste_bank_teller").get(f"/waste/banks/{unit.code}/prices/")

    assert 'name="price_pet" value="4000"' in response.content.decode()


def test_oversell_message_on_page(signed_in, unit, member, teller):
    from kotacerdas.waste.bank import sales, validation

    deposit = services.record_deposit(
        member, [("pet", 1_000)], client_id="page-6", teller=teller
    )
    validation.validate_deposit(deposit, teller)
    buyer = sales.add_offtaker(unit, "CV Daur Ulang", "recycler", teller)

    response = signed_in("waste_bank_teller").post(
        f"/waste/banks/{unit.code}/stock/",
        {
            "form": "sale",
            "client_id": "sale-page-1",
            "offtaker": buyer.pk,
            "material": "pet",
            "weight": "2",
            "price_per_kg": "5500",
        },
    )

    assert "Only 1 kg of PET bottles" in response.content.decode()
    assert Sale.objects.count() == 0


def test_price_date_iso_in_indonesian(signed_in, unit, settings):
    client = signed_in("waste_bank_teller")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"

    response = client.get(f"/waste/banks/{unit.code}/prices/")

    today = timezone.localdate().isoformat()
    assert response["Content-Language"] == "id"
    assert f'type="date" name="valid_from" value="{today}"' in response.content.decode()


def test_oversell_in_indonesian_keeps_form(signed_in, unit, member, teller, settings):
    from kotacerdas.waste.bank import sales, validation

    deposit = services.record_deposit(
        member, [("pet", 3_200)], client_id="page-7", teller=teller
    )
    validation.validate_deposit(deposit, teller)
    buyer = sales.add_offtaker(unit, "CV Daur Ulang", "recycler", teller)
    client = signed_in("waste_bank_teller")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"

    response = client.post(
        f"/waste/banks/{unit.code}/stock/",
        {
            "form": "sale",
            "client_id": "sale-page-2",
            "offtaker": buyer.pk,
            "material": "pet",
            "weight": "5",
            "price_per_kg": "5500",
        },
    )

    text = response.content.decode()
    assert "hanya 3,2 kg, bukan 5 kg" in text
    assert f'<option value="{buyer.pk}" selected>' in text
    assert '<option value="pet" selected>' in text
    assert 'name="weight" value="5"' in text
    assert Sale.objects.count() == 0
