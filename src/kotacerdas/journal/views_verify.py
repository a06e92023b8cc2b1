"""The public verify page and the monthly publication (filled in by that work)."""

from django.http import Http404, HttpRequest, HttpResponse


def verify_page(request: HttpRequest) -> HttpResponse:
    raise Http404


def publication(request: HttpRequest) -> HttpResponse:
    raise Http404
