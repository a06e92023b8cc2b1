"""Checks on a SNAP request's headers, done before its body is looked at.

Transaction requests carry Content-Type, X-TIMESTAMP, X-SIGNATURE,
X-PARTNER-ID, X-EXTERNAL-ID and CHANNEL-ID, plus `Authorization: Bearer` when
the partner signs with HMAC. Access-token requests carry X-CLIENT-KEY instead
of the partner and external ids. Every check here only reads. The view claims
the X-EXTERNAL-ID only after these checks pass, so an unsigned request cannot
use up a bank's ids.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone

from kotacerdas.registry import pii
from kotacerdas.snap import codes, signatures
from kotacerdas.snap.models import SignatureMode, SnapAccessToken, SnapPartner

# yyyy-MM-ddTHH:mm:ssTZD (TZD is Z or +hh:mm). Some banks add milliseconds,
# which the standard does not forbid, so a fraction is accepted too.
TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
)
EXTERNAL_ID = re.compile(r"^[0-9]{1,36}$")
# Associated data of the sealed secret: names the column, not a secret.
CLIENT_SECRET_CONTEXT = "snap_partner.client_secret"  # noqa: S105


@dataclass(frozen=True)
class Caller:
    """A partner whose request passed every header and signature check."""

    partner: SnapPartner
    external_id: str
    timestamp: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_client_secret(partner: SnapPartner) -> str:
    assert partner.client_secret_sealed is not None
    return pii.open_sealed(partner.client_secret_sealed, CLIENT_SECRET_CONTEXT)


def seal_client_secret(secret: str) -> bytes:
    return pii.seal(secret, CLIENT_SECRET_CONTEXT)


def _header(request: HttpRequest, name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise codes.missing_field(name)
    return value


def _check_content_type(request: HttpRequest) -> None:
    media_type = _header(request, "Content-Type").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise codes.invalid_format("Content-Type")


def _parse_timestamp(request: HttpRequest) -> tuple[str, datetime]:
    text = _header(request, "X-TIMESTAMP")
    if not TIMESTAMP.match(text):
        raise codes.invalid_format("X-TIMESTAMP")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise codes.invalid_format("X-TIMESTAMP") from None
    return text, moment


def _check_skew(partner: SnapPartner, moment: datetime) -> None:
    skew = abs(timezone.now() - moment)
    if skew > timedelta(seconds=partner.timestamp_skew_s):
        raise codes.unauthorized("X-TIMESTAMP is too far from the server clock")


def _bearer_token(request: HttpRequest, partner: SnapPartner) -> str:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise codes.invalid_token()
    valid = SnapAccessToken.objects.filter(
        partner=partner, token_hash=hash_token(token), expires_at__gt=timezone.now()
    ).exists()
    if not valid:
        raise codes.invalid_token()
    return token


def authenticate_transaction(request: HttpRequest) -> Caller:
    """Check a transaction request's headers and signature.

    Raises SnapError on the first failed check, in the order the codes are
    listed: format and presence (400), partner, clock, token and signature
    (401).
    """
    _check_content_type(request)
    timestamp, moment = _parse_timestamp(request)
    signature = _header(request, "X-SIGNATURE")
    partner_id = _header(request, "X-PARTNER-ID")
    external_id = _header(request, "X-EXTERNAL-ID")
    channel_id = _header(request, "CHANNEL-ID")
    if not EXTERNAL_ID.match(external_id):
        raise codes.invalid_format("X-EXTERNAL-ID")

    partner = SnapPartner.objects.filter(partner_id=partner_id, active=True).first()
    if partner is None:
        raise codes.unauthorized("Unknown Client")
    if channel_id != partner.channel_id:
        raise codes.unauthorized("Unknown Channel")
    _check_skew(partner, moment)

    endpoint_url = request.get_full_path()
    if partner.signature_mode == SignatureMode.HMAC_SHA512:
        token = _bearer_token(request, partner)
        message = signatures.symmetric_string_to_sign(
            request.method or "POST", endpoint_url, token, request.body, timestamp
        )
        good = signatures.verify_hmac_sha512(
            open_client_secret(partner), message, signature, partner.signature_encoding
        )
    else:
        message = signatures.asymmetric_string_to_sign(
            request.method or "POST", endpoint_url, request.body, timestamp
        )
        good = signatures.verify_rsa_sha256(
            signatures.load_public_key(partner.public_key_pem),
            message,
            signature,
            partner.signature_encoding,
        )
    if not good:
        raise codes.unauthorized("Invalid Signature")
    return Caller(partner, external_id, moment)


def authenticate_token_request(request: HttpRequest) -> SnapPartner:
    """Check an access-token request: client key, clock and RSA signature."""
    _check_content_type(request)
    timestamp, moment = _parse_timestamp(request)
    client_key = _header(request, "X-CLIENT-KEY")
    signature = _header(request, "X-SIGNATURE")

    partner = SnapPartner.objects.filter(client_key=client_key, active=True).first()
    if partner is None:
        raise codes.unauthorized("Unknown Client")
    _check_skew(partner, moment)

    good = signatures.verify_rsa_sha256(
        signatures.load_public_key(partner.public_key_pem),
        signatures.token_string_to_sign(client_key, timestamp),
        signature,
        partner.signature_encoding,
    )
    if not good:
        raise codes.unauthorized("Invalid Signature")
    return partner
