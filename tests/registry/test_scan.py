"""The scan page, the public plate page and the plate API, role by role."""

import html
import io
import json

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import formats, timezone
from PIL import Image
from stdnum.iso7064 import mod_37_36

from kotacerdas.accounts.api_auth import create_api_token
from kotacerdas.accounts.roles import ROLES
from kotacerdas.registry import scan
from kotacerdas.registry.codes import ALPHABET, format_plate_code
from kotacerdas.registry.models import Member, Plate
from kotacerdas.registry.plates import (
    _b64url,
    plate_url,
    public_keys_json,
    sign_plate,
    signed_message,
)
from kotacerdas.registry.services import (
    current_plate,
    install_plate,
    register_building,
    reissue_plate,
    revoke_plate,
)

from .conftest import HEAD_NIK, building_input

pytestmark = pytest.mark.django_db

ADDRESS = "Jl. Sutan Syahrir No. 12"
FORGED = "This QR code is not signed by the city: the plate may be forged. Report it."
NOT_YOURS = (
    "This is not your building. You can see the details of your own building only."
)
PERSONAS = [role.name for role in ROLES] + ["outsider"]
SCANNERS = {
    "admin",
    "registry_officer",
    "waste_operator",
    "collector",
    "revenue_officer",
    "citizen",
    "auditor",
    "command_center",
}


def qr_text(building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def forged_text(code: str, key_id: str | None = None) -> str:
    """A plate URL with a valid code signed by a key that is not the city's."""
    impostor = Ed25519PrivateKey.generate()
    kid = key_id or next(iter(public_keys_json()))
    signature = _b64url(impostor.sign(signed_message(kid, code)))
    return f"http://testserver/p/{code}?k={kid}&s={signature}"


def unregistered_code() -> str:
    """A well-formed plate code that no building has (codes are random)."""
    return format_plate_code(
        "PPJB111111" + mod_37_36.calc_check_digit("PPJB111111", alphabet=ALPHABET)
    )


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="h").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def page_of(response) -> str:
    return html.unescape(response.content.decode())


def scan_text(client, text: str) -> str:
    response = client.get(reverse("registry:scan"), {"text": text})
    assert response.status_code == 200
    return page_of(response)


@pytest.fixture
def citizen_at_home(personas, household):
    """Link the citizen persona to the head of the household."""
    # No registry service links a user account to a member yet.
    Member.objects.filter(household=household, relation="head").update(
        user=personas["citizen"]
    )
    return personas["citizen"]


# Reading a plate ----------------------------------------------------------------


def test_collector_scan_shows_address_and_status(signed_in, building):
    page = scan_text(signed_in("collector"), qr_text(building))

    assert "Genuine plate, signed by the city." in page
    assert ADDRESS in page
    assert "Pasar Usang" in page
    assert "003/002" in page
    assert "Issued, not yet installed" in page


@pytest.mark.parametrize(
    "typed", ["{code}", "{lower}", "{compact}", "  {spaced}  ", "{oh_for_zero}"]
)
def test_typed_code_finds_the_building(signed_in, building, typed):
    code = building.plate_code
    text = typed.format(
        code=code,
        lower=code.lower(),
        compact=code.replace("-", ""),
        spaced=code.replace("-", " "),
        oh_for_zero=code.replace("0", "o").replace("1", "I"),
    )

    page = scan_text(signed_in("collector"), text)

    assert ADDRESS in page
    assert "Code typed by hand" in page


def test_revoked_plate_scans_as_revoked(signed_in, building):
    old_text = qr_text(building)
    reissue_plate(building, "lost")
    old = Plate.objects.get(code=building.plate_code)
    revoked_on = formats.date_format(timezone.localtime(old.revoked_at), "DATE_FORMAT")

    page = scan_text(signed_in("collector"), old_text)

    assert (
        f"This plate was revoked on {revoked_on}; ask the kelurahan for the new plate."
        in page
    )
    assert ADDRESS not in page
    assert 'data-outcome="revoked"' in page


def test_new_plate_after_reissue_is_genuine(signed_in, building):
    reissue_plate(building, "damaged")
    building.refresh_from_db()

    page = scan_text(signed_in("collector"), qr_text(building))

    assert 'data-outcome="found"' in page
    assert ADDRESS in page


