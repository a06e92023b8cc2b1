"""Scanning a plate: what a QR text, a photo or a typed code resolves to.

The scan page reads a plate three ways (camera in the browser, a photo
decoded here with zxing-cpp, a typed code) and shows what the user's role may
see. Registry staff see households and members (NIK masked unless they hold
`registry.view_identity_numbers`); collectors and other staff see the
address and service status; a citizen sees their own building only. The
public landing page, which a phone's own camera app opens from the QR URL,
shows whether the plate is genuine and nothing personal.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kotacerdas import qr_photo
from kotacerdas.config.ratelimit import Limit, RateLimited, hit
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.qr_photo import PhotoInvalid
from kotacerdas.registry import services
from kotacerdas.registry.identity_access import record_identity_view
from kotacerdas.registry.models import Building, Household, Member, Plate
from kotacerdas.registry.plates import (
    REVOKED_KEY,
    ReadPlate,
    Verdict,
    offline_check_data,
    read_plate_text,
)

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
# The photo limits the scan page states; the verify page imports them too.
MAX_PHOTO_BYTES = qr_photo.MAX_PHOTO_BYTES
MAX_PHOTO_PIXELS = qr_photo.MAX_PHOTO_PIXELS
# Collectors and citizens both hold only `registry.scan_plate`, so the role
# is what tells a field crew (who sees any building's service status) from a
# resident (who sees only their own building).
FIELD_ROLES = ("collector",)


class Scope(StrEnum):
    """How much of a scanned building a user may see."""

    HOUSEHOLDS = "households"  # registry staff: households and members too
    SERVICE = "service"  # field crews and staff: address and service status
    OWN = "own"  # a citizen scanning the building they live in


def has_scan_rights(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and (
            user.has_perm("registry.scan_plate")
            or user.has_perm("registry.view_building")
        )
    )


def _in_field_role(user: Any) -> bool:
    return bool(user.groups.filter(name__in=FIELD_ROLES).exists())


def own_building_id(user: Any) -> int | None:
    """Return the building the user's active household lives in, if any."""
    if not user.is_authenticated:
        return None
    return (
        Member.objects.filter(
            user=user,
            status=Member.Status.ACTIVE,
            household__status=Household.Status.ACTIVE,
        )
        .values_list("household__building_id", flat=True)
        .first()
    )


def scope_for(user: Any, building: Building) -> Scope | None:
    """Return what the user may see of this building, or None for nothing.

    Kelurahan staff (a user with a kelurahan) see households only in their
    own kelurahan, and the service view elsewhere.
    """
    if not user.is_authenticated:
        return None
    in_area = user.kelurahan_id is None or user.kelurahan_id == building.kelurahan_id
    if user.has_perm("registry.view_household") and in_area:
        return Scope.HOUSEHOLDS
    if user.has_perm("registry.view_building") or _in_field_role(user):
        return Scope.SERVICE
    if user.has_perm("registry.scan_plate") and own_building_id(user) == building.pk:
        return Scope.OWN
    return None


def may_install(user: Any) -> bool:
    """Registry staff and collectors record plates as installed; citizens do not."""
    return bool(user.has_perm("registry.change_plate") or _in_field_role(user))


class Outcome(StrEnum):
    FOUND = "found"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    # Signed by a plate key the city revoked: the plate must be re-printed.
    REPRINT = "reprint"
    FORGED = "forged"
    MALFORMED = "malformed"
    NOT_YOURS = "not_yours"


@dataclass(frozen=True)
class Lookup:
    """A read plate text and the plate row its code names, if any."""

    read: ReadPlate
    plate: Plate | None

    @property
    def outcome(self) -> Outcome:
        if self.read.verdict == Verdict.MALFORMED:
            return Outcome.MALFORMED
        if self.read.verdict == Verdict.FORGED and self.read.reason == REVOKED_KEY:
            # A code that no plate has was never printed by the city.
            if self.plate is None:
                return Outcome.FORGED
            if self.plate.status == Plate.Status.REVOKED:
                return Outcome.REVOKED
            return Outcome.REPRINT
        if self.read.verdict == Verdict.FORGED:
            return Outcome.FORGED
        if self.plate is None:
            return Outcome.UNKNOWN
        if self.plate.status == Plate.Status.REVOKED:
            return Outcome.REVOKED
        return Outcome.FOUND


