"""Rotating and revoking the plate key (`kotacerdas plates ...`) and scanning old plates."""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from stdnum.iso7064 import mod_37_36
from tests.registry.conftest import building_input

from kotacerdas.journal.keys import load_private_key
from kotacerdas.registry import plates, scan
from kotacerdas.registry.codes import ALPHABET, format_plate_code
from kotacerdas.registry.models import Building, Plate
from kotacerdas.registry.plates import (
    PlateKeyError,
    Verdict,
    _b64url,
    read_plate_text,
    signed_message,
)
from kotacerdas.registry.services import current_plate, register_building, reissue_plate

pytestmark = pytest.mark.django_db

GENUINE = "Genuine plate, signed by the city."
REPRINT = (
    "This plate was signed with a city key that has since been withdrawn, so its "
    "signature can no longer be trusted. The plate needs re-printing: ask the "
    "kelurahan office for a new plate."
)
FORGED = "This QR code is not signed by the city: the plate may be forged. Report it."


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def plate_key_file(settings, tmp_path: Path) -> Iterator[Path]:
    """Give the plates their own key file for this test."""
    path = tmp_path / "keys" / "plate-ed25519.pem"
    settings.KOTACERDAS_PLATE_KEY_FILE = path
    plates.plate_key()
    yield path


def new_building(city, number: int) -> Building:
    return register_building(building_input(street_address=f"Jl. Rotasi No. {number}"))


