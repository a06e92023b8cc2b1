"""The API documentation works on a closed city network."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_docs_load_assets_locally(client: Client) -> None:
    response = client.get("/api/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.content.decode())

    assert response.status_code == 200
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets


def test_openapi_schema_lists_journal(client: Client) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert "/api/journal/checkpoint" in response.json()["paths"]
