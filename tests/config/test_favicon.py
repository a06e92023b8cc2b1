"""Browsers get the city icon for /favicon.ico instead of a 404."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_redirects_to_icon(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("kotacerdas/favicon.svg")
