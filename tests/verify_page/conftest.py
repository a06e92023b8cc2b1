"""Fixtures for the verify page: sealed entries co-signed by witnesses with real keys.

The witnesses, sealing and cosigning helpers are the receipt bundle tests' own.
"""

import pytest
from django.conf import settings
from django.test import Client
from tests.bundles.conftest import (  # noqa: F401 (fixtures used by the tests here)
    TestWitness,
    append_events,
    cosign_block,
    seal,
    witnessed_block,
    witnesses,
)


@pytest.fixture
def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def indonesian() -> Client:
    return Client()
