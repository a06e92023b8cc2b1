"""Kemendagri area codes in their dotted and compact forms.

A code has up to four segments: province (2 digits), kab/kota (2), kecamatan
(2) and village (4), written "13.74.02.1006" or compactly "1374021006".
"""

import re

SEGMENT_LENGTHS = (2, 2, 2, 4)
DOTTED = re.compile(r"^\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?$")
COMPACT_LENGTHS = {2, 4, 6, 10}


class InvalidAreaCode(ValueError):
    """A string is not a Kemendagri area code in dotted or compact form."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"area code {value!r} is invalid; write it dotted like 13.74.02.1006 "
            "or compact like 1374021006"
        )
        self.value = value


def normalize_code(value: str) -> str:
    """Return the dotted form of an area code given dotted or compact.

    Surrounding whitespace is ignored; anything else that is not a whole code
    (a missing segment, a letter, a wrong segment length) raises InvalidAreaCode.
    """
    text = value.strip()
    if DOTTED.match(text):
        return text
    if not text.isascii() or not text.isdigit() or len(text) not in COMPACT_LENGTHS:
        raise InvalidAreaCode(value)

    segments = []
    start = 0
    for length in SEGMENT_LENGTHS:
        if start >= len(text):
            break
        segments.append(text[start : start + length])
        start += length
    return ".".join(segments)


def compact_code(value: str) -> str:
    """Return the compact form (digits only) of an area code."""
    return normalize_code(value).replace(".", "")
