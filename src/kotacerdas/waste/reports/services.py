"""Filing, following and handling citizen reports; every change is journalled.

Lock order: a report row before its updates. Status changes lock the report
with `select_for_update` (a no-op on SQLite, whose IMMEDIATE transactions
already serialise writers).
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from shapely import prepared
from shapely.geometry import Point, shape

from kotacerdas.city.models import Area, City
from kotacerdas.journal.services import append
from kotacerdas.registry.models import Building
from kotacerdas.registry.services import FieldError
from kotacerdas.waste.models import Container
from kotacerdas.waste.reports.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SLA_HOURS,
    Kind,
    Report,
    ReportUpdate,
    Status,
)
from kotacerdas.waste.routing.distances import haversine_m as great_circle_m

logger = logging.getLogger(__name__)

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
# Open reports of the same kind within this distance are offered as duplicates.
DUPLICATE_RADIUS_M = 150
DESCRIPTION_MAX_CHARS = 2000

# Allowed status moves; "assigned" is reached through `assign_report`.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.TRIAGED, Status.REJECTED, Status.DUPLICATE),
    Status.TRIAGED: (Status.REJECTED, Status.DUPLICATE),
    Status.ASSIGNED: (
        Status.IN_PROGRESS,
        Status.RESOLVED,
        Status.REJECTED,
        Status.DUPLICATE,
    ),
    Status.IN_PROGRESS: (Status.RESOLVED, Status.REJECTED, Status.DUPLICATE),
}


class ReportInvalid(ValueError):
    """Input failed validation; `errors` names each field and the fix."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class ReportInput:
    """A report as typed in the form or sent by an app."""

    kind: str
    description: str
    lat: Any
    lng: Any
    photo: UploadedFile | None = None
    building_plate: str = ""
    container_plate: str = ""


# ------------------------------------------------------------------ geometry


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    return great_circle_m((lat1, lng1), (lat2, lng2))


@cache
def _kelurahan_shapes(
    city_id: int, profile_sha256: str
) -> tuple[tuple[int, prepared.PreparedGeometry], ...]:
    # Keyed on the profile's hash, so a reloaded profile is read again.
    areas = Area.objects.filter(city_id=city_id).exclude(level="kecamatan")
    return tuple(
        (area.pk, prepared.prep(shape(area.boundary)))
        for area in areas
        if area.boundary
    )


def find_kelurahan(lat: Decimal, lng: Decimal) -> Area | None:
    """Return the kelurahan whose boundary contains the point, or None.

    Boundaries in the city profile are simplified, so a point near a border
    may land in the neighbouring kelurahan; staff can see the map.
    """
    city = City.objects.order_by("id").first()
    if city is None:
        return None
    point = Point(float(lng), float(lat))
    for area_id, polygon in _kelurahan_shapes(city.pk, city.profile_sha256):
        if polygon.contains(point):
            return Area.objects.get(pk=area_id)
    return None


def nearby_open_reports(
    kind: str, lat: Decimal, lng: Decimal, radius_m: float = DUPLICATE_RADIUS_M
) -> list[tuple[Report, int]]:
    """Return open reports of `kind` within `radius_m`, nearest first, with metres."""
    # A box of the radius in degrees narrows the query; haversine decides.
    dlat = radius_m / 111_320
    dlng = dlat / max(0.01, math.cos(math.radians(float(lat))))
    candidates = Report.objects.filter(
        kind=kind,
        status__in=OPEN_STATUSES,
        lat__range=(lat - Decimal(f"{dlat:.6f}"), lat + Decimal(f"{dlat:.6f}")),
        lng__range=(lng - Decimal(f"{dlng:.6f}"), lng + Decimal(f"{dlng:.6f}")),
    ).select_related("kelurahan")
    found = []
    for report in candidates:
        metres = distance_m(
            float(lat), float(lng), float(report.lat), float(report.lng)
        )
        if metres <= radius_m:
            found.append((report, round(metres)))
    return sorted(found, key=lambda pair: pair[1])


# ------------------------------------------------------------------ checks


def parse_coordinate(value: Any, limit: int) -> tuple[Decimal | None, str]:
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        return None, _("Missing. Pick the place on the map or use your location.")
    try:
        number = Decimal(text).quantize(Decimal("0.000001"))
    except InvalidOperation:
        return None, _("Not a number: %(value)s. Use decimal degrees.") % {
            "value": text[:20]
        }
    if not number.is_finite() or abs(number) > limit:
        return None, _(
            "Out of range: %(value)s. It must lie between -%(limit)s and %(limit)s."
        ) % {
            "value": text[:20],
            "limit": limit,
        }
    return number, ""


