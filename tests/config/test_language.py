"""Screens are Indonesian unless the user picked English with the switch."""

import pytest
from django.db import transaction
from django.test import Client

from kotacerdas.journal.services import append

pytestmark = pytest.mark.django_db


def test_english_browser_still_gets_indonesian(client: Client) -> None:
    response = client.get("/ledger/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "id"
    assert b'<html lang="id">' in response.content


def test_switch_selects_english(client: Client) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/ledger/"})
    response = client.get("/ledger/")

    assert switched.status_code == 302
    assert response.headers["Content-Language"] == "en"
    assert b'<html lang="en">' in response.content


def test_unknown_cookie_falls_back(client: Client) -> None:
    client.cookies["django_language"] = "fr"

    response = client.get("/ledger/")

    assert response.headers["Content-Language"] == "id"


def test_missing_page_speaks_indonesian(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.content.decode()


def test_missing_page_speaks_english(client: Client) -> None:
    client.cookies["django_language"] = "en"

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_admin_columns_are_indonesian(admin_client: Client) -> None:
    with transaction.atomic():
        append("accounts.roles.changed", {"user_id": 1, "roles": [], "actor_id": None})

    response = admin_client.get("/admin/journal/entry/")
    page = response.content.decode().lower()

    assert response.status_code == 200
    assert "nomor urut" in page
    assert "jenis peristiwa" in page
