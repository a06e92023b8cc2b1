"""The pickups API: record a pickup from the phone, read today's route.

Pages call it with the signed-in session and the CSRF token; integrations
send an API token. A pickup is sent as multipart/form-data so the optional
photo travels in the same request.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.config.ratelimit import Limit, RateLimited, hit
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.waste.models import Pickup
from kotacerdas.waste.pickups import (
    PickupConflict,
    PickupInput,
    PickupInvalid,
    record_pickup,
    resolve_plate,
    scanned_at_text,
)
from kotacerdas.waste.pickups_route import route_data

router = Router(auth=API_AUTH)

RECORD = "waste.record_pickup"
ERRORS = frozenset({401, 403, 409, 422, 429})
Reply = Status[Any]


class PickupIn(Schema):
    client_id: str
    plate: str
    outcome: str
    scanned_at: str
    category: str = "mixed"
    lat: str | None = None
    lng: str | None = None
    accuracy_m: str | None = None
    weight_kg: str | None = None
    volume_l: str | None = None
    reason: str = ""


class PickupOut(Schema):
    id: int
    client_id: str
    building_id: int | None
    container_id: int | None
    plan_id: int | None
    stop_id: int | None
    scanned_at: str
    outcome: str
    category: str
    weight_g: int | None
    volume_l: int | None
    distance_m: int | None
    duplicate_of: int | None
    flags: list[str]
    review: str
    has_photo: bool


class StopOut(Schema):
    id: int
    sequence: int
    trip: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    label: str
    plate_code: str
    lat: str
    lng: str
    arrival: str | None


class PlanOut(Schema):
    id: int
    date: str
    vehicle: str
    shift_start: str
    shift_end: str
    status: str
    revision: int
    stops: list[StopOut]
    unload_sites: list[str]
    visits: int
    visited: int


class RouteOut(Schema):
    date: str
    plans: list[PlanOut]
    message: str


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None


class ErrorOut(Schema):
    error: ErrorDetail
    errors: list[ErrorDetail] | None = None


def _error(status: int, code: str, message: str, field: str | None = None) -> Reply:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    return Status(status, error_body(code, message, field))


def _forbidden() -> Reply:
    return _error(
        403,
        "forbidden",
        _("Your role does not allow this (it needs the %(permission)s permission).")
        % {"permission": RECORD},
    )


def pickup_out(pickup: Pickup) -> dict[str, Any]:
    return {
        "id": pickup.pk,
        "client_id": pickup.client_id,
        "building_id": pickup.building_id,
        "container_id": pickup.container_id,
        "plan_id": pickup.plan_id,
        "stop_id": pickup.stop_id,
        "scanned_at": scanned_at_text(pickup.scanned_at),
        "outcome": pickup.outcome,
        "category": pickup.category,
        "weight_g": pickup.weight_g,
        "volume_l": pickup.volume_l,
        "distance_m": pickup.distance_m,
        "duplicate_of": pickup.duplicate_of_id,
        "flags": [flag for flag in pickup.flags.split(",") if flag],
        "review": pickup.review,
        "has_photo": bool(pickup.photo),
    }


@router.post(
    "",
    response={200: PickupOut, 201: PickupOut, ERRORS: ErrorOut},
    summary="Record a pickup; re-sending the same client id returns the stored one",
    url_name="waste_pickup_create",
)
def create_pickup(
    request: HttpRequest,
    body: Form[PickupIn],
    photo: UploadedFile | None = File(None),  # noqa: B008  (Ninja's marker)
) -> Reply:
    if not request.user.has_perm(RECORD):
        return _forbidden()
    _count_pickup(request)
    raw = PickupInput(**body.dict())
    _require_pickups_at(raw.plate)
    try:
        result = record_pickup(raw, request.user, photo=photo)
    except PickupInvalid as invalid:
        details = [
            {"code": "invalid", "message": e.message, "field": e.field}
            for e in invalid.errors
        ]
        return Status(422, {"error": details[0], "errors": details})
    except PickupConflict as conflict:
        return _error(409, "id_conflict", conflict.message, conflict.field)
    return Status(201 if result.created else 200, pickup_out(result.pickup))


def _count_pickup(request: HttpRequest) -> None:
    """Raise HttpError 429 (code `throttled`) past the collector's pickup limit."""
    limit = Limit("pickup", settings.KOTACERDAS_PICKUP_LIMIT_PER_MIN)
    try:
        hit(limit, request)
    except RateLimited as limited:
        raise HttpError(
            429,
            _(
                "Too many pickups in a short time. Wait %(seconds)s seconds, "
                "then send again; pickups already sent are kept."
            )
            % {"seconds": limited.retry_after_s},
        ) from None


def _require_pickups_at(plate: str) -> None:
    """Raise ServiceOff when the plate's building or container is outside the pilot."""
    try:
        target, _typed = resolve_plate(plate)
    except PickupInvalid:
        # record_pickup names the bad plate in its field errors.
        return
    require_at(Service.PICKUPS, target)


@router.get(
    "/route/today",
    response={200: RouteOut, ERRORS: ErrorOut},
    summary="The signed-in collector's route plans of today, stops in order",
    url_name="waste_route_today",
)
def route_today(request: HttpRequest) -> Reply:
    if not request.user.has_perm(RECORD):
        return _forbidden()
    return Status(200, route_data(request.user))
