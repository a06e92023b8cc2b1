"""Every response carries the server's own time in a Server-Timing header."""

import re

import pytest
from django.urls import reverse

SERVER_TIMING = re.compile(r"app;dur=(\d+\.\d)")


@pytest.mark.django_db
@pytest.mark.parametrize("path", [reverse("accounts:login"), "/no-such-page/"])
def test_response_has_server_timing(client, path):
    response = client.get(path)

    found = SERVER_TIMING.fullmatch(response.headers["Server-Timing"])
    assert found is not None, response.headers["Server-Timing"]
    assert 0 < float(found.group(1)) < 60_000


@pytest.mark.django_db
def test_api_response_has_server_timing(client):
    response = client.get("/api/journal/keys")

    assert response.status_code == 200
    assert SERVER_TIMING.fullmatch(response.headers["Server-Timing"])
