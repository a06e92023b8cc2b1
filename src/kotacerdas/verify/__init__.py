"""The standalone verifier of receipt bundles and ledger exports.

It needs only the standard library, `cryptography` and `base45`, plus the
Django-free modules kotacerdas.journal.merkle and kotacerdas.journal.notes:
no Django, no database and no network. Importing it has no side effects.

    python -m kotacerdas.verify bundle.json --keys keys.json
"""

from kotacerdas.verify.bundle import Keys, Result, parse_keys, verify_bundle
from kotacerdas.verify.payload import PayloadError, decode_payload, encode_payload

__all__ = [
    "Keys",
    "PayloadError",
    "Result",
    "decode_payload",
    "encode_payload",
    "parse_keys",
    "verify_bundle",
]
