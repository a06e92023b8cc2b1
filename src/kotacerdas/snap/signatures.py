"""SNAP signatures: minified-body digests, HMAC-SHA512 and SHA256withRSA.

Bank Indonesia's SNAP security standard defines three strings to sign:

- access token: `clientId + "|" + X-TIMESTAMP`, signed SHA256withRSA with the
  bank's private key;
- symmetric (with a token): `METHOD:EndpointUrl:AccessToken:BodyDigest:X-TIMESTAMP`,
  signed HMAC-SHA512 with the client secret;
- asymmetric (without a token): `METHOD:EndpointUrl:BodyDigest:X-TIMESTAMP`,
  signed SHA256withRSA with the bank's private key.

BodyDigest is lowercase hex SHA-256 of the minified request body, and the
empty string stands for a missing body. EndpointUrl is the path and query
without the host. Banks disagree on how the signature itself is written, so
the encoding (Base64 or hex) is chosen per partner.
"""

import base64
import binascii
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

BASE64 = "base64"
HEX = "hex"
ENCODINGS = (BASE64, HEX)
MIN_RSA_KEY_BITS = 2048

# A JSON string (kept whole, escapes included) or a run of JSON whitespace
# (dropped). Working on bytes is exact for UTF-8, because the bytes of a
# multi-byte character never equal a quote, a backslash or ASCII whitespace.
_STRING_OR_WHITESPACE = re.compile(rb'("(?:[^"\\]|\\.)*")|[ \t\n\r]+', re.DOTALL)


class UnusableKey(ValueError):
    """A PEM key cannot be read or is not an RSA key of the required size."""


def minify_json(body: bytes) -> bytes:
    """Remove the whitespace between JSON tokens and change nothing else.

    Key order, nulls, number spelling and escapes inside strings stay as
    received, so the digest covers what the bank sent, not a re-serialization.
    """
    return _STRING_OR_WHITESPACE.sub(lambda match: match.group(1) or b"", body)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(minify_json(body)).hexdigest()


def token_string_to_sign(client_key: str, timestamp: str) -> bytes:
    return f"{client_key}|{timestamp}".encode()


def symmetric_string_to_sign(
    method: str, endpoint_url: str, access_token: str, body: bytes, timestamp: str
) -> bytes:
    digest = body_digest(body)
    return f"{method}:{endpoint_url}:{access_token}:{digest}:{timestamp}".encode()


def asymmetric_string_to_sign(
    method: str, endpoint_url: str, body: bytes, timestamp: str
) -> bytes:
    return f"{method}:{endpoint_url}:{body_digest(body)}:{timestamp}".encode()


def encode_signature(signature: bytes, encoding: str) -> str:
    if encoding == HEX:
        return signature.hex()
    return base64.b64encode(signature).decode()


def decode_signature(text: str, encoding: str) -> bytes | None:
    """Return the raw signature bytes, or None when `text` is not valid."""
    try:
        if encoding == HEX:
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None


def hmac_sha512(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha512).digest()


def verify_hmac_sha512(
    secret: str, message: bytes, signature: str, encoding: str
) -> bool:
    received = decode_signature(signature, encoding)
    if received is None:
        return False
    return hmac.compare_digest(received, hmac_sha512(secret, message))


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Read an RSA public key (SubjectPublicKeyInfo or PKCS#1 PEM)."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as error:
        raise UnusableKey(
            "the public key is not a readable PEM key; paste the whole "
            "-----BEGIN PUBLIC KEY----- block"
        ) from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnusableKey("the public key is not an RSA key; SNAP signs with RSA")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise UnusableKey(
            f"the RSA key has {key.key_size} bits; use {MIN_RSA_KEY_BITS} or more"
        )
    return key


def sign_rsa_sha256(private_key: rsa.RSAPrivateKey, message: bytes) -> bytes:
    return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def verify_rsa_sha256(
    public_key: rsa.RSAPublicKey, message: bytes, signature: str, encoding: str
) -> bool:
    received = decode_signature(signature, encoding)
    if received is None:
        return False
    try:
        public_key.verify(received, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_KEY_BITS)


def public_key_pem(private_key: rsa.RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
