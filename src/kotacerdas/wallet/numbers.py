"""Wallet numbers and receipt references.

A wallet number is 12 digits: the prefix `88`, nine random digits and a Luhn
check digit (python-stdnum). It carries nothing about its holder, so it can
stand as the SNAP `customerNo` of a virtual account and be typed by a payer.
A receipt reference (`TRX-` and ten Crockford base-32 characters, 50 random
bits) is the public handle of a transfer's receipt.
"""

import re
import secrets

from stdnum import luhn
from stdnum.exceptions import ValidationError

WALLET_PREFIX = "88"
WALLET_LENGTH = 12
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "TRX-"
REFERENCE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s.-]")


class InvalidWalletNumber(ValueError):
    """A typed wallet number has the wrong length, characters or check digit."""


def new_wallet_number() -> str:
    body = WALLET_PREFIX + "".join(
        secrets.choice("0123456789") for _ in range(WALLET_LENGTH - 3)
    )
    return body + luhn.calc_check_digit(body)


def clean_wallet_number(value: str) -> str:
    """Return the 12 digits of a typed wallet number, spaces and dashes removed."""
    digits = _SEPARATORS.sub("", value or "")
    if not digits.isdecimal() or len(digits) != WALLET_LENGTH:
        raise InvalidWalletNumber(f"a wallet number is {WALLET_LENGTH} digits")
    try:
        luhn.validate(digits)
    except ValidationError:
        raise InvalidWalletNumber("the check digit does not match") from None
    return digits


def format_wallet_number(number: str) -> str:
    """Group a wallet number in fours for display: 8800 1234 5674."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(
        secrets.choice(CROCKFORD) for _ in range(REFERENCE_LENGTH)
    )
