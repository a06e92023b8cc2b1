"""Receipt bundles and the published keys (filled in by the bundles work)."""

from django.http import Http404, HttpRequest, HttpResponse


def entry_bundle(request: HttpRequest, seq: int) -> HttpResponse:
    raise Http404


def published_keys(request: HttpRequest) -> HttpResponse:
    raise Http404
