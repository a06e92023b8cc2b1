"""Partner banks and the access tokens issued to them.

An operator configures partners with `kotacerdas snap partner add`. The
client secret is generated here, shown once and then kept only sealed.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kotacerdas.snap import signatures
from kotacerdas.snap.authentication import (
    hash_token,
    open_client_secret,
    seal_client_secret,
)
from kotacerdas.snap.models import (
    SignatureEncoding,
    SignatureMode,
    SnapAccessToken,
    SnapPartner,
)

logger = logging.getLogger(__name__)

# SNAP fixes the B2B access token's lifetime at 900 seconds (15 minutes).
TOKEN_LIFETIME_S = 900
PARTNER_ID_MAX = 36
CHANNEL_ID_MAX = 5


class PartnerInvalid(ValueError):
    """A partner setting is missing or malformed, named in the message."""


@dataclass(frozen=True)
class PartnerSettings:
    partner_id: str
    name: str
    service_id: str
    channel_id: str
    signature_mode: str
    public_key_pem: str
    client_key: str = ""
    signature_encoding: str = SignatureEncoding.BASE64
    timestamp_skew_s: int = 300


@dataclass(frozen=True)
class NewPartner:
    """A partner just created, and its client secret to hand over once."""

    partner: SnapPartner
    client_secret: str | None


def pad_service_id(service_id: str) -> str:
    """Return the 8-character partnerServiceId: the digits, left-padded with spaces."""
    digits = service_id.strip()
    if not digits.isascii() or not digits.isdigit() or not 1 <= len(digits) <= 8:
        raise PartnerInvalid(
            f"partner service ID {service_id!r} is invalid; use 1 to 8 digits, "
            "such as the company code the bank assigned"
        )
    return digits.rjust(8)


def _check(settings: PartnerSettings) -> None:
    if not settings.partner_id or len(settings.partner_id) > PARTNER_ID_MAX:
        raise PartnerInvalid(f"partner ID must be 1 to {PARTNER_ID_MAX} characters")
    if not settings.channel_id or len(settings.channel_id) > CHANNEL_ID_MAX:
        raise PartnerInvalid(f"channel ID must be 1 to {CHANNEL_ID_MAX} characters")
    if settings.signature_mode not in SignatureMode.values:
        raise PartnerInvalid(
            f"signature mode {settings.signature_mode!r} is invalid; "
            f"use one of {', '.join(SignatureMode.values)}"
        )
    if settings.signature_encoding not in SignatureEncoding.values:
        raise PartnerInvalid(
            f"signature encoding {settings.signature_encoding!r} is invalid; "
            f"use one of {', '.join(SignatureEncoding.values)}"
        )
    if not 1 <= settings.timestamp_skew_s <= 3600:
        raise PartnerInvalid("allowed clock difference must be 1 to 3600 seconds")
    try:
        signatures.load_public_key(settings.public_key_pem)
    except signatures.UnusableKey as error:
        raise PartnerInvalid(str(error)) from None


def add_partner(settings: PartnerSettings) -> NewPartner:
    """Register a partner bank and, in HMAC mode, generate its client secret.

    Raises PartnerInvalid for a bad setting or an ID already in use.
    """
    _check(settings)
    service_id = pad_service_id(settings.service_id)
    client_key = settings.client_key or settings.partner_id
    if SnapPartner.objects.filter(partner_id=settings.partner_id).exists():
        raise PartnerInvalid(f"partner ID {settings.partner_id!r} is already in use")
    if SnapPartner.objects.filter(partner_service_id=service_id).exists():
        raise PartnerInvalid(
            f"partner service ID {service_id.strip()} is already in use"
        )
    if SnapPartner.objects.filter(client_key=client_key).exists():
        raise PartnerInvalid(f"client ID {client_key!r} is already in use")

    secret = None
    if settings.signature_mode == SignatureMode.HMAC_SHA512:
        secret = secrets.token_urlsafe(32)
    partner = SnapPartner.objects.create(
        partner_id=settings.partner_id,
        client_key=client_key,
        name=settings.name or settings.partner_id,
        partner_service_id=service_id,
        channel_id=settings.channel_id,
        signature_mode=settings.signature_mode,
        signature_encoding=settings.signature_encoding,
        client_secret_sealed=seal_client_secret(secret) if secret else None,
        public_key_pem=settings.public_key_pem.strip() + "\n",
        timestamp_skew_s=settings.timestamp_skew_s,
    )
    logger.info("SNAP partner %s added", partner.partner_id)
    return NewPartner(partner, secret)


def issue_access_token(partner: SnapPartner) -> str:
    """Create a bearer token for `partner`, valid for TOKEN_LIFETIME_S.

    Only the token's SHA-256 is stored. The partner's expired tokens are
    deleted on the way, which keeps the table at a few rows per bank.
    """
    token = secrets.token_urlsafe(48)
    now = timezone.now()
    with transaction.atomic():
        SnapAccessToken.objects.filter(partner=partner, expires_at__lte=now).delete()
        SnapAccessToken.objects.create(
            partner=partner,
            token_hash=hash_token(token),
            issued_at=now,
            expires_at=now + timedelta(seconds=TOKEN_LIFETIME_S),
        )
    return token


def client_secret(partner: SnapPartner) -> str | None:
    if partner.client_secret_sealed is None:
        return None
    return open_client_secret(partner)


def change_partner(
    partner: SnapPartner,
    *,
    signature_mode: str,
    signature_encoding: str,
    public_key_pem: str,
) -> str | None:
    """Change how a partner signs, and return its client secret (made if needed).

    Switching to HMAC mode generates a secret when the partner has none.
    """
    settings = PartnerSettings(
        partner_id=partner.partner_id,
        name=partner.name,
        service_id=partner.partner_service_id,
        channel_id=partner.channel_id,
        signature_mode=signature_mode,
        public_key_pem=public_key_pem,
        signature_encoding=signature_encoding,
        timestamp_skew_s=partner.timestamp_skew_s,
    )
    _check(settings)
    secret = client_secret(partner)
    if signature_mode == SignatureMode.HMAC_SHA512 and secret is None:
        secret = secrets.token_urlsafe(32)
        partner.client_secret_sealed = seal_client_secret(secret)
    partner.signature_mode = signature_mode
    partner.signature_encoding = signature_encoding
    partner.public_key_pem = public_key_pem.strip() + "\n"
    partner.active = True
    partner.save()
    logger.info("SNAP partner %s changed", partner.partner_id)
    return secret
