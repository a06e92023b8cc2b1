import pytest
from django.test import Client
from django.urls import reverse

from kotacerdas.accounts.models import User
from kotacerdas.accounts.roles import ROLES
from kotacerdas.city.services import load_profile
from kotacerdas.demo import services as demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    return load_profile("padang-panjang").city


def test_empty_database_detected(city):
    assert demo.database_is_empty()

    demo.create_demo_city()

    assert not demo.database_is_empty()


def test_one_demo_user_per_role(city):
    demo.create_demo_city()

    for role in ROLES:
        holders = User.objects.filter(groups__name=role.name)
        assert holders.count() == 1, role.name


def test_demo_city_is_idempotent(city):
    first = demo.create_demo_city()
    second = demo.create_demo_city()

    assert len(first) == len(ROLES)
    assert second == []
    assert User.objects.count() == len(ROLES)


def test_registry_officer_scoped_to_pasar_usang(city):
    demo.create_demo_city()

    officer = User.objects.get(username="registry")
    assert officer.kelurahan.code == "13.74.02.1002"
    assert officer.kelurahan.name == "Pasar Usang"
    assert User.objects.filter(kelurahan__isnull=False).count() == 1


def test_demo_logins_list_roles(city):
    assert demo.demo_logins() == []

    demo.create_demo_city()

    logins = demo.demo_logins()
    assert logins[0] == ("admin", "Administrator")
    assert ("registry", "Petugas registrasi") in logins
    assert len(logins) == len(ROLES)


def test_demo_password_signs_in(city, settings):
    demo.create_demo_city()

    response = Client().post(
        reverse("accounts:login"),
        {"username": "citizen", "password": settings.KOTACERDAS_DEMO_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_demo_needs_city_profile(db):
    from kotacerdas.city.models import Area

    with pytest.raises(Area.DoesNotExist):
        demo.create_demo_city()


def test_demo_home_page_names_role(city, settings):
    demo.create_demo_city()
    client = Client()
    client.post(
        reverse("accounts:login"),
        {"username": "teller", "password": settings.KOTACERDAS_DEMO_PASSWORD},
    )

    page = client.get(reverse("accounts:home")).content.decode()

    assert "Teller bank sampah" in page
    assert "Menimbang setoran per kategori" in page
