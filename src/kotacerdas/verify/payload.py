"""The QR payload of a printed receipt: a whole bundle, compressed, in base45.

"KCB1:" + base45(zlib level 9 of the bundle's compact JSON). base45 uses only
the QR alphanumeric alphabet, which a QR code stores in 5.5 bits a character.
When the payload would be too long for a receipt's QR code, the code contains
the verify page's URL instead, and the scanning app fetches the bundle there.
"""

import json
import re
import zlib
from typing import Any

import base45

PREFIX = "KCB1:"
# Longer payloads need a QR code too dense to print on a receipt and scan with a
# phone. 2,500 characters is QR version 34 at level M (161 modules with the quiet
# zone): about 0.43 mm per module across the 70 mm text width of an 80 mm receipt.
# A bundle of the demo city's 208,000-entry tree with three cosignatures and an
# anchor measured about 2,300 characters.
MAX_QR_PAYLOAD = 2500
# A compressed bundle of a few kilobytes expands to at most this much JSON.
MAX_BUNDLE_BYTES = 1_000_000
_ENTRY_URL = re.compile(r"^https?://[^?#\s]+/verify/\?(?:.*&)?entry=(\d+)(?:&.*)?$")


class PayloadError(ValueError):
    """A QR payload is not a KCB1 bundle or does not decode."""


def encode_payload(bundle: dict[str, Any]) -> str:
    """Return the KCB1 form of a bundle, whatever its length."""
    compact = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)
    return PREFIX + base45.b45encode(zlib.compress(compact.encode(), 9)).decode()


def decode_payload(text: str) -> dict[str, Any]:
    """Return the bundle in a KCB1 payload, or raise PayloadError."""
    text = text.strip()
    if not text.startswith(PREFIX):
        entry = entry_from_url(text)
        if entry is not None:
            raise PayloadError(
                f"the QR code contains the URL {text}, not a bundle; "
                f"download the bundle of entry {entry} from that page"
            )
        raise PayloadError("the text does not start with KCB1: and is not a bundle")
    try:
        compressed = base45.b45decode(text[len(PREFIX) :])
    except ValueError as error:
        raise PayloadError(f"the KCB1 payload is not valid base45: {error}") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_BUNDLE_BYTES)
    except zlib.error as error:
        raise PayloadError(f"the KCB1 payload does not decompress: {error}") from None
    if inflater.unconsumed_tail:
        raise PayloadError(
            f"the KCB1 payload expands to more than {MAX_BUNDLE_BYTES} bytes"
        )
    # A cut-off code can still inflate to the whole JSON when only the
    # trailing Adler-32 checksum is missing; only a complete stream passes.
    if not inflater.eof or inflater.unused_data:
        raise PayloadError("the KCB1 payload is cut short or has extra data")
    try:
        bundle = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"the KCB1 payload is not JSON: {error}") from None
    if not isinstance(bundle, dict):
        raise PayloadError("the KCB1 payload is not a JSON object")
    return bundle


def entry_from_url(text: str) -> int | None:
    """Return the entry number of a `.../verify/?entry=N` URL, else None."""
    match = _ENTRY_URL.match(text.strip())
    return int(match.group(1)) if match else None