def check_photo(photo: UploadedFile | None) -> str:
    """Return an error message for a photo that is too large or not an image."""
    if photo is None:
        return ""
    if photo.size is None or photo.size > PHOTO_MAX_BYTES:
        return _(
            "The photo is %(size)s MB; the limit is %(limit)s MB. Send a smaller photo."
        ) % {
            "size": f"{(photo.size or 0) / 1_048_576:.1f}",
            "limit": PHOTO_MAX_BYTES // 1_048_576,
        }
    try:
        with Image.open(photo) as image:
            image.verify()
            found = image.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        return _("The file is not a readable image. Send a JPEG, PNG or WebP photo.")
    finally:
        photo.seek(0)
    if found not in PHOTO_FORMATS:
        return _(
            "Photos of type %(type)s are not accepted. Send a JPEG, PNG or WebP photo."
        ) % {"type": found}
    return ""


@dataclass
class _Clean:
    kind: str
    description: str
    lat: Decimal
    lng: Decimal
    building: Building | None
    container: Container | None


def clean_report(data: ReportInput) -> _Clean:
    """Check every field and raise ReportInvalid naming each bad one."""
    errors: list[FieldError] = []
    if data.kind not in Kind.values:
        errors.append(
            FieldError(
                "kind",
                _("Unknown kind %(kind)s. Choose one of: %(kinds)s.")
                % {"kind": data.kind[:40], "kinds": ", ".join(Kind.values)},
            )
        )

    description = data.description.strip()
    if not description:
        errors.append(FieldError("description", _("Missing. Say what you saw.")))
    elif len(description) > DESCRIPTION_MAX_CHARS:
        errors.append(
            FieldError(
                "description",
                _("Too long: %(count)s characters; the limit is %(limit)s.")
                % {"count": len(description), "limit": DESCRIPTION_MAX_CHARS},
            )
        )

    lat, lat_error = parse_coordinate(data.lat, 90)
    lng, lng_error = parse_coordinate(data.lng, 180)
    if lat_error:
        errors.append(FieldError("lat", lat_error))
    if lng_error:
        errors.append(FieldError("lng", lng_error))

    photo_error = check_photo(data.photo)
    if photo_error:
        errors.append(FieldError("photo", photo_error))
    building, container = _find_points(data, errors)

    if errors:
        raise ReportInvalid(errors)
    assert lat is not None and lng is not None
    return _Clean(data.kind, description, lat, lng, building, container)


def _find_points(
    data: ReportInput, errors: list[FieldError]
) -> tuple[Building | None, Container | None]:
    building = container = None
    if data.building_plate.strip():
        code = data.building_plate.strip().upper()
        building = Building.objects.filter(plate_code=code).first()
        if building is None:
            errors.append(
                FieldError(
                    "building_plate",
                    _(
                        "No building has plate %(code)s. Check the code or leave it empty."
                    )
                    % {"code": code[:20]},
                )
            )
    if data.container_plate.strip():
        code = data.container_plate.strip().upper()
        container = Container.objects.filter(plate_code=code).first()
        if container is None:
            errors.append(
                FieldError(
                    "container_plate",
                    _(
                        "No container has plate %(code)s. Check the code or leave it empty."
                    )
                    % {"code": code[:20]},
                )
            )
    return building, container


# ------------------------------------------------------------------ writes


def file_report(data: ReportInput, reporter: Any) -> Report:
    """Check and store a new report with its SLA due time; journal it.

    Raises ReportInvalid before anything is written, the photo included.
    """
    clean = clean_report(data)
    kelurahan = find_kelurahan(clean.lat, clean.lng)
    if kelurahan is None and clean.building is not None:
        kelurahan = clean.building.kelurahan
    if kelurahan is None and clean.container is not None:
        kelurahan = clean.container.kelurahan
    now = timezone.now()
    report = Report(
        kind=clean.kind,
        description=clean.description,
        lat=clean.lat,
        lng=clean.lng,
        kelurahan=kelurahan,
        building=clean.building,
        container=clean.container,
        reporter=reporter,
        created_at=now,
        sla_due_at=now + timedelta(hours=SLA_HOURS[clean.kind]),
    )
    with transaction.atomic(durable=True):
        if data.photo is not None:
            # NOTE: the file is written before the row, so a failed commit
            # leaves an unreferenced file under MEDIA_ROOT/reports/.
            report.photo.save(data.photo.name or "photo", data.photo, save=False)
        report.save()
        append(
            "wastereports.report.filed",
            {
                "report_id": report.pk,
                "kind": report.kind,
                "kelurahan_code": kelurahan.code if kelurahan else None,
                "building_id": report.building_id,
                "container_id": report.container_id,
                "lat": str(report.lat),
                "lng": str(report.lng),
                "has_photo": bool(report.photo),
                "reporter_id": reporter.pk,
                "sla_due_at": report.sla_due_at.isoformat(),
            },
            actor=f"user:{reporter.pk}",
        )
    logger.info("report filed", extra={"report_id": report.pk, "kind": report.kind})
    return report


