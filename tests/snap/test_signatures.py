"""SNAP signatures: the published test vector, minifying and RSA round trips."""

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.snap import signatures

VECTOR_SECRET = "test-client-secret"
VECTOR_TOKEN = "TESTTOKEN123"
VECTOR_TIMESTAMP = "2025-01-01T10:00:01+07:00"
VECTOR_BODY = (
    b'{"partnerServiceId":"   12345","customerNo":"137402100100000001",'
    b'"virtualAccountNo":"   12345137402100100000001",'
    b'"virtualAccountName":"Warga Contoh","paymentRequestId":"PRQ-20250101-0001",'
    b'"paidAmount":{"value":"50000.00","currency":"IDR"},'
    b'"trxDateTime":"2025-01-01T10:00:00+07:00"}'
)
VECTOR_DIGEST = "243c9a7944f6efd7804d2dd0bc3b234178751e37748d97aa6b5a955cb0691c42"
VECTOR_SIGNATURE = (
    "Xs2ca719fKKrdBrDgZIHDhaK7w6XMKUqSdtMHnwZk9ywcHeHNh14q0DzulUBD5tKPxJ/"
    "x7SiW/9q/WKTlZllQQ=="
)


def vector_message(body: bytes = VECTOR_BODY) -> bytes:
    return signatures.symmetric_string_to_sign(
        "POST", "/v1.0/transfer-va/payment", VECTOR_TOKEN, body, VECTOR_TIMESTAMP
    )


def test_vector_body_digest():
    assert signatures.body_digest(VECTOR_BODY) == VECTOR_DIGEST


def test_vector_hmac_base64():
    signature = signatures.hmac_sha512(VECTOR_SECRET, vector_message())

    assert signatures.encode_signature(signature, "base64") == VECTOR_SIGNATURE


def test_vector_verifies_in_both_encodings():
    as_hex = base64.b64decode(VECTOR_SIGNATURE).hex()

    assert signatures.verify_hmac_sha512(
        VECTOR_SECRET, vector_message(), VECTOR_SIGNATURE, "base64"
    )
    assert signatures.verify_hmac_sha512(VECTOR_SECRET, vector_message(), as_hex, "hex")
    assert signatures.verify_hmac_sha512(
        VECTOR_SECRET, vector_message(), as_hex.upper(), "hex"
    )


def test_vector_survives_pretty_printing():
    pretty = json.dumps(json.loads(VECTOR_BODY), indent=4).encode()

    assert signatures.verify_hmac_sha512(
        VECTOR_SECRET, vector_message(pretty), VECTOR_SIGNATURE, "base64"
    )


def test_changed_body_fails_vector():
    tampered = VECTOR_BODY.replace(b"50000.00", b"90000.00")

    assert not signatures.verify_hmac_sha512(
        VECTOR_SECRET, vector_message(tampered), VECTOR_SIGNATURE, "base64"
    )


def test_empty_body_digest_is_empty_string_hash():
    assert signatures.body_digest(b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_minify_keeps_order_nulls_and_strings():
    body = b'{ "b" : null,\n\t"a" : [ 1 , 2.50 ],\r\n "s" : " x  y\\" z " }'

    assert signatures.minify_json(body) == b'{"b":null,"a":[1,2.50],"s":" x  y\\" z "}'


def test_minify_keeps_escaped_backslash_before_quote():
    body = b'{"path" : "C:\\\\" , "next" : "a b"}'

    assert signatures.minify_json(body) == b'{"path":"C:\\\\","next":"a b"}'


def test_minify_keeps_utf8_strings():
    body = '{ "nama" : "Pasar  Usang é 最佳" }'.encode()

    assert signatures.minify_json(body) == '{"nama":"Pasar  Usang é 最佳"}'.encode()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(value=json_values, indent=st.integers(0, 8), ascii_only=st.booleans())
def test_minify_equals_compact_dump(value, indent, ascii_only):
    pretty = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only)

    assert signatures.minify_json(pretty.encode()) == compact.encode()


@given(st.binary(max_size=200))
def test_minify_never_fails(data):
    minified = signatures.minify_json(data)

    assert len(minified) <= len(data)


def test_rsa_signature_round_trip(bank_key, other_key):
    message = signatures.token_string_to_sign("BANKNAGARI", VECTOR_TIMESTAMP)
    signature = signatures.sign_rsa_sha256(bank_key, message)
    public = signatures.load_public_key(signatures.public_key_pem(bank_key))
    other = signatures.load_public_key(signatures.public_key_pem(other_key))

    for encoding in ("base64", "hex"):
        text = signatures.encode_signature(signature, encoding)
        assert signatures.verify_rsa_sha256(public, message, text, encoding)
        assert not signatures.verify_rsa_sha256(other, message, text, encoding)
        assert not signatures.verify_rsa_sha256(public, message + b"x", text, encoding)


def test_undecodable_signature_fails():
    assert signatures.decode_signature("not base64!", "base64") is None
    assert signatures.decode_signature("zz", "hex") is None
    assert not signatures.verify_hmac_sha512("s", b"m", "%%%", "base64")


def test_public_key_must_be_rsa_pem():
    for pem, words in (
        ("nonsense", "not a readable PEM key"),
        (
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
            "-----END PUBLIC KEY-----\n",
            "not an RSA key",
        ),
    ):
        try:
            signatures.load_public_key(pem)
        except signatures.UnusableKey as error:
            assert words in str(error)
        else:
            raise AssertionError(f"{pem!r} was accepted")
