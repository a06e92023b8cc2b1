import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from kotacerdas.accounts.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def last_event(kind):
    return AuditEvent.objects.filter(kind=kind).order_by("-pk").first()


def test_login_and_logout_are_audited(personas):
    client = Client()

    client.post(
        reverse("accounts:login"),
        {"username": "persona-citizen", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.9",
    )
    client.post(reverse("accounts:logout"))

    login = last_event("login")
    assert login.user == personas["citizen"]
    assert login.ip_address == "127.0.0.9"
    assert last_event("logout").user == personas["citizen"]


def test_failed_login_keeps_typed_username(personas):
    Client().post(
        reverse("accounts:login"), {"username": "nobody", "password": "wrong-password"}
    )

    failed = last_event("login_failed")
    assert failed.username == "nobody"
    assert failed.user is None
    assert "password" not in str(failed.detail)


def test_group_permission_change_is_audited(personas):
    group = Group.objects.get(name="citizen")
    permission = Permission.objects.get(codename="view_area")

    group.permissions.add(permission)

    event = last_event("permissions_changed")
    assert event.detail == {
        "group": "citizen",
        "action": "add",
        "permissions": ["city.view_area"],
    }


def test_user_permission_change_is_audited(personas):
    citizen = personas["citizen"]

    citizen.user_permissions.add(Permission.objects.get(codename="view_city"))

    event = last_event("permissions_changed")
    assert event.user == citizen
    assert event.detail == {"action": "add", "permissions": ["city.view_city"]}


def test_reverse_group_change_is_audited(personas):
    citizen = personas["citizen"]

    Group.objects.get(name="merchant").user_set.add(citizen)

    event = last_event("roles_changed")
    assert event.user == citizen
    assert event.detail == {"action": "add", "roles": ["merchant"]}
