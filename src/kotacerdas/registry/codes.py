"""Identifiers of the registry: plate codes, NIK and KK numbers.

A plate code is what is printed in large letters on a building's plate and
what a collector types when a QR code will not scan: `PPJ-B-7F3K9Q-C`. It is
the city's plate prefix, a kind letter (B for building), six random characters
and one ISO 7064 (MOD 33,32) check character, all from the Crockford base-32
alphabet, which has no I, L, O or U so that nothing reads as another
character. Typed codes are normalised: case, spaces and dashes do not matter,
and O/I/L are read as 0/1/1. A plate code holds no personal data.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.id import nik as stdnum_nik
from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 6
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SEPARATORS = re.compile(r"[\s.\-_/]")
PLATE_SHAPE = re.compile(
    rf"^([{ALPHABET}]{{2,5}})([A-Z])([{ALPHABET}]{{{BODY_LENGTH + 1}}})$"
)
KNOWN_PROVINCES = frozenset(
    {
        11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
        61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
    }
)  # fmt: skip


class InvalidCode(ValueError):
    """A plate code, NIK or KK number is malformed; the message explains the fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _check_character(compact: str) -> str:
    return mod_37_36.calc_check_digit(compact, alphabet=ALPHABET)


def new_plate_code(prefix: str, kind: str = "B") -> str:
    """Return a fresh random plate code in display form."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_plate_code(
        prefix + kind + body + _check_character(prefix + kind + body)
    )


def format_plate_code(compact: str) -> str:
    match = PLATE_SHAPE.match(compact)
    if match is None:
        raise ValueError(f"{compact!r} is not a plate code")
    prefix, kind, rest = match.groups()
    return f"{prefix}-{kind}-{rest[:BODY_LENGTH]}-{rest[BODY_LENGTH:]}"


def normalize_plate_code(typed: str) -> str:
    """Return the display form of a typed plate code or raise InvalidCode."""
    compact = SEPARATORS.sub("", typed.strip().upper())
    match = PLATE_SHAPE.match(compact.translate(READ_AS))
    if match is None:
        raise InvalidCode(
            "plate_code",
            _(
                "A plate code looks like PPJ-B-7F3K9Q-C: letters and digits as printed under the QR code."
            ),
        )
    compact = compact.translate(READ_AS)
    if not mod_37_36.is_valid(compact, alphabet=ALPHABET):
        raise InvalidCode(
            "plate_code",
            _(
                "The check character of this plate code does not match; check each character against the plate."
            ),
        )
    return format_plate_code(compact)


@dataclass(frozen=True)
class NikInfo:
    """A valid NIK and what its digits say."""

    nik: str
    sex: str  # "F" or "M"
    birth_date: date | None
    region_known: bool


def _digits(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value.strip())


def clean_nik(value: str) -> NikInfo:
    """Validate a NIK and read sex and birth date from it.

    Follows DOMAIN.md §2: 16 digits, known province, day 01-31 or 41-71, month
    01-12, a real date under one century, serial not 0000. A kab/kota code that
    python-stdnum does not know is accepted with `region_known=False` (NIKs
    keep the code of the place they were first issued, which may no longer
    exist).
    """
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 16:
        raise InvalidCode("nik", _("A NIK has exactly 16 digits."))
    if int(digits[:2]) not in KNOWN_PROVINCES:
        raise InvalidCode(
            "nik",
            _("The first two digits of a NIK must be a province code, such as 13."),
        )
    if digits[12:] == "0000":
        raise InvalidCode("nik", _("The last four digits of a NIK cannot be 0000."))
    day, month = int(digits[6:8]), int(digits[8:10])
    if not (1 <= day <= 31 or 41 <= day <= 71) or not 1 <= month <= 12:
        raise InvalidCode(
            "nik",
            _(
                "Digits 7 to 12 of this NIK are not a valid birth date "
                "(DDMMYY, with 40 added to the day for women)."
            ),
        )
    birth = _nik_birth_date(digits)
    if birth is None:
        raise InvalidCode("nik", _("Digits 7 to 12 of this NIK are not a real date."))
    try:
        stdnum_nik.validate(digits)
    except StdnumError:
        raise InvalidCode(
            "nik", _("This is not a valid NIK; check each digit.")
        ) from None
    return NikInfo(digits, "F" if day > 40 else "M", birth, _regency_known(digits))


def _regency_known(digits: str) -> bool:
    """Whether python-stdnum's table knows the NIK's kabupaten/kota code."""
    parts = numdb.get("id/loc").info(digits[:4])
    return len(parts) > 1 and bool(parts[1][1])


def _nik_birth_date(digits: str, today: date | None = None) -> date | None:
    """Read DDMMYY (women's day plus 40), choosing the century by a pivot.

    A two-digit year up to this year's is taken as 20xx, later ones as 19xx:
    a child born in 2015 is not read as 1915. A date valid only in the other
    century is still accepted.
    """
    day, month, year = int(digits[6:8]) % 40, int(digits[8:10]), int(digits[10:12])
    this_year = (today or date.today()).year
    centuries = (2000, 1900) if 2000 + year <= this_year else (1900, 2000)
    for century in centuries:
        if _real_date(century + year, month, day):
            return date(century + year, month, day)
    return None


def clean_kk(value: str) -> str:
    """Validate a KK number: 16 digits, a province code, a real issue date."""
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 16:
        raise InvalidCode("kk_number", _("A KK number has exactly 16 digits."))
    if int(digits[:2]) not in KNOWN_PROVINCES:
        raise InvalidCode(
            "kk_number",
            _(
                "The first two digits of a KK number must be a province code, such as 13."
            ),
        )
    if digits[12:] == "0000":
        raise InvalidCode(
            "kk_number", _("The last four digits of a KK number cannot be 0000.")
        )
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if not any(_real_date(century + year, month, day) for century in (1900, 2000)):
        raise InvalidCode(
            "kk_number",
            _("Digits 7 to 12 of this KK number are not a valid issue date (DDMMYY)."),
        )
    return digits


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def mask_number(digits: str) -> str:
    """Show the first four and last four digits: 1374********0001."""
    if len(digits) != 16:
        return "*" * len(digits)
    return digits[:4] + "*" * 8 + digits[12:]
