"""Request size limits, and the documented error shape for every API response.

`RequestLimitsMiddleware` rejects a request whose declared body is over a
limit before any code reads it, with 413 and a message naming the limit:

- a body that is not multipart/form-data: `DATA_UPLOAD_MAX_MEMORY_SIZE`
  (KOTACERDAS_MAX_BODY_BYTES), the size Django reads into memory;
- a multipart body with files: KOTACERDAS_MAX_REQUEST_BYTES, above the
  largest upload any page accepts (each upload then has its own smaller limit).

It also replaces Django's plain 400 page for the limit errors raised while a
view reads the body or the query. The form fields of a multipart body over
`DATA_UPLOAD_MAX_MEMORY_SIZE` get 413. More fields or query parameters than
`DATA_UPLOAD_MAX_NUMBER_FIELDS` get 400 naming the limit. A JSON body nested
deeper than MAX_JSON_DEPTH gets 400 before any parser reads it.

`ApiErrorShapeMiddleware` gives every error under /api/ that did not come from
an API handler (405 for a method the operation lacks, 404 for an unknown
path, 413 from the limits above) the shape the API documents:
`{"error": {"code": ..., "message": ..., "field": ...}}`.
"""

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
}


# A body nested deeper than this is rejected before any JSON parser reads it.
# Python's parser recurses once per level, and py_ecc (imported under web3)
# raises the interpreter's recursion limit to 100,000, so a body nested about
# 100,000 deep crashes the process with a segmentation fault instead of
# raising RecursionError.
MAX_JSON_DEPTH = 200
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Return whether the arrays and objects of a JSON text nest deeper than `limit`.

    Brackets inside strings do not count. Text that is not JSON is measured
    the same way, which errs toward rejecting it.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def _size_text(size_bytes: int) -> str:
    """Return a size as people read it ("2.5 MB"), with a plain space."""
    return str(filesizeformat(size_bytes)).replace("\xa0", " ")


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def body_limit_message(request: HttpRequest) -> str | None:
    """Return why the declared body is too large, or None when it fits."""
    length = _declared_length(request)
    if not length:
        return None
    multipart = request.content_type == "multipart/form-data"
    limit = (
        settings.KOTACERDAS_MAX_REQUEST_BYTES
        if multipart
        else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    if length <= limit:
        return None
    return _(
        "The request body is %(size)s; the limit is %(limit)s. Send a smaller file or fewer items at a time."
    ) % {"size": _size_text(length), "limit": _size_text(limit)}


def error_response(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """Return the error in the API's JSON shape to API and JSON clients, else as a page."""
    # NOTE: SNAP clients get this shape too, not a SNAP response code.
    if (
        request.path.startswith(API_PREFIX)
        or request.content_type == "application/json"
    ):
        body = {
            "error": {
                "code": ERROR_CODES.get(status, "error"),
                "message": message,
                "field": None,
            }
        }
        return JsonResponse(body, status=status)
    return render(request, "request_rejected.html", {"message": message}, status=status)


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        message = body_limit_message(request)
        if message is not None:
            logger.info(
                "rejected a %s-byte request body to %s",
                request.META.get("CONTENT_LENGTH"),
                request.path,
            )
            return error_response(request, 413, message)
        if (
            request.content_type not in FORM_TYPES
            and _declared_length(request)
            and nested_deeper_than(request.body, MAX_JSON_DEPTH)
        ):
            message = _(
                "The JSON body is nested more than %(limit)d levels deep. Send flatter data."
            ) % {"limit": MAX_JSON_DEPTH}
            return error_response(request, 400, message)
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            message = _(
                "The request body is over the limit of %(limit)s. Send a smaller file or fewer items at a time."
            ) % {"limit": _size_text(limit)}
            return error_response(request, 413, message)
        if isinstance(exception, TooManyFieldsSent):
            message = _(
                "The request has more than %(limit)d fields or query parameters. Send fewer at a time."
            ) % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
            return error_response(request, 400, message)
        if isinstance(exception, TooManyFilesSent):
            message = _(
                "The request has more than %(limit)d files. Send fewer at a time."
            ) % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
            return error_response(request, 400, message)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith(API_PREFIX)
            or response.status_code < 400
            or _is_json(response)
        ):
            return response
        return self._reshape(request, response)

    def _reshape(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            message = _(
                "The method %(method)s is not allowed here; use %(allowed)s."
            ) % {"method": request.method, "allowed": allowed}
        elif status == 404:
            message = _("No API operation at this address; see /api/docs.")
        else:
            message = _("The request failed with HTTP status %(status)d.") % {
                "status": status
            }
        reshaped = error_response(request, status, message)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                reshaped[header] = response[header]
        return reshaped
