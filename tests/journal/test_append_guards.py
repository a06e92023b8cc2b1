"""What `journal.services.append` accepts: declared events, valid payloads, no personal data."""

import json

import pytest
from django.db import transaction

from kotacerdas.journal import services
from kotacerdas.journal.events import (
    EventSchema,
    InvalidPayload,
    UnknownEventType,
    event_type,
)
from kotacerdas.journal.models import Entry, JournalHead
from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data


@event_type("tests.parcel.tagged")
class ParcelTagged(EventSchema):
    """A test-only event whose free-text fields let the guard see values."""

    parcel_id: int
    label: str
    tags: list[str]
    owner_hash: str | None = None


def tagged(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {"parcel_id": 7, "label": "TPS-03", "tags": []}
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "path", "reason"),
    [
        (tagged(label="3374011201900003"), "payload.label", "NIK or KK number"),
        (tagged(label="3374 0112 0190 0003"), "payload.label", "NIK or KK number"),
        (tagged(label="3374-0112-0190-0003"), "payload.label", "NIK or KK number"),
        (tagged(label="3374.0112.0190.0003"), "payload.label", "NIK or KK number"),
        (tagged(tags=["ok", "081234567890"]), "payload.tags[1]", "phone number"),
        (tagged(label="+62 812-3456-7890"), "payload.label", "phone number"),
        (tagged(label="0812 3456 7890"), "payload.label", "phone number"),
        (tagged(label="siti@example.id"), "payload.label", "e-mail address"),
        (tagged(parcel_id=3374011201900003), "payload.parcel_id", "16 digits"),
    ],
)
def test_guard_rejects_personal_values(
    payload: dict[str, object], path: str, reason: str
) -> None:
    with pytest.raises(PersonalDataError) as raised:
        reject_personal_data(payload)

    assert raised.value.path == path, f"wrong field path in {raised.value}"
    assert reason in str(raised.value), f"message should say {reason!r}"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": "Siti Rahma"}, "payload.name"),
        ({"member": {"nama": "Siti"}}, "payload.member.nama"),
        ({"items": [{"Phone": "x"}]}, "payload.items[0].Phone"),
        ({"email": ""}, "payload.email"),
        ({"alamat": "Jl. Sudirman"}, "payload.alamat"),
    ],
)
def test_guard_rejects_personal_keys(payload: dict[str, object], path: str) -> None:
    with pytest.raises(PersonalDataError) as raised:
        reject_personal_data(payload)

    assert raised.value.path == path, f"wrong field path in {raised.value}"
    assert "names personal data" in str(raised.value), f"message: {raised.value}"


@pytest.mark.parametrize(
    "payload",
    [
        {"nik_hash": "a" * 64},
        {"name_hash": "0123456789abcdef" * 4},
        {"label": "0123456789abcdef" * 4},
        {"amount_rupiah": 150_000, "plate_code": "PP-13.74.01-0042"},
        {"kelurahan_code": "13.74.01.1001"},
        {"reference": "INV-2025-000123"},
        {"client_id": "fd781266-1299-4409-88fd-09ba2984cac2"},
    ],
)
def test_guard_allows_hashes_and_codes(payload: dict[str, object]) -> None:
    reject_personal_data(payload)


def test_schema_rejects_personal_field() -> None:
    with pytest.raises(ValueError, match="field 'phone' names personal data"):

        @event_type("tests.contact.saved")
        class ContactSaved(EventSchema):
            phone: str


def test_event_type_needs_three_parts() -> None:
    with pytest.raises(ValueError, match=r"'tests\.saved' is invalid"):
        event_type("tests.saved")


@pytest.mark.django_db
def test_unknown_event_type_rejected() -> None:
    with pytest.raises(
        UnknownEventType, match=r"'tests\.ghost\.appeared' is not declared"
    ):
        services.append("tests.ghost.appeared", {})


@pytest.mark.django_db
def test_bad_payload_type_rejected() -> None:
    with pytest.raises(InvalidPayload) as raised:
        services.append("tests.parcel.tagged", tagged(parcel_id="7"))

    assert "tests.parcel.tagged: parcel_id:" in str(raised.value), str(raised.value)
    assert "integer" in str(raised.value), (
        f"message should name the type: {raised.value}"
    )


@pytest.mark.django_db
def test_missing_field_rejected() -> None:
    with pytest.raises(InvalidPayload, match="label: Field required"):
        services.append("tests.parcel.tagged", {"parcel_id": 7, "tags": []})


@pytest.mark.django_db
def test_extra_field_rejected() -> None:
    with pytest.raises(InvalidPayload, match="colour: Extra inputs are not permitted"):
        services.append("tests.parcel.tagged", tagged(colour="red"))


@pytest.mark.django_db
def test_personal_data_blocks_write() -> None:
    with pytest.raises(PersonalDataError, match=r"payload\.label: value looks like"):
        services.append("tests.parcel.tagged", tagged(label="budi@example.id"))

    assert not Entry.objects.exists(), "no entry should be written"
    assert JournalHead.objects.get().size == 0, "the head counter should not move"


@pytest.mark.django_db
def test_personal_actor_rejected() -> None:
    with pytest.raises(PersonalDataError, match="actor: value looks like a phone"):
        services.append("tests.parcel.tagged", tagged(), actor="081234567890")


@pytest.mark.django_db(transaction=True)
def test_append_outside_transaction_raises() -> None:
    with pytest.raises(services.JournalError, match="inside the caller's transaction"):
        services.append("tests.parcel.tagged", tagged())

    assert not Entry.objects.exists(), "no entry should be written"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_append_leaves_no_gap() -> None:
    with pytest.raises(RuntimeError, match="caller failed"), transaction.atomic():
        services.append("tests.parcel.tagged", tagged())
        raise RuntimeError("caller failed")
    with transaction.atomic():
        entry = services.append("tests.parcel.tagged", tagged())

    assert entry.seq == 0, "the rolled-back number should be reused"
    assert JournalHead.objects.get().size == 1, "head should count one entry"


@pytest.mark.django_db
def test_body_is_canonical_envelope() -> None:
    schema = ParcelTagged(parcel_id=9, label="TPS-01", tags=["b", "a"])

    entry = services.append("tests.parcel.tagged", schema, actor="user:12")
    body = bytes(entry.body)
    envelope = json.loads(body)

    assert body.startswith(b'{"actor":"user:12","at":"'), f"keys not sorted: {body!r}"
    assert envelope["seq"] == entry.seq, "body should carry the sequence number"
    assert envelope["type"] == "tests.parcel.tagged", "body should carry the type"
    assert envelope["payload"]["tags"] == ["b", "a"], "list order must be kept"
    assert envelope["at"].endswith("Z"), "time should be UTC with a Z suffix"
