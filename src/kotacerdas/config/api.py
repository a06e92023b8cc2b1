"""The JSON API: one Ninja instance, a router per app, OpenAPI at /api/docs."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kotacerdas.journal.api import router as journal_router
from kotacerdas.journal.services import InvalidProofRequest, JournalError
from kotacerdas.levy.api import router as levy_router
from kotacerdas.pilot.switch import ServiceOff
from kotacerdas.registry.api import router as registry_router
from kotacerdas.registry.api_plates import router as plates_router

api = NinjaAPI(
    title="Kota Cerdas API",
    version="1",
    description="Integrations for the Kota Cerdas smart-city platform.",
    urls_namespace="api",
)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    """Return the one error shape every endpoint uses."""
    return {"error": {"code": code, "message": message, "field": field}}


@api.exception_handler(InvalidProofRequest)
def invalid_proof_request(
    request: HttpRequest, error: InvalidProofRequest
) -> HttpResponse:
    return api.create_response(request, error_body("invalid", str(error)), status=422)


@api.exception_handler(JournalError)
def journal_error(request: HttpRequest, error: JournalError) -> HttpResponse:
    return api.create_response(
        request, error_body("journal_error", str(error)), status=404
    )


@api.exception_handler(ServiceOff)
def service_off(request: HttpRequest, error: ServiceOff) -> HttpResponse:
    # The pilot has not switched this service on at the object's address.
    return api.create_response(
        request, error_body("service_off", str(error)), status=403
    )


@api.exception_handler(AuthenticationError)
def authentication_error(
    request: HttpRequest, error: AuthenticationError
) -> HttpResponse:
    body = error_body(
        "unauthenticated",
        "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
    )
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    codes = {403: "forbidden", 404: "not_found", 409: "conflict", 429: "throttled"}
    code = codes.get(error.status_code, "error")
    return api.create_response(
        request, error_body(code, str(error)), status=error.status_code
    )


def _field_path(location: Any) -> list[str]:
    """Name the field as the caller sent it: ("body", "body", "text") is "text".

    Ninja prefixes where the value came from (body, query, path) and, for a
    body, the name of the view's body parameter.
    """
    parts = [str(part) for part in location]
    if parts[:1] == ["body"] and len(parts) > 2:
        return parts[2:]
    if parts[:1] and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        return parts[1:] or parts
    return parts


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    first = error.errors[0] if error.errors else {}
    location = ".".join(_field_path(first.get("loc", ())))
    body = error_body(
        "invalid", str(first.get("msg", "invalid request")), location or None
    )
    return api.create_response(request, body, status=422)


api.add_router("/journal", journal_router, tags=["journal"])
api.add_router("/registry", registry_router, tags=["registry"])
api.add_router("/plates", plates_router, tags=["plates"])
api.add_router("/levy", levy_router, tags=["levy"])
api.add_router("/wallet", "kotacerdas.wallet.api.router", tags=["wallet"])
api.add_router("/waste", "kotacerdas.waste.api.router", tags=["waste"])
api.add_router("/command", "kotacerdas.command.api.router", tags=["command"])
