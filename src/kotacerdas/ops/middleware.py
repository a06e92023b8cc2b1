"""Request ids, the request latency histogram and a Server-Timing header.

The request id comes from the reverse proxy's X-Request-ID header when it
looks like an id (nginx sends `$request_id`, 32 hex digits), or else is a new
random one. It goes back to the client in X-Request-ID and into each log line
written while the request is handled.
"""

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from kotacerdas.ops.logging_json import current_request_id
from kotacerdas.ops.metrics import observe_request

REQUEST_ID_HEADER = "X-Request-ID"
SERVER_TIMING_HEADER = "Server-Timing"
# Letters, digits, dashes and dots only: the id is written to logs unescaped.
_REQUEST_ID = re.compile(r"[A-Za-z0-9.\-]{8,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = self.incoming_request_id(request) or uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django logs a 404, or an error response a view returned,
                # only after this middleware has reset the request id. Logged
                # here with Django's message, the line keeps the id, and
                # Django then skips the response as logged already.
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        finally:
            current_request_id.reset(token)
        duration_s = time.perf_counter() - started
        observe_request(
            self.view_label(request),
            request.method if request.method in METHODS else "other",
            f"{response.status_code // 100}xx",
            duration_s,
        )
        response.headers.setdefault(REQUEST_ID_HEADER, request_id)
        # The server's own time (W3C Server Timing), without the time the
        # request waited for a gunicorn thread: bench/load.py reads it.
        response.headers.setdefault(
            SERVER_TIMING_HEADER, f"app;dur={duration_s * 1000:.1f}"
        )
        return response

    def incoming_request_id(self, request: HttpRequest) -> str | None:
        value = request.headers.get(REQUEST_ID_HEADER, "")
        return value if _REQUEST_ID.fullmatch(value) else None

    def view_label(self, request: HttpRequest) -> str:
        """Return the URL name of the view, so the label set stays small.

        Requests that matched no URL pattern share one label, since their
        paths are whatever a client sent.
        """
        match = getattr(request, "resolver_match", None)
        if match is not None:
            return match.view_name or match._func_path
        if request.path.startswith(self.static_prefix):
            return "static"
        return "unmatched"
