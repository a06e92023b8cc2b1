"""Middleware that turns a switched-off service into a 403 page naming it."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kotacerdas.pilot.switch import ServiceOff

logger = logging.getLogger(__name__)


class ServiceOffMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, ServiceOff):
            return None
        logger.info(
            "rejected %s: service %s is off there", request.path, exception.service
        )
        return render(
            request,
            "pilot/service_off.html",
            {"message": str(exception), "service": exception.service},
            status=403,
        )