class ReportRejected(ValueError):
    """A change is not allowed in the report's current status."""


def follow_report(report_id: int, user: Any) -> Report:
    """Add `user` to an open report's followers ("me too"); idempotent."""
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        if not report.is_open:
            raise ReportRejected(
                _("Report %(id)s is already closed. File a new report instead.")
                % {"id": report.pk}
            )
        if (
            report.reporter_id == user.pk
            or report.followers.filter(pk=user.pk).exists()
        ):
            return report
        report.followers.add(user)
        append(
            "wastereports.report.followed",
            {"report_id": report.pk, "follower_id": user.pk},
            actor=f"user:{user.pk}",
        )
    return report


def change_status(
    report_id: int,
    to_status: str,
    actor: Any,
    *,
    note: str = "",
    public: bool = True,
    duplicate_of: int | None = None,
) -> ReportUpdate:
    """Move a report to `to_status` (or add a note when it is unchanged).

    Locks the report row. Raises ReportInvalid for a move TRANSITIONS does
    not allow, or a duplicate without an open original.
    """
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        from_status = report.status
        if to_status != from_status:
            _check_move(report, to_status, duplicate_of)
            report.status = to_status
            if to_status == Status.DUPLICATE:
                report.duplicate_of_id = duplicate_of
            if to_status in CLOSED_STATUSES:
                report.resolved_at = timezone.now()
            report.save()
        elif not note.strip():
            raise ReportInvalid(
                [FieldError("note", _("Missing. Write a note or change the status."))]
            )
        return _record_update(report, from_status, actor, note, public)


def assign_report(
    report_id: int, assignee: Any, actor: Any, *, note: str = "", public: bool = False
) -> ReportUpdate:
    """Assign an open report to a staff member; moves new or triaged to assigned.

    The note stays internal to staff unless ``public`` is set, because an
    assign note is usually about who handles the work, not news for the reporter.
    """
    if not assignee.has_perm("wastereports.handle_report"):
        raise ReportInvalid(
            [
                FieldError(
                    "assignee",
                    _("This user cannot handle reports. Choose a waste operator."),
                )
            ]
        )
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        from_status = report.status
        if not report.is_open:
            raise ReportInvalid(
                [
                    FieldError(
                        "status", _("The report is closed and cannot be assigned.")
                    )
                ]
            )
        report.assignee = assignee
        if report.status in (Status.NEW, Status.TRIAGED):
            report.status = Status.ASSIGNED
        report.save()
        return _record_update(report, from_status, actor, note, public)


def _check_move(report: Report, to_status: str, duplicate_of: int | None) -> None:
    if to_status not in TRANSITIONS.get(report.status, ()):
        raise ReportInvalid(
            [
                FieldError(
                    "status",
                    _("A report that is %(from)s cannot become %(to)s.")
                    % {
                        "from": Status(report.status).label,
                        "to": Status(to_status).label
                        if to_status in Status.values
                        else to_status[:20],
                    },
                )
            ]
        )
    if to_status != Status.DUPLICATE:
        return
    original = Report.objects.filter(pk=duplicate_of).first() if duplicate_of else None
    if original is None or original.pk == report.pk or not original.is_open:
        raise ReportInvalid(
            [
                FieldError(
                    "duplicate_of",
                    _("Give the number of another open report this one repeats."),
                )
            ]
        )


def _record_update(
    report: Report, from_status: str, actor: Any, note: str, public: bool
) -> ReportUpdate:
    update = ReportUpdate.objects.create(
        report=report,
        author=actor,
        from_status=from_status,
        to_status=report.status,
        note=note.strip()[:DESCRIPTION_MAX_CHARS],
        public=public,
    )
    append(
        "wastereports.report.updated",
        {
            "report_id": report.pk,
            "update_id": update.pk,
            "from_status": from_status,
            "to_status": report.status,
            "assignee_id": report.assignee_id,
            "duplicate_of": report.duplicate_of_id,
            "public": public,
            "actor_id": actor.pk,
        },
        actor=f"user:{actor.pk}",
    )
    logger.info(
        "report updated",
        extra={"report_id": report.pk, "from": from_status, "to": report.status},
    )
    return update
