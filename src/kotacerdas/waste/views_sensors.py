"""Container fill levels for staff, and the NGSI-LD read endpoint.

Both need `waste.view_waste`. The page takes the signed-in session; the
NGSI-LD endpoint also takes an API token (`Authorization: Bearer kc_...`),
so a FIWARE dashboard or another city system can read the containers.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, QuerySet, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kotacerdas.accounts.api_auth import user_for_token
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Alert, Container
from kotacerdas.waste.sensors_ngsi import (
    CONTEXT,
    ENTITY_TYPE,
    container_entity,
    plate_code_of,
)

VIEW = "waste.view_waste"
NGSI_DEFAULT_LIMIT = 20
NGSI_MAX_LIMIT = 1000
NGSI_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
LD_JSON = "application/ld+json"
# The type's full IRI, which NGSI-LD clients may send instead of the short name.
CONTEXT_TYPE_IRI = (
    "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"
)


@login_required
@require_GET
def fill_levels(request: HttpRequest) -> HttpResponse:
    """List sensed containers, fullest above threshold first, with alerts."""
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    cutoff = timezone.now() - timedelta(
        seconds=settings.KOTACERDAS_SENSOR_SILENT_AFTER_S
    )
    containers = (
        Container.objects.filter(active=True)
        .exclude(sensor_id="")
        .select_related("site", "kelurahan")
        .annotate(
            above=Case(
                When(fill_level__gte=F("fill_threshold"), then=1),
                default=0,
                output_field=IntegerField(),
            )
        )
        .order_by("-above", F("fill_level").desc(nulls_last=True), "name")
    )
    alerts = (
        Alert.objects.filter(
            cleared_at__isnull=True,
            kind__in=[Alert.Kind.FILL_THRESHOLD, Alert.Kind.SENSOR_SILENT],
        )
        .select_related("container")
        .order_by("-opened_at")
    )
    rows = [
        {
            "container": container,
            "above": bool(container.above),
            "silent": container.fill_observed_at is None
            or container.fill_observed_at < cutoff,
            "percent": None
            if container.fill_level is None
            else round(container.fill_level * 100),
        }
        for container in containers
    ]
    context = {
        "rows": rows,
        "alerts": alerts,
        "silent_count": sum(1 for row in rows if row["silent"]),
        "above_count": sum(1 for row in rows if row["above"]),
        "rejections": sensors.rejection_counts(),
        "retention_days": sensors.REJECTION_RETENTION.days,
        "silent_hours": settings.KOTACERDAS_SENSOR_SILENT_AFTER_S / 3600,
    }
    return render(request, "waste/sensors/fill_levels.html", context)


# -------------------------------------------------------------------- NGSI-LD


def _ngsi_error(status: int, kind: str, title: str, detail: str) -> JsonResponse:
    body = {"type": NGSI_ERRORS + kind, "title": title, "detail": detail}
    return JsonResponse(body, status=status, content_type="application/json")


def _ngsi_denied(request: HttpRequest) -> JsonResponse | None:
    """Authenticate by token or session; return an error response or None."""
    user: Any = request.user
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if header:
        user = user_for_token(token) if scheme.lower() == "bearer" else None
        if user is None:
            return _ngsi_error(
                401,
                "Unauthorized",
                "Unauthorized",
                "The API token is invalid or revoked.",
            )
    if not user.is_authenticated:
        return _ngsi_error(
            401,
            "Unauthorized",
            "Unauthorized",
            "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
        )
    if not user.has_perm(VIEW):
        return _ngsi_error(
            403,
            "Forbidden",
            "Forbidden",
            f"Your account does not allow this (it needs the {VIEW} permission).",
        )
    return None


def _wants_ld(request: HttpRequest) -> bool:
    """Return whether to reply with JSON-LD (the default) rather than plain JSON."""
    accept = request.headers.get("Accept", "")
    return LD_JSON in accept or "application/json" not in accept


def _ngsi_response(request: HttpRequest, body: Any, **headers: str) -> JsonResponse:
    with_context = _wants_ld(request)
    response = JsonResponse(
        body,
        safe=False,
        content_type=LD_JSON if with_context else "application/json",
        json_dumps_params={"ensure_ascii": False},
    )
    if not with_context:
        # NGSI-LD puts the @context in a Link header when the body is plain JSON.
        response["Link"] = (
            f'<{CONTEXT[0]}>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"'
        )
    for name, value in headers.items():
        response[name] = value
    return response


def _containers() -> QuerySet[Container]:
    return Container.objects.filter(active=True).select_related("site", "kelurahan")


def _int_param(request: HttpRequest, name: str, default: int) -> int | None:
    text = request.GET.get(name)
    if text is None:
        return default
    return int(text) if text.isdecimal() else None


@require_GET
def ngsi_entities(request: HttpRequest) -> JsonResponse:
    """GET /waste/ngsi-ld/v1/entities?type=WasteContainer[&id=..][&limit&offset]."""
    denied = _ngsi_denied(request)
    if denied:
        return denied
    entity_type = request.GET.get("type", "")
    ids = [part for part in request.GET.get("id", "").split(",") if part]
    if not entity_type and not ids:
        return _ngsi_error(
            400,
            "BadRequestData",
            "Bad request",
            "Give type=WasteContainer or id=<urn> to say which entities to list.",
        )
    limit = _int_param(request, "limit", NGSI_DEFAULT_LIMIT)
    offset = _int_param(request, "offset", 0)
    if limit is None or offset is None or not 1 <= limit <= NGSI_MAX_LIMIT:
        return _ngsi_error(
            400,
            "BadRequestData",
            "Bad request",
            f"limit must be a whole number from 1 to {NGSI_MAX_LIMIT}, "
            "and offset a whole number from 0.",
        )

    containers = _containers().order_by("plate_code")
    if entity_type and entity_type not in (ENTITY_TYPE, CONTEXT_TYPE_IRI):
        containers = containers.none()
    if ids:
        codes = [code for code in map(plate_code_of, ids) if code]
        containers = containers.filter(plate_code__in=codes)
    total = containers.count()
    page = containers[offset : offset + limit]
    with_context = _wants_ld(request)
    body = [container_entity(c, with_context=with_context) for c in page]
    headers = {}
    if request.GET.get("count") == "true":
        headers["NGSILD-Results-Count"] = str(total)
    return _ngsi_response(request, body, **headers)


@require_GET
def ngsi_entity(request: HttpRequest, urn: str) -> JsonResponse:
    """GET /waste/ngsi-ld/v1/entities/<urn>."""
    denied = _ngsi_denied(request)
    if denied:
        return denied
    code = plate_code_of(urn)
    container = _containers().filter(plate_code=code).first() if code else None
    if container is None:
        return _ngsi_error(
            404,
            "ResourceNotFound",
            "Not found",
            f"No active WasteContainer has the id {urn}.",
        )
    entity = container_entity(container, with_context=_wants_ld(request))
    return _ngsi_response(request, entity)
