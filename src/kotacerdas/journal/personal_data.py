"""The guard that keeps personal data out of journal payloads.

Events carry ids, codes, amounts and salted hashes. A payload key that names
personal data, or a value shaped like a NIK/KK number, a phone number or an
e-mail address, is rejected before anything is written. Names cannot be
recognised by their shape, so names are kept out by key and by the schemas,
whose field names are checked when an event type is declared.
"""

import re
from typing import Any

PERSONAL_KEYS = frozenset(
    {
        "name",
        "full_name",
        "first_name",
        "last_name",
        "nama",
        "nik",
        "kk",
        "kk_number",
        "no_kk",
        "nomor_kk",
        "phone",
        "phone_number",
        "telepon",
        "hp",
        "email",
        "address",
        "street_address",
        "alamat",
        "birth_date",
        "date_of_birth",
        "tanggal_lahir",
        "mother_name",
        "password",
        "pin",
    }
)
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
SEPARATORS = re.compile(r"[\s.\-]")
PHONE = re.compile(r"^(?:\+?62|0)8\d{7,11}$")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
SALTED_HASH = re.compile(r"^[0-9a-f]{64}$")
# A UUID in its canonical 8-4-4-4-12 form. About 0.2% of random UUIDs have 16
# digits in a row once the dashes are gone, and a NIK is never written in this form.
UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


class PersonalDataError(ValueError):
    """A payload contains something that looks like personal data."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def check_key(key: str, path: str) -> None:
    normalized = key.lower()
    if normalized.endswith("_hash"):
        return
    if normalized in PERSONAL_KEYS:
        raise PersonalDataError(
            path, f"field {key!r} names personal data; store a salted hash or an id"
        )


def check_value(value: str, path: str) -> None:
    if SALTED_HASH.match(value) or UUID.match(value):
        return
    compact = SEPARATORS.sub("", value)
    if SIXTEEN_DIGITS.search(compact):
        raise PersonalDataError(path, "value looks like a NIK or KK number (16 digits)")
    if PHONE.match(compact):
        raise PersonalDataError(path, "value looks like a phone number")
    if EMAIL.search(value):
        raise PersonalDataError(path, "value looks like an e-mail address")


def reject_personal_data(payload: Any, path: str = "payload") -> None:
    """Raise PersonalDataError naming the first field that carries personal data."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            check_key(str(key), f"{path}.{key}")
            reject_personal_data(value, f"{path}.{key}")
    elif isinstance(payload, list | tuple):
        for index, value in enumerate(payload):
            reject_personal_data(value, f"{path}[{index}]")
    elif isinstance(payload, str):
        check_value(payload, path)
    elif (
        isinstance(payload, int)
        and not isinstance(payload, bool)
        and len(str(abs(payload))) == 16
    ):
        raise PersonalDataError(
            path, "number looks like a NIK or KK number (16 digits)"
        )
