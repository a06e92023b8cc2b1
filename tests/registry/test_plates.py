"""Printing QR plates: PDF sheets that decode back to the right signed URLs."""

import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.urls import reverse

from kotacerdas.accounts.roles import ROLES
from kotacerdas.registry import plate_pdf
from kotacerdas.registry.models import Building, Plate
from kotacerdas.registry.plates import Verdict, plate_url, read_plate_text
from kotacerdas.registry.services import (
    change_building,
    current_plate,
    register_building,
    reissue_plate,
)

from .conftest import building_input

pytestmark = pytest.mark.django_db

RENDER_DPI = 200
PRINTERS = {"registry_officer"}
PERSONAS = [role.name for role in ROLES] + ["outsider"]


def decode_pdf(content: bytes) -> list[list[str]]:
    """Render each page at 200 dpi and return the QR texts found on each."""
    document = pdfium.PdfDocument(content)
    try:
        pages = []
        for page in document:
            image = page.render(scale=RENDER_DPI / 72).to_pil()
            found = zxingcpp.read_barcodes(
                image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            )
            pages.append([result.text for result in found])
            page.close()
        return pages
    finally:
        document.close()


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(texts)
    finally:
        document.close()


def live_url(building: Building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return plate_url(plate.code, plate.key_id, plate.signature)


@pytest.fixture
def street(city) -> list[Building]:
    """Seven houses in Pasar Usang RW 002, two of them in RT 004: two pages."""
    return [
        register_building(
            building_input(
                street_address=f"Jl. Sutan Syahrir No. {number}",
                rt="4" if number > 5 else "3",
            )
        )
        for number in range(1, 8)
    ]


def test_sheet_qr_codes_decode_to_signed_urls(signed_in, street):
    client = signed_in("registry_officer")

    response = client.get(
        reverse("registry:plate_sheet"), {"kelurahan": "13.74.02.1002"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = decode_pdf(response.content)
    assert [len(texts) for texts in pages] == [6, 1]
    decoded = sorted(text for texts in pages for text in texts)
    assert decoded == sorted(live_url(building) for building in street)
    for text in decoded:
        read = read_plate_text(text)
        assert read.verdict == Verdict.GENUINE
    codes = {read_plate_text(text).code for text in decoded}
    assert codes == {building.plate_code for building in street}


def test_sheet_shows_area_and_code_only(signed_in, street, household):
    client = signed_in("registry_officer")

    response = client.get(
        reverse("registry:plate_sheet"), {"kelurahan": "13.74.02.1002", "rt": ""}
    )

    text = pdf_text(response.content)
    assert "Kota Padang Panjang" in text
    assert "Kelurahan Pasar Usang" in text
    assert "RT 003 / RW 002" in text
    assert street[0].plate_code in text
    assert "Sutan Syahrir" not in text
    assert "Siti Rahmah" not in text
    assert "1374024708950001" not in text


def test_sheet_filters_by_rw_and_rt(signed_in, street):
    client = signed_in("registry_officer")

    response = client.get(
        reverse("registry:plate_sheet"),
        {"kelurahan": "1374021002", "rw": "2", "rt": "004"},
    )

    decoded = [text for texts in decode_pdf(response.content) for text in texts]
    assert sorted(decoded) == sorted(live_url(b) for b in street if b.unit.rt == "004")


def test_sheet_by_ids_prints_those_buildings(signed_in, street):
    client = signed_in("registry_officer")
    chosen = [street[1], street[4]]

    response = client.get(
        reverse("registry:plate_sheet"),
        {"ids": ", ".join(str(building.pk) for building in chosen)},
    )

    decoded = [text for texts in decode_pdf(response.content) for text in texts]
    assert sorted(decoded) == sorted(live_url(building) for building in chosen)


def test_single_plate_decodes_to_its_code(signed_in, building):
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:plate_pdf", args=[building.pk]))

    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="plate-{building.plate_code}.pdf"'
    )
    assert decode_pdf(response.content) == [[live_url(building)]]


def test_reissued_plate_prints_the_new_code(signed_in, building):
    old = current_plate(building)
    new = reissue_plate(building, "damaged")
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:plate_pdf", args=[building.pk]))

    [[text]] = decode_pdf(response.content)
    assert read_plate_text(text).code == new.code
    assert old is not None and old.code != new.code


def test_printing_records_printed_at(signed_in, street):
    client = signed_in("registry_officer")

    client.get(reverse("registry:plate_sheet"), {"kelurahan": "13.74.02.1002"})

    assert not Plate.objects.filter(
        building__in=street, status=Plate.Status.ISSUED, printed_at__isnull=True
    ).exists()


def test_demolished_building_has_no_plate_to_print(signed_in, building):
    change_building(building, {"status": "demolished"})
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:plate_pdf", args=[building.pk]))

    assert response.status_code == 404


def test_same_plates_render_same_bytes(street):
    plates = list(plate_pdf.live_plates(Building.objects.all()))
    faces = [plate_pdf.plate_face(plate) for plate in plates]

    assert plate_pdf.render_plates(faces) == plate_pdf.render_plates(faces)


def test_sheet_over_the_cap_is_refused(signed_in, street, monkeypatch):
    monkeypatch.setattr(plate_pdf, "MAX_PLATES_PER_SHEET", 5)
    client = signed_in("registry_officer")

    response = client.get(
        reverse("registry:plate_sheet"), {"kelurahan": "13.74.02.1002"}
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert (
        "This choice has 7 plates, but a sheet holds at most 5. "
        "Choose an RW or an RT to print fewer at a time."
    ) in response.content.decode()
    assert not Plate.objects.filter(printed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Choose a kelurahan, or list the buildings or plate codes to print."),
        (
            {"kelurahan": "13.74.09.1001"},
            "Kelurahan: choose a kelurahan of this city from the list.",
        ),
        (
            {"kelurahan": "13.74.02.1002", "rw": "dua"},
            "RW: enter a number from 1 to 999, such as 3.",
        ),
        (
            {"kelurahan": "13.74.02.1002", "rt": "3"},
            "RT: choose the RW as well, because RT numbers repeat in every RW.",
        ),
        (
            {"ids": "12;x"},
            "Buildings: x is neither a building number nor a plate code",
        ),
        (
            {"kelurahan": "13.74.02.1002", "rw": "9"},
            "No building with a plate matches this choice; change the filters.",
        ),
    ],
)
def test_bad_sheet_choice_says_how_to_fix(signed_in, street, query, message):
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:plate_sheet"), query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_sheet_takes_plate_codes(signed_in, street):
    client = signed_in("registry_officer")
    wanted = street[:2]
    typed = f"{wanted[0].plate_code.lower()}, {wanted[1].pk}"

    response = client.get(reverse("registry:plate_sheet"), {"ids": typed})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    printed = set(
        Plate.objects.filter(printed_at__isnull=False).values_list("code", flat=True)
    )
    assert printed == {building.plate_code for building in wanted}


def test_kelurahan_staff_print_only_their_area(signed_in, city):
    elsewhere = register_building(building_input(kelurahan_code="13.74.01.1001"))
    client = signed_in("registry_officer")

    single = client.get(reverse("registry:plate_pdf", args=[elsewhere.pk]))
    sheet = client.get(reverse("registry:plate_sheet"), {"ids": str(elsewhere.pk)})

    assert single.status_code == 404
    assert sheet.status_code == 400


def test_print_form_lists_own_kelurahan(signed_in, city):
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:plate_print"))

    assert response.status_code == 200
    areas = list(response.context["areas"])
    assert [area.code for area in areas] == ["13.74.02.1002"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_printers_reach_print_pages(signed_in, building, persona):
    client = signed_in(persona)
    urls = [
        reverse("registry:plate_print"),
        reverse("registry:plate_sheet") + "?kelurahan=13.74.02.1002",
        reverse("registry:plate_pdf", args=[building.pk]),
    ]

    statuses = {client.get(url).status_code for url in urls}

    assert statuses == ({200} if persona in PRINTERS else {403})


def test_print_pages_send_anonymous_to_login(client, building):
    response = client.get(reverse("registry:plate_pdf", args=[building.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
