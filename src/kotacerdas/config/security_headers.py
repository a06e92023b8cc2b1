"""The Content-Security-Policy header, which Django 5.2's SecurityMiddleware does not set.

The default policy restricts what needs no change to the pages: no plugins
(`object-src`), no other origin in `<base>` or as a form target, and no
framing, which X-Frame-Options also forbids for older browsers. Scripts and
styles are not restricted yet, because several pages carry inline scripts.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """Add KOTACERDAS_CONTENT_SECURITY_POLICY to responses that set no policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.KOTACERDAS_CONTENT_SECURITY_POLICY
        if policy and HEADER not in response:
            response[HEADER] = policy
        return response