def test_wrong_signature_scans_as_forged(signed_in, building):
    page = scan_text(signed_in("collector"), forged_text(building.plate_code))

    assert FORGED in page
    assert ADDRESS not in page
    assert 'data-outcome="forged"' in page


def test_unknown_key_scans_as_forged(signed_in, building):
    page = scan_text(
        signed_in("collector"), forged_text(building.plate_code, key_id="00000000")
    )

    assert FORGED in page


def test_unregistered_code_is_unknown(signed_in, building):
    code = unregistered_code()

    page = scan_text(signed_in("collector"), code)

    assert f"No plate with the code {code} is registered." in page
    assert 'data-outcome="unknown"' in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "https://example.com/menu",
            "This QR code is not a building plate of this city.",
        ),
        ("PPJ-B", "A plate code looks like PPJ-B-7F3K9Q-C"),
        ("x" * 3000, "This QR code is not a building plate of this city."),
    ],
)
def test_malformed_text_says_what_to_do(signed_in, city, text, message):
    page = scan_text(signed_in("collector"), text)

    assert message in page
    assert 'data-outcome="malformed"' in page


def test_wrong_check_character_is_reported(signed_in, building):
    code = building.plate_code
    last = code[-1]
    wrong = code[:-1] + ("0" if last != "0" else "2")

    page = scan_text(signed_in("collector"), wrong)

    assert "The check character of this plate code does not match" in page


# Photos ---------------------------------------------------------------------------


def upload(client, content: bytes, name: str = "plate.png"):
    photo = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(reverse("registry:scan"), {"photo": photo})


def test_photo_of_plate_resolves_to_building(signed_in, building):
    response = upload(signed_in("collector"), qr_png(qr_text(building)))

    assert response.status_code == 200
    assert ADDRESS in page_of(response)


def test_photo_of_forged_plate_is_flagged(signed_in, building):
    response = upload(signed_in("collector"), qr_png(forged_text(building.plate_code)))

    assert FORGED in page_of(response)


