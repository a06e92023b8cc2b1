"""Properties of plate codes and of reading scanned plate texts (Hypothesis)."""

import base64
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls
from stdnum.iso7064 import mod_37_36

from kotacerdas.registry.codes import (
    ALPHABET,
    BODY_LENGTH,
    InvalidCode,
    format_plate_code,
    normalize_plate_code,
)
from kotacerdas.registry.plates import (
    Verdict,
    plate_url,
    read_plate_text,
    sign_plate,
    trusted_keys,
)

LETTERS = "".join(ch for ch in ALPHABET if ch.isalpha())
READ_AS_VARIANTS = {"0": "0oO", "1": "1iIlL"}

prefixes = st.text(alphabet=ALPHABET, min_size=2, max_size=5)
kinds = st.sampled_from(LETTERS)
bodies = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)


@st.composite
def plate_codes(draw: st.DrawFn) -> str:
    compact = draw(prefixes) + draw(kinds) + draw(bodies)
    return format_plate_code(
        compact + mod_37_36.calc_check_digit(compact, alphabet=ALPHABET)
    )


@st.composite
def typed_variants(draw: st.DrawFn, code: str) -> str:
    """The code as a person might type it: any case, 0/1 as O/I/L, stray separators."""
    typed = []
    for ch in code.replace("-", ""):
        ch = draw(st.sampled_from(READ_AS_VARIANTS.get(ch, ch)))
        typed.append(ch.lower() if draw(st.booleans()) else ch)
        typed.append(draw(st.sampled_from(["", "", " ", "-", "."])))
    padding = st.sampled_from(["", " ", "\t", "\n"])
    return draw(padding) + "".join(typed) + draw(padding)


@given(st.data())
def test_typed_variants_normalise_to_the_code(data: st.DataObject) -> None:
    code = data.draw(plate_codes())
    typed = data.draw(typed_variants(code))

    assert normalize_plate_code(typed) == code


@given(plate_codes())
def test_display_form_normalises_to_itself(code: str) -> None:
    assert normalize_plate_code(code) == code
    assert normalize_plate_code(code.lower()) == code


@given(plate_codes(), st.data())
def test_single_substitution_is_detected(code: str, data: st.DataObject) -> None:
    compact = code.replace("-", "")
    position = data.draw(st.integers(min_value=0, max_value=len(compact) - 1))
    replacement = data.draw(
        st.sampled_from([ch for ch in ALPHABET if ch != compact[position]])
    )
    changed = compact[:position] + replacement + compact[position + 1 :]

    with pytest.raises(InvalidCode) as caught:
        normalize_plate_code(changed)

    assert caught.value.field == "plate_code"
    assert caught.value.message


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_reads_without_crashing(text: str) -> None:
    read = read_plate_text(text)

    assert read.verdict in set(Verdict)
    assert read.verdict != Verdict.GENUINE
    if read.code is not None:
        assert normalize_plate_code(read.code) == read.code


@given(urls())
def test_arbitrary_urls_are_never_genuine(url: str) -> None:
    read = read_plate_text(url)

    assert read.verdict in {Verdict.MALFORMED, Verdict.FORGED}


hosts = st.sampled_from(
    ["http://127.0.0.1:8000", "https://kotacerdas.padangpanjang.go.id", "https://x.id"]
)


@given(plate_codes(), hosts, st.booleans())
def test_signed_url_is_genuine_on_any_host(
    code: str, host: str, extra_query: bool
) -> None:
    signed = sign_plate(code)
    url = f"{host}/p/{code}?k={signed.key_id}&s={signed.signature}"
    if extra_query:
        url += "&utm_source=poster"

    read = read_plate_text(url)

    assert read.verdict == Verdict.GENUINE
    assert read.code == code


@given(plate_codes(), st.integers(min_value=0, max_value=63), st.integers(0, 7))
def test_flipped_signature_bit_is_forged(code: str, byte: int, bit: int) -> None:
    signed = sign_plate(code)
    raw = bytearray(base64.urlsafe_b64decode(signed.signature + "=="))
    raw[byte] ^= 1 << bit
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()

    read = read_plate_text(plate_url(code, signed.key_id, forged))

    assert read.verdict == Verdict.FORGED
    assert read.code == code
    assert read.reason == "bad signature"


@given(plate_codes(), st.text(alphabet=string.hexdigits.lower(), min_size=1))
def test_unknown_key_id_is_forged(code: str, key_id: str) -> None:
    assume(key_id not in trusted_keys())
    signed = sign_plate(code)

    read = read_plate_text(plate_url(code, key_id, signed.signature))

    assert read.verdict == Verdict.FORGED
    assert read.reason == "unknown key"


@given(plate_codes(), plate_codes())
def test_signature_of_another_code_is_forged(code: str, other: str) -> None:
    assume(code != other)
    signed = sign_plate(other)

    read = read_plate_text(plate_url(code, signed.key_id, signed.signature))

    assert read.verdict == Verdict.FORGED
