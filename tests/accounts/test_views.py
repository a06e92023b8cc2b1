import pytest
from django.test import Client
from django.urls import reverse

from kotacerdas.accounts.roles import ROLES

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider"]


def test_home_redirects_anonymous_to_login():
    response = Client().get(reverse("accounts:home"))

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_lands_on_home(personas):
    response = Client().post(
        reverse("accounts:login"),
        {"username": "persona-citizen", "password": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/", 302)]
    assert "Selamat datang, persona-citizen" in response.content.decode()


def test_wrong_password_shows_message(personas):
    response = Client().post(
        reverse("accounts:login"),
        {"username": "persona-citizen", "password": "wrong-password"},
    )

    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_shows_only_own_role(signed_in, persona):
    page = signed_in(persona).get(reverse("accounts:home")).content.decode()

    for role in ROLES:
        shown = f'data-role="{role.name}"' in page
        assert shown is (role.name == persona), role.name


def test_home_in_indonesian_by_default(signed_in):
    page = signed_in("collector").get(reverse("accounts:home")).content.decode()

    assert "Petugas pengangkut" in page
    assert "Pindai pelat bangunan saat pengangkutan" in page


def test_home_in_english_after_switch(signed_in):
    client = signed_in("collector")

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("accounts:home")).content.decode()

    assert "Scan building plates at pickup" in page
    assert '<html lang="en">' in page


def test_home_shows_registry_officer_area(signed_in):
    page = signed_in("registry_officer").get(reverse("accounts:home")).content.decode()

    assert "Wilayah kerja Anda: Kelurahan Pasar Usang" in page


def test_outsider_is_told_to_ask_admin(signed_in):
    page = signed_in("outsider").get(reverse("accounts:home")).content.decode()

    assert "Akun Anda belum memiliki peran" in page


def test_logout_ends_session(signed_in):
    client = signed_in("citizen")

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_repeated_failures_lock_login(personas, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"),
            {"username": "persona-citizen", "password": "wrong-password"},
        )

    response = client.post(
        reverse("accounts:login"),
        {"username": "persona-citizen", "password": PASSWORD},
    )

    page = response.content.decode()
    assert response.status_code == 429
    assert "Masuk dikunci" in page
    assert "Coba lagi dalam 15 menit" in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_index_open_to_staff_roles(signed_in, persona):
    response = signed_in(persona).get("/admin/")

    if persona in ("admin", "auditor"):
        assert response.status_code == 200
        assert "Administrasi Kota Cerdas" in response.content.decode()
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_admin_changes_roles_journalled(signed_in, personas):
    from django.contrib.auth.models import Group

    from kotacerdas.journal.models import Entry

    citizen = personas["citizen"]
    merchant_group = Group.objects.get(name="merchant")
    citizen_group = Group.objects.get(name="citizen")
    before = Entry.objects.filter(event_type="accounts.roles.changed").count()

    response = signed_in("admin").post(
        f"/admin/accounts/user/{citizen.pk}/change/",
        {
            "username": citizen.username,
            "is_active": "on",
            "groups": [citizen_group.pk, merchant_group.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(citizen.groups.values_list("name", flat=True)) == [
        "citizen",
        "merchant",
    ]
    assert (
        Entry.objects.filter(event_type="accounts.roles.changed").count() == before + 1
    )


def test_attempts_during_lock_keep_end(personas, settings):
    from axes.models import AccessAttempt

    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"),
            {"username": "persona-citizen", "password": "wrong-password"},
        )
    locked_at = AccessAttempt.objects.get(username="persona-citizen").attempt_time

    retry = client.post(
        reverse("accounts:login"),
        {"username": "persona-citizen", "password": "wrong-password"},
    )

    assert retry.status_code == 429
    assert (
        AccessAttempt.objects.get(username="persona-citizen").attempt_time == locked_at
    )


WASTE_PERSONAS = {
    "waste_operator": ["/waste/routes/", "/waste/statistics/"],
    "collector": ["/waste/collector/"],
    "waste_bank_teller": ["/waste/banks/"],
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_waste_panel_by_role(signed_in, persona):
    page = signed_in(persona).get(reverse("accounts:home")).content.decode()

    assert ('class="waste-links"' in page) is (persona in WASTE_PERSONAS)
    for url in WASTE_PERSONAS.get(persona, []):
        assert f'href="{url}"' in page, url


AUDIT_READERS = {"admin", "auditor"}  # accounts.view_auditevent


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_links_identity_view_log(signed_in, persona):
    page = signed_in(persona).get(reverse("accounts:home")).content.decode()

    link = f'href="{reverse("registry:identity_view_log")}"'
    assert (link in page) is (persona in AUDIT_READERS)
