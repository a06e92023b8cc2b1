from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _pending(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("pending", status=503)


urlpatterns: list[URLPattern] = [
    path("scan/", _pending, name="scan"),
    path("p/<str:code>", _pending, name="plate_landing"),
]
