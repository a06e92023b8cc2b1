"""Plate API: check a scanned QR text, and fetch the keys to check plates offline.

Both endpoints are open to anyone, because a plate's verdict and status carry
no personal data. The building id is returned only to a caller whose role may
see that building, identified by an API token (`Authorization: Bearer kc_...`)
or by the session of the city's pages. A token that is sent but not valid gets
401, so an integration does not mistake it for a plain anonymous call.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError, HttpError

from kotacerdas.accounts.api_auth import user_for_token
from kotacerdas.config.ratelimit import RateLimited, hit
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.registry.plates import DOMAIN, Verdict, public_keys_json
from kotacerdas.registry.scan import (
    MAX_TEXT_CHARS,
    Outcome,
    look_up,
    scan_limit,
    scope_for,
    throttled_message,
)

router = Router()


class VerifyIn(Schema):
    text: str = Field(
        max_length=MAX_TEXT_CHARS,
        description="The text of a plate's QR code (a URL) or a typed plate code.",
    )


class VerifyOut(Schema):
    verdict: Verdict = Field(
        description="genuine: signed by a city key; forged: a plate URL whose "
        "signature does not verify; unsigned: a typed code; malformed: neither."
    )
    plate_code: str | None = Field(description="The plate code in display form.")
    status: str | None = Field(
        description="issued, installed or revoked; unknown when no plate has this "
        "code; null for forged and malformed texts."
    )
    building_id: int | None = Field(
        description="Only when the caller is signed in and may see the building."
    )


class KeysOut(Schema):
    domain: str = Field(description="The first line of every signed message.")
    message_format: str = Field(
        description="The UTF-8 text an Ed25519 signature covers, with the key id "
        "and the plate code (display form) filled in."
    )
    keys: dict[str, str] = Field(
        description="Raw Ed25519 public keys in base64url, by key id (the `k` "
        "parameter of a plate URL)."
    )


def _caller(request: HttpRequest) -> Any:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        return request.user
    user = user_for_token(token) if scheme.lower() == "bearer" else None
    if user is None:
        raise AuthenticationError
    # The scan limit counts per user; without this a token caller would be
    # counted by address, and crews behind one carrier address share a limit.
    request.user = user
    return user


@router.post("/verify", response=VerifyOut, auth=None, summary="Check a scanned plate")
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, object]:
    caller = _caller(request)
    try:
        hit(scan_limit(), request)
    except RateLimited as limited:
        raise HttpError(429, throttled_message(limited.retry_after_s)) from None
    lookup = look_up(body.text)
    outcome, plate = lookup.outcome, lookup.plate
    if plate is not None:
        require_at(Service.REGISTRY, plate.building)
    status: str | None = None
    if outcome in (Outcome.FOUND, Outcome.REVOKED) and plate is not None:
        status = plate.status
    elif outcome == Outcome.UNKNOWN:
        status = "unknown"
    building_id = None
    if plate is not None and scope_for(caller, plate.building) is not None:
        building_id = plate.building_id
    return {
        "verdict": lookup.read.verdict,
        "plate_code": lookup.read.code,
        "status": status,
        "building_id": building_id,
    }


@router.get(
    "/keys", response=KeysOut, auth=None, summary="Public keys that sign plates"
)
def keys(request: HttpRequest) -> dict[str, object]:
    return {
        "domain": DOMAIN,
        "message_format": f"{DOMAIN}\n{{key_id}}\n{{plate_code}}\n",
        "keys": public_keys_json(),
    }