def look_up(text: str) -> Lookup:
    """Check a QR text or typed code and find its plate; no permission checks."""
    if len(text) > MAX_TEXT_CHARS:
        return Lookup(ReadPlate(Verdict.MALFORMED, None, "too long"), None)
    read = read_plate_text(text)
    plate = None
    signed_by_revoked_key = read.reason == REVOKED_KEY
    if read.code is not None and (
        read.verdict != Verdict.FORGED or signed_by_revoked_key
    ):
        plate = (
            Plate.objects.filter(code=read.code)
            .select_related("building__kelurahan__city", "building__unit")
            .first()
        )
    return Lookup(read, plate)


@dataclass(frozen=True)
class MemberView:
    name: str
    nik: str
    relation: str
    edit_url: str | None


@dataclass(frozen=True)
class HouseholdView:
    kk_number: str
    members: list[MemberView]


@dataclass
class ScanResult:
    """The result of one scan, already cut down to what the user's scope allows."""

    text: str
    outcome: Outcome
    verdict: Verdict
    code: str | None
    message: str
    plate: Plate | None = None
    building: Building | None = None
    scope: Scope | None = None
    households: list[HouseholdView] = field(default_factory=list)
    building_url: str | None = None
    edit_url: str | None = None
    can_install: bool = False

    @property
    def is_good(self) -> bool:
        return self.outcome == Outcome.FOUND


def malformed_message(reason: str) -> str:
    if reason == "empty":
        return _("Scan a plate, choose a photo of one or type its code.")
    if reason in ("not a plate address", "too long"):
        return _(
            "This QR code is not a building plate of this city. Scan the QR code on the plate, or type the code printed under it."
        )
    # Any other reason is the translated message of an invalid typed code.
    return reason


def forged_message() -> str:
    return _(
        "This QR code is not signed by the city: the plate may be forged. Report it."
    )


def revoked_message(plate: Plate) -> str:
    revoked_on = formats.date_format(
        timezone.localtime(plate.revoked_at or timezone.now()), "DATE_FORMAT"
    )
    return _(
        "This plate was revoked on %(date)s; ask the kelurahan for the new plate."
    ) % {"date": revoked_on}


def reprint_message() -> str:
    return _(
        "This plate was signed with a city key that has since been withdrawn, so its signature can no longer be trusted. The plate needs re-printing: ask the kelurahan office for a new plate."
    )


def unknown_message(code: str) -> str:
    return _(
        "No plate with the code %(code)s is registered. Check the code against the plate, or ask the kelurahan office."
    ) % {"code": code}


def resolve(text: str, user: Any) -> ScanResult:
    """Return the scan result for a QR text or typed code, as this user may see it."""
    lookup = look_up(text)
    read, plate = lookup.read, lookup.plate
    result = ScanResult(text, lookup.outcome, read.verdict, read.code, "")
    if result.outcome == Outcome.MALFORMED:
        result.message = malformed_message(read.reason)
        return result
    if result.outcome == Outcome.FORGED:
        result.message = forged_message()
        return result
    if plate is None:
        result.message = unknown_message(read.code or "")
        return result

    result.plate = plate
    require_at(Service.REGISTRY, plate.building)
    scope = scope_for(user, plate.building)
    if result.outcome in (Outcome.REVOKED, Outcome.REPRINT):
        result.message = (
            revoked_message(plate)
            if result.outcome == Outcome.REVOKED
            else reprint_message()
        )
        if scope == Scope.HOUSEHOLDS:
            result.building_url = _building_url(plate.building)
        return result
    if scope is None:
        result.outcome = Outcome.NOT_YOURS
        result.message = _(
            "This is not your building. You can see the details of your own building only."
        )
        return result

    result.scope, result.building = scope, plate.building
    result.message = _found_message(read.verdict, scope)
    result.can_install = plate.status == Plate.Status.ISSUED and may_install(user)
    if scope == Scope.HOUSEHOLDS:
        result.households = household_views(plate.building, user)
        result.building_url = _building_url(plate.building)
        if user.has_perm("registry.change_building"):
            result.edit_url = _optional_url("registry:building_edit", plate.building.pk)
    return result


def _found_message(verdict: Verdict, scope: Scope) -> str:
    if verdict == Verdict.UNSIGNED:
        return _(
            "Code typed by hand: there is no signature to check, so compare the plate with the details below."
        )
    if scope == Scope.OWN:
        return _("Genuine plate of the city. This is your building.")
    return _("Genuine plate, signed by the city.")