def test_jpeg_photo_with_margin_decodes(signed_in, building):
    plate = Image.open(io.BytesIO(qr_png(qr_text(building)))).convert("RGB")
    photo = Image.new("RGB", (plate.width * 3, plate.height * 2), "#8a8a7a")
    photo.paste(plate, (plate.width, plate.height // 2))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85)

    response = upload(signed_in("collector"), buffer.getvalue(), "IMG_0001.jpg")

    assert ADDRESS in page_of(response)


def test_non_image_upload_is_refused(signed_in, building):
    response = upload(signed_in("collector"), b"%PDF-1.7 not a photo", "plate.pdf")

    assert response.status_code == 400
    assert (
        "This file is not a picture. Choose a photo (JPEG, PNG or WebP) of the plate's QR code."
        in page_of(response)
    )


def test_oversized_photo_is_refused(signed_in, building, monkeypatch):
    monkeypatch.setattr(scan, "MAX_PHOTO_BYTES", 1024 * 1024)
    content = qr_png(qr_text(building)) + b"\0" * (1024 * 1024)

    response = upload(signed_in("collector"), content)

    assert response.status_code == 400
    assert "The photo is larger than 1 MB." in page_of(response)


def test_huge_photo_is_refused(signed_in, building, monkeypatch):
    monkeypatch.setattr(scan, "MAX_PHOTO_PIXELS", 1_000_000)
    buffer = io.BytesIO()
    Image.new("L", (1100, 1000), "white").save(buffer, format="PNG")

    response = upload(signed_in("collector"), buffer.getvalue())

    assert response.status_code == 400
    assert "The photo has more than 1 megapixels." in page_of(response)


def test_photo_without_qr_code_says_so(signed_in, city):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, format="PNG")

    response = upload(signed_in("collector"), buffer.getvalue())

    assert response.status_code == 400
    assert "No QR code was found in this photo." in page_of(response)


def test_missing_photo_says_so(signed_in, city):
    response = signed_in("collector").post(reverse("registry:scan"), {})

    assert response.status_code == 400
    assert "Choose a photo of the plate's QR code." in page_of(response)


# What each role sees ----------------------------------------------------------------


def test_collector_sees_no_household(signed_in, household):
    page = scan_text(signed_in("collector"), qr_text(household.building))

    assert ADDRESS in page
    assert "Siti Rahmah" not in page
    assert "1374********0001" not in page
    assert HEAD_NIK not in page


def test_registry_officer_sees_households(signed_in, household):
    page = scan_text(signed_in("registry_officer"), qr_text(household.building))

    assert ADDRESS in page
    assert "Siti Rahmah" in page
    assert "Rizky Pratama" in page
    # Registry officers hold registry.view_identity_numbers.
    assert HEAD_NIK in page


def test_registry_officer_gets_edit_links(signed_in, household):
    head = household.members.get(relation="head")

    page = scan_text(signed_in("registry_officer"), qr_text(household.building))

    assert reverse("registry:member_edit", args=[head.pk]) in page
    assert reverse("registry:building_edit", args=[household.building_id]) in page
    assert reverse("registry:building_detail", args=[household.building_id]) in page


def test_revenue_officer_sees_masked_nik(signed_in, household):
    page = scan_text(signed_in("revenue_officer"), qr_text(household.building))

    assert "Siti Rahmah" in page
    assert "1374********0001" in page
    assert HEAD_NIK not in page
    assert "/edit/" not in page


def test_officer_elsewhere_gets_service_view(signed_in, city):
    elsewhere = register_building(building_input(kelurahan_code="13.74.01.1001"))

    page = scan_text(signed_in("registry_officer"), qr_text(elsewhere))

    assert ADDRESS in page
    assert "Households" not in page


def test_citizen_sees_own_building(signed_in, citizen_at_home, household):
    page = scan_text(signed_in("citizen"), qr_text(household.building))

    assert "This is your building." in page
    assert ADDRESS in page
    assert "Siti Rahmah" not in page


def test_citizen_sees_nothing_of_other_building(signed_in, citizen_at_home, city):
    other = register_building(building_input(street_address="Jl. Imam Bonjol 3"))

    page = scan_text(signed_in("citizen"), qr_text(other))

    assert NOT_YOURS in page
    assert "Jl. Imam Bonjol 3" not in page
    assert "Pasar Usang" not in page


def test_citizen_without_home_sees_nothing(signed_in, building):
    page = scan_text(signed_in("citizen"), qr_text(building))

    assert NOT_YOURS in page
    assert ADDRESS not in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_scan_page_needs_scan_rights(signed_in, city, persona):
    response = signed_in(persona).get(reverse("registry:scan"))

    assert response.status_code == (200 if persona in SCANNERS else 403)


def test_scan_page_sends_anonymous_to_login(client, city):
    response = client.get(reverse("registry:scan"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_scan_page_embeds_public_keys(signed_in, city):
    response = signed_in("collector").get(reverse("registry:scan"))

    embedded = response.context["plate_keys"]
    assert embedded["keys"] == public_keys_json()
    assert embedded["domain"] == "kotacerdas-plate/v1"
    assert 'id="plate-keys"' in page_of(response)


def test_resolve_returns_the_result_panel(signed_in, building):
    response = signed_in("collector").post(
        reverse("registry:scan_resolve"), {"text": qr_text(building)}
    )

    body = page_of(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert ADDRESS in body


# Installing a plate -------------------------------------------------------------------


def test_collector_records_plate_installed(signed_in, building):
    client = signed_in("collector")
    text = qr_text(building)
    assert "Plate installed" in scan_text(client, text)

    response = client.post(reverse("registry:plate_install"), {"text": text})

    assert response.status_code == 302
    assert current_plate(building).status == Plate.Status.INSTALLED
    page = page_of(client.get(response["Location"]))
    assert f"Plate {building.plate_code} is recorded as installed." in page
    assert "Plate installed</button>" not in page


def test_citizen_cannot_record_installation(signed_in, citizen_at_home, household):
    client = signed_in("citizen")
    text = qr_text(household.building)
    assert "Plate installed" not in scan_text(client, text)

    response = client.post(reverse("registry:plate_install"), {"text": text})

    assert response.status_code == 403
    assert current_plate(household.building).status == Plate.Status.ISSUED


def test_forged_plate_cannot_be_installed(signed_in, building):
    client = signed_in("registry_officer")

    client.post(
        reverse("registry:plate_install"),
        {"text": forged_text(building.plate_code)},
    )

    assert current_plate(building).status == Plate.Status.ISSUED


# The public plate page ----------------------------------------------------------------


def test_landing_shows_genuine_without_personal_data(client, household):
    response = client.get(qr_text(household.building))

    page = page_of(response)
    assert response.status_code == 200
    assert "Genuine plate, signed by the city." in page
    assert "Pasar Usang" in page
    assert "Issued, not yet installed" in page
    assert ADDRESS not in page
    assert "Siti Rahmah" not in page
    assert "003/002" not in page
    assert "RT 003" not in page


def test_landing_flags_forged_plate(client, building):
    response = client.get(forged_text(building.plate_code))

    page = page_of(response)
    assert FORGED in page
    assert "Pasar Usang" not in page


def test_landing_flags_revoked_plate(client, building):
    text = qr_text(building)
    revoke_plate(current_plate(building), "copied")

    page = page_of(client.get(text))

    assert "This plate was revoked on" in page


def test_landing_for_unknown_code_is_404(client, city):
    code = unregistered_code()
    signed = sign_plate(code)

    response = client.get(plate_url(code, signed.key_id, signed.signature))

    assert response.status_code == 404
    assert f"No plate with the code {code} is registered." in page_of(response)


def test_landing_sends_scanners_to_the_scan_page(signed_in, building):
    text = qr_text(building)

    response = signed_in("collector").get(text)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("registry:scan") + "?text=")
    followed = signed_in("collector").get(response["Location"])
    assert ADDRESS in page_of(followed)


def test_landing_without_rights_stays_public(signed_in, building):
    response = signed_in("merchant").get(qr_text(building))

    assert response.status_code == 200
    assert ADDRESS not in page_of(response)


def test_installed_plate_shows_installed(client, building):
    install_plate(current_plate(building))

    page = page_of(client.get(qr_text(building)))

    assert "Installed" in page


# The plate API ---------------------------------------------------------------------------


def verify(client, text: str) -> dict:
    response = client.post(
        "/api/plates/verify",
        data=json.dumps({"text": text}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def test_api_verify_genuine_hides_building_from_anonymous(client, building):
    body = verify(client, qr_text(building))

    assert body == {
        "verdict": "genuine",
        "plate_code": building.plate_code,
        "status": "issued",
        "building_id": None,
    }


def test_api_verify_gives_collector_the_building(signed_in, building):
    body = verify(signed_in("collector"), qr_text(building))

    assert body["building_id"] == building.pk


def test_api_verify_accepts_an_api_token(client, personas, building):
    secret = create_api_token(personas["collector"], "route app").secret

    response = client.post(
        "/api/plates/verify",
        data=json.dumps({"text": qr_text(building)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert response.status_code == 200
    assert response.json()["building_id"] == building.pk


def test_api_verify_rejects_a_wrong_token(client, building):
    response = client.post(
        "/api/plates/verify",
        data=json.dumps({"text": qr_text(building)}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer kc_0000000000_wrong",
    )

    assert response.status_code == 401


def test_api_verify_citizen_only_own_building(signed_in, citizen_at_home, household):
    other = register_building(building_input(street_address="Jl. Imam Bonjol 3"))
    client = signed_in("citizen")

    assert verify(client, qr_text(household.building))["building_id"] == (
        household.building_id
    )
    assert verify(client, qr_text(other))["building_id"] is None


def test_api_verify_forged_and_revoked(client, building):
    forged = verify(client, forged_text(building.plate_code))
    text = qr_text(building)
    revoke_plate(current_plate(building), "lost")
    revoked = verify(client, text)

    assert forged["verdict"] == "forged"
    assert forged["status"] is None
    assert revoked["verdict"] == "genuine"
    assert revoked["status"] == "revoked"


def test_api_verify_malformed_and_unknown(client, city):
    malformed = verify(client, "hello")
    unknown = verify(client, unregistered_code())

    assert malformed == {
        "verdict": "malformed",
        "plate_code": None,
        "status": None,
        "building_id": None,
    }
    assert unknown["verdict"] == "unsigned"
    assert unknown["status"] == "unknown"


def test_api_verify_rejects_overlong_text(client, city):
    response = client.post(
        "/api/plates/verify",
        data=json.dumps({"text": "x" * 5000}),
        content_type="application/json",
    )

    assert response.status_code == 422


def test_api_keys_are_public(client, city):
    response = client.get("/api/plates/keys")

    body = response.json()
    assert response.status_code == 200
    assert body["keys"] == public_keys_json()
    assert body["message_format"] == "kotacerdas-plate/v1\n{key_id}\n{plate_code}\n"