def qr_text(building: Building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def run_plates(*args: str) -> str:
    output = io.StringIO()
    call_command("plates", *args, stdout=output)
    return output.getvalue()


def scan_message(client: Client, text: str) -> str:
    response = client.get(reverse("registry:scan"), {"text": text})
    assert response.status_code == 200
    return response.context["result"].message


def test_old_and_new_plates_scan_genuine(city, plate_key_file: Path) -> None:
    old = new_building(city, 1)
    old_key_id = current_plate(old).key_id  # type: ignore[union-attr]

    output = run_plates("rotate-key")
    new = new_building(city, 2)
    new_key_id = current_plate(new).key_id  # type: ignore[union-attr]

    assert new_key_id != old_key_id
    assert f"new plate key {new_key_id} signs new plates" in output
    assert f"old key {old_key_id} retired: its 1 active plates keep scanning" in output
    for building in (old, new):
        read = read_plate_text(qr_text(building))
        assert read.verdict == Verdict.GENUINE, read.reason
        assert scan.look_up(qr_text(building)).outcome == scan.Outcome.FOUND
    assert set(plates.offline_check_data()["keys"]) == {old_key_id, new_key_id}


def test_old_plate_genuine_on_scan_page(city, plate_key_file, signed_in) -> None:
    old = new_building(city, 1)
    run_plates("rotate-key")
    officer = signed_in("registry_officer")

    assert scan_message(officer, qr_text(old)) == GENUINE
    landing = Client().get(qr_text(old).removeprefix("http://testserver"))
    assert landing.status_code == 200
    assert landing.context["message"] == GENUINE


def test_plate_keys_api_lists_both(city, plate_key_file, client) -> None:
    old = new_building(city, 1)
    run_plates("rotate-key")
    new = new_building(city, 2)

    keys = client.get("/api/plates/keys").json()["keys"]

    assert set(keys) == {
        current_plate(old).key_id,  # type: ignore[union-attr]
        current_plate(new).key_id,  # type: ignore[union-attr]
    }


def test_revoked_key_plate_needs_reprint(
    city, plate_key_file, personas, signed_in
) -> None:
    old = new_building(city, 1)
    old_key_id = current_plate(old).key_id  # type: ignore[union-attr]

    output = run_plates("rotate-key", "--revoke-old")
    new = new_building(city, 2)
    read = read_plate_text(qr_text(old))
    result = scan.resolve(qr_text(old), personas["registry_officer"])
    landing = Client().get(qr_text(old).removeprefix("http://testserver"))

    assert (
        f"old key {old_key_id} revoked: its 1 active plates need re-printing" in output
    )
    assert read.verdict == Verdict.FORGED
    assert read.reason == plates.REVOKED_KEY
    assert result.outcome == scan.Outcome.REPRINT
    assert result.message == REPRINT
    assert result.building_url == reverse("registry:building_detail", args=[old.pk])
    assert scan_message(signed_in("registry_officer"), qr_text(old)) == REPRINT
    assert landing.status_code == 200
    assert landing.context["message"] == REPRINT
    assert landing.context["kelurahan"] == old.kelurahan
    assert scan_message(signed_in("collector"), qr_text(new)) == GENUINE
    assert old_key_id not in plates.offline_check_data()["keys"]


def test_revoked_key_forgeries_stay_forged(city, plate_key_file: Path) -> None:
    plate = current_plate(new_building(city, 1))
    assert plate is not None
    run_plates("rotate-key", "--revoke-old")
    retired = load_private_key(
        plate_key_file.parent / "retired" / f"plate-ed25519-{plate.key_id}.pem"
    )
    code = unregistered_code()
    by_thief = _b64url(retired.sign(signed_message(plate.key_id, code)))
    by_new_key = plates.sign_plate(plate.code).signature

    wrong = f"http://testserver/p/{plate.code}?k={plate.key_id}&s={by_new_key}"
    unknown = f"http://testserver/p/{code}?k={plate.key_id}&s={by_thief}"

    assert read_plate_text(wrong).reason == "bad signature"
    assert scan.look_up(wrong).outcome == scan.Outcome.FORGED
    assert read_plate_text(unknown).reason == plates.REVOKED_KEY
    assert scan.look_up(unknown).outcome == scan.Outcome.FORGED, (
        "a code no plate has was never printed by the city"
    )


def unregistered_code() -> str:
    body = "PPJB111111"
    return format_plate_code(body + mod_37_36.calc_check_digit(body, alphabet=ALPHABET))


def qr_text_of(plate: Plate) -> str:
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def test_reprint_uses_new_key(city, plate_key_file) -> None:
    old = new_building(city, 1)
    run_plates("rotate-key", "--revoke-old")
    code = current_plate(old).code  # type: ignore[union-attr]
    listed = run_plates("reprint-list")

    reissue_plate(old, "other", "plate key revoked")
    after = run_plates("reprint-list")

    assert listed == f"{code} 13.74.02.1002\n"
    assert after == ""
    assert read_plate_text(qr_text(old)).verdict == Verdict.GENUINE
    assert scan.look_up(qr_text_of(Plate.objects.get(code=code))).outcome == (
        scan.Outcome.REVOKED
    )


def test_revoke_key_after_rotation(city, plate_key_file) -> None:
    old = new_building(city, 1)
    old_key_id = current_plate(old).key_id  # type: ignore[union-attr]
    run_plates("rotate-key")

    output = run_plates("revoke-key", old_key_id)
    keys = run_plates("keys").splitlines()

    assert output == (
        f"plate key {old_key_id} revoked; 1 active plates need re-printing "
        "(`kotacerdas plates reprint-list`)\n"
    )
    assert read_plate_text(qr_text(old)).reason == plates.REVOKED_KEY
    assert keys[0].endswith("signs new plates, 0 active plates")
    assert keys[1].startswith(f"{old_key_id} revoked ")
    assert keys[1].endswith(": its plates need re-printing, 1 active plates")


def test_revoke_key_rejects_bad_ids(city, plate_key_file) -> None:
    current = plates.key_id(plates.plate_key().public_key())

    with pytest.raises(CommandError, match="rotate-key --revoke-old"):
        run_plates("revoke-key", current)
    with pytest.raises(CommandError, match="plate key 00000000 not found"):
        run_plates("revoke-key", "00000000")


def test_signing_with_revoked_key_refused(city, plate_key_file) -> None:
    current = plates.plate_key()
    kid = plates.key_id(current.public_key())
    keyring = {
        "format": plates.KEYRING_FORMAT,
        "keys": [
            plates.RetiredPlateKey(
                kid, current.public_key(), "2026-01-01T00:00:00+07:00", "2026-01-02"
            ).to_json()
        ],
    }
    plates.keyring_path().write_text(json.dumps(keyring))

    with pytest.raises(PlateKeyError, match=f"the plate key {kid} is revoked"):
        plates.sign_plate("PPJ-B-7F3K9Q-C")


def test_invalid_keyring_named(city, plate_key_file) -> None:
    plates.keyring_path().write_text('{"format": "other"}')

    with pytest.raises(PlateKeyError) as caught:
        plates.trusted_keys()

    assert f"plate keyring {plates.keyring_path()} is invalid" in str(caught.value)


def test_keyring_file_beside_key(city, plate_key_file: Path) -> None:
    old_key_id = plates.key_id(plates.plate_key().public_key())

    run_plates("rotate-key")
    keyring = json.loads(plates.keyring_path().read_text())

    assert plates.keyring_path() == plate_key_file.with_name("plate-ed25519.keys.json")
    assert keyring["format"] == "kotacerdas-plate-keys/v1"
    assert [key["key_id"] for key in keyring["keys"]] == [old_key_id]
    assert keyring["keys"][0]["revoked_at"] is None
    assert (
        plate_key_file.parent / "retired" / f"plate-ed25519-{old_key_id}.pem"
    ).exists()


def test_plate_rotation_logs_no_secret(city, plate_key_file, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    old = plates.plate_key()

    output = run_plates("rotate-key", "--revoke-old")
    new = plates.plate_key()

    text = caplog.text + output
    assert "rotated plate key" in caplog.text
    assert "PRIVATE KEY" not in text
    for key in (old, new):
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        assert pem.splitlines()[1].decode() not in text
        assert raw.hex() not in text