def _optional_url(name: str, pk: int) -> str | None:
    """Return the URL of a registry page, or None where that page does not exist."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def _building_url(building: Building) -> str | None:
    return _optional_url("registry:building_detail", building.pk)


def household_views(building: Building, user: Any) -> list[HouseholdView]:
    unmasked = services.can_see_identity_numbers(user)
    may_edit = user.has_perm("registry.change_household")
    views = []
    households = building.households.filter(
        status=Household.Status.ACTIVE
    ).prefetch_related("members")
    for household in households:
        members = [
            MemberView(
                member.full_name,
                services.member_nik(member, unmasked=unmasked),
                member.get_relation_display(),
                _optional_url("registry:member_edit", member.pk) if may_edit else None,
            )
            for member in household.members.all()
            if member.status == Member.Status.ACTIVE
        ]
        views.append(
            HouseholdView(services.household_kk(household, unmasked=unmasked), members)
        )
    if unmasked:
        record_identity_view(
            user,
            "registry:scan",
            member_ids=[
                member.pk
                for household in households
                for member in household.members.all()
                if member.status == Member.Status.ACTIVE
            ],
            household_ids=[household.pk for household in households],
        )
    return views


# Photos ------------------------------------------------------------------------


def decode_photo(photo: UploadedFile) -> str:
    """Return the text of the QR code in a photo, preferring a plate's.

    Raises PhotoInvalid.
    """
    return qr_photo.decode_photo(
        photo,
        prefer=lambda text: read_plate_text(text).verdict != Verdict.MALFORMED,
        not_a_picture=_(
            "This file is not a picture. Choose a photo (JPEG, PNG or WebP) of the plate's QR code."
        ),
        no_qr_code=_(
            "No QR code was found in this photo. Take it again closer to the plate with the whole QR code in the picture, or type the code printed under it."
        ),
        max_bytes=MAX_PHOTO_BYTES,
        max_pixels=MAX_PHOTO_PIXELS,
    )


# Views ---------------------------------------------------------------------------


def _require_scan_rights(request: HttpRequest) -> None:
    if not has_scan_rights(request.user):
        raise PermissionDenied


def scan_limit() -> Limit:
    return Limit("scan", settings.KOTACERDAS_SCAN_LIMIT_PER_MIN)


def throttled_message(retry_after_s: int) -> str:
    return _(
        "Too many scans in a short time. Wait %(seconds)s seconds, then scan again."
    ) % {"seconds": retry_after_s}


def _throttled(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    response = _page(request, None, throttled_message(limited.retry_after_s), 429)
    response["Retry-After"] = str(limited.retry_after_s)
    return response


def _page(
    request: HttpRequest,
    result: ScanResult | None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "result": result,
        "error": error,
        "plate_keys": offline_check_data(),
        "scan_texts": scan_texts(),
        "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
    }
    return render(request, "registry/scan.html", context, status=status)


def scan_texts() -> dict[str, str]:
    """Messages scan.js shows before the server's response, or without one."""
    return {
        "genuine": _("Signature checked on this phone: genuine plate of the city."),
        "forged": forged_message(),
        "malformed": malformed_message("not a plate address"),
        "unsupported": _(
            "This browser cannot check signatures by itself; the server checks them."
        ),
        "offline": _(
            "No connection to the server. The signature check above was done on this phone; the details will show when you scan again with a connection."
        ),
        "camera_denied": _(
            "The camera could not be opened. Allow camera access for this site, or choose a photo or type the code below."
        ),
        "no_camera": _(
            "This browser has no camera access. Choose a photo or type the code below."
        ),
        "looking": _("Point the camera at the QR code on the plate."),
        "checking": _("Checking…"),
    }


@login_required
def scan_page(request: HttpRequest) -> HttpResponse:
    """Serve the scan page; a GET with `text` or `code`, or a POSTed photo, resolves."""
    _require_scan_rights(request)
    text = request.GET.get("text") or request.GET.get("code") or ""
    if request.method != "POST" and not text.strip():
        return _page(request, None)
    try:
        hit(scan_limit(), request)
    except RateLimited as limited:
        return _throttled(request, limited)
    if request.method == "POST":
        return _scan_photo(request)
    return _page(request, resolve(text, request.user))


