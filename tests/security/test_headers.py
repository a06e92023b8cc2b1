"""Security headers on every response.

The production cookie and HTTPS settings are tested in
tests/ops/test_production_settings.py, with `manage.py check --deploy`.
"""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSP_DIRECTIVES = (
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
)


@pytest.mark.parametrize("url", ["/login/", "/ledger/", "/api/journal/keys"])
def test_security_headers_sent(url):
    response = Client().get(url)

    for header, value in EXPECTED_HEADERS.items():
        assert response.get(header) == value, header
    for directive in CSP_DIRECTIVES:
        assert directive in response["Content-Security-Policy"]


def test_empty_policy_sends_no_header(settings):
    settings.KOTACERDAS_CONTENT_SECURITY_POLICY = ""

    response = Client().get("/login/")

    assert "Content-Security-Policy" not in response
