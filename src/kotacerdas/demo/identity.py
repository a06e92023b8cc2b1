"""Invented NIK, KK and phone numbers for the demo city.

A NIK is the 6-digit kecamatan code, the birth date as DDMMYY with 40 added
to a woman's day, and a 4-digit serial. A KK number is the kecamatan code, the
issue date as DDMMYY and a serial. The serials are invented: each
(code, date) prefix gets its own counter, which starts and steps at random, so
every number is unique by construction without remembering the numbers
already used. Phone numbers all have 0000 as digits 5 to 8, a pattern that
marks them as made up.
"""

import random
from datetime import date

MOBILE_PREFIXES = ("0812", "0813", "0821", "0822", "0852", "0853", "0877", "0896")
MAX_SERIAL = 9999


class SerialsExhausted(RuntimeError):
    """A NIK or KK prefix has used up its four-digit serials."""


class IdentityNumbers:
    """Allocates unique NIK and KK numbers for one demo city build."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last_serial: dict[str, int] = {}

    def nik(self, kecamatan_code: str, sex: str, birth_date: date) -> str:
        day = birth_date.day + (40 if sex == "F" else 0)
        prefix = f"{kecamatan_code}{day:02d}{birth_date:%m%y}"
        return prefix + self._next_serial(prefix)

    def kk(self, kecamatan_code: str, issued: date) -> str:
        prefix = f"{kecamatan_code}{issued:%d%m%y}"
        # KK and NIK numbers live in separate indexes, so a KK may share a
        # prefix with a NIK; the "K" keeps their counters apart all the same.
        return prefix + self._next_serial("K" + prefix)

    def _next_serial(self, key: str) -> str:
        serial = self.last_serial.get(key, 0) + self.rng.randint(1, 3)
        if serial > MAX_SERIAL:
            raise SerialsExhausted(f"serials for prefix {key} are used up")
        self.last_serial[key] = serial
        return f"{serial:04d}"


def phone_number(rng: random.Random) -> str:
    """Return a made-up mobile number such as 081200004711."""
    return f"{rng.choice(MOBILE_PREFIXES)}0000{rng.randrange(10_000):04d}"