def _scan_photo(request: HttpRequest) -> HttpResponse:
    photo = request.FILES.get("photo")
    if photo is None:
        return _page(
            request, None, _("Choose a photo of the plate's QR code."), status=400
        )
    try:
        text = decode_photo(photo)
    except PhotoInvalid as error:
        logger.info(
            "rejected a scan photo: %s",
            error.reason,
            extra={"user_id": request.user.pk},
        )
        return _page(request, None, error.message, status=400)
    return _page(request, resolve(text, request.user))


@login_required
@require_POST
def scan_resolve(request: HttpRequest) -> HttpResponse:
    """Return the result panel for a text the camera read (fetched by scan.js)."""
    _require_scan_rights(request)
    try:
        hit(scan_limit(), request)
    except RateLimited as limited:
        response = render(
            request,
            "registry/partials/scan_result.html",
            {
                "result": {
                    "outcome": "throttled",
                    "message": throttled_message(limited.retry_after_s),
                }
            },
            status=429,
        )
        response["Retry-After"] = str(limited.retry_after_s)
        return response
    result = resolve(request.POST.get("text", ""), request.user)
    return render(request, "registry/partials/scan_result.html", {"result": result})


@login_required
@require_POST
def plate_install(request: HttpRequest) -> HttpResponse:
    """Record an issued plate as installed, then show the scan again."""
    _require_scan_rights(request)
    if not may_install(request.user):
        raise PermissionDenied
    text = request.POST.get("text", "")
    lookup = look_up(text)
    if lookup.outcome == Outcome.FOUND and lookup.plate is not None:
        services.install_plate(lookup.plate, actor=request.user)
        messages.success(
            request,
            _("Plate %(code)s is recorded as installed.") % {"code": lookup.plate.code},
        )
    else:
        messages.error(request, _("Only a genuine plate can be recorded as installed."))
    return HttpResponseRedirect(
        f"{reverse('registry:scan')}?{urlencode({'text': text})}"
    )


# Pages for plates of other kinds than buildings, by kind letter (the second
# part of the code). Apps that issue such plates register theirs, so the
# registry needs no import of them.
LandingPage = Callable[[HttpRequest, ReadPlate], HttpResponse]
_other_landings: dict[str, LandingPage] = {}


def register_landing(kind: str, page: LandingPage) -> None:
    """Serve the landing page of plates whose kind letter is `kind`."""
    _other_landings[kind] = page


def _kind(code: str | None) -> str | None:
    parts = (code or "").split("-")
    return parts[1] if len(parts) == 4 else None


@require_GET
def plate_landing(request: HttpRequest, code: str) -> HttpResponse:
    """Serve what a phone's camera app opens from a plate's QR code.

    Anyone may open it, so it shows the verdict, the plate status and the
    kelurahan, nothing personal. A signed-in user with scan rights goes on to
    the scan page with the same text, which shows what their role may see.
    """
    text = request.build_absolute_uri()
    read = read_plate_text(text)
    other = _other_landings.get(_kind(read.code) or "")
    if other is not None and read.verdict != Verdict.MALFORMED:
        return other(request, read)
    if has_scan_rights(request.user):
        return HttpResponseRedirect(
            f"{reverse('registry:scan')}?{urlencode({'text': text})}"
        )
    lookup = look_up(text)
    if lookup.plate is not None:
        require_at(Service.REGISTRY, lookup.plate.building)
    context = {
        "outcome": lookup.outcome,
        "message": _landing_message(lookup),
        "code": lookup.read.code,
        "plate": lookup.plate,
        "kelurahan": lookup.plate.building.kelurahan
        if lookup.plate
        and lookup.outcome in (Outcome.FOUND, Outcome.REVOKED, Outcome.REPRINT)
        else None,
        "login_url": reverse("accounts:login")
        + "?"
        + urlencode({"next": request.get_full_path()}),
    }
    status = 404 if lookup.outcome in (Outcome.UNKNOWN, Outcome.MALFORMED) else 200
    return render(request, "registry/plate_landing.html", context, status=status)


def _landing_message(lookup: Lookup) -> str:
    if lookup.outcome == Outcome.MALFORMED:
        return malformed_message(lookup.read.reason)
    if lookup.outcome == Outcome.FORGED:
        return forged_message()
    if lookup.plate is None:
        return unknown_message(lookup.read.code or "")
    if lookup.outcome == Outcome.REVOKED:
        return revoked_message(lookup.plate)
    if lookup.outcome == Outcome.REPRINT:
        return reprint_message()
    return _("Genuine plate, signed by the city.")
