import json

import pytest
from django.db import IntegrityError

from kotacerdas.accounts.models import AuditEvent, User
from kotacerdas.accounts.roles import UnknownRole
from kotacerdas.accounts.services import InvalidKelurahan, create_user, set_roles
from kotacerdas.city.models import Area
from kotacerdas.journal.models import Entry

pytestmark = pytest.mark.django_db


def role_events():
    return [
        json.loads(bytes(entry.body))["payload"]
        for entry in Entry.objects.filter(event_type="accounts.roles.changed").order_by(
            "seq"
        )
    ]


def test_create_user_journals_roles(city):
    user = create_user("siti", "a-long-password-1", ["citizen", "merchant"])

    assert sorted(user.groups.values_list("name", flat=True)) == ["citizen", "merchant"]
    assert user.check_password("a-long-password-1")
    assert role_events() == [
        {"user_id": user.pk, "roles": ["citizen", "merchant"], "actor_id": None}
    ]


def test_set_roles_records_actor(personas):
    admin = personas["admin"]
    citizen = personas["citizen"]

    changed = set_roles(citizen, ["citizen", "merchant"], actor=admin)

    assert changed
    assert role_events()[-1] == {
        "user_id": citizen.pk,
        "roles": ["citizen", "merchant"],
        "actor_id": admin.pk,
    }
    audit = AuditEvent.objects.filter(kind="roles_changed", user=citizen).first()
    assert audit is not None
    assert audit.actor == admin


def test_role_event_envelope_names_actor(personas):
    admin = personas["admin"]

    set_roles(personas["citizen"], ["merchant"], actor=admin)

    latest = Entry.objects.filter(event_type="accounts.roles.changed").last()
    assert latest is not None
    assert json.loads(bytes(latest.body))["actor"] == f"user:{admin.pk}"


def test_unchanged_roles_write_nothing(personas):
    before = len(role_events())

    changed = set_roles(personas["collector"], ["collector"])

    assert not changed
    assert len(role_events()) == before


def test_staff_role_grants_admin_access(personas):
    citizen = personas["citizen"]

    set_roles(citizen, ["citizen", "auditor"])
    assert citizen.is_staff

    set_roles(citizen, ["citizen"])
    assert not citizen.is_staff


def test_unknown_role_changes_nothing(personas):
    citizen = personas["citizen"]
    before = len(role_events())

    with pytest.raises(UnknownRole) as raised:
        set_roles(citizen, ["citizen", "mayor"])

    assert str(raised.value).startswith("role 'mayor' not found")
    assert list(citizen.groups.values_list("name", flat=True)) == ["citizen"]
    assert len(role_events()) == before


def test_kecamatan_scope_is_rejected(city):
    kecamatan = Area.objects.get(code="13.74.02")

    with pytest.raises(InvalidKelurahan) as raised:
        create_user(
            "budi", "a-long-password-1", ["registry_officer"], kelurahan=kecamatan
        )

    assert str(raised.value) == (
        "users can be scoped to a kelurahan or desa, not to kecamatan 13.74.02"
    )
    assert not User.objects.filter(username="budi").exists()


def test_taken_username_is_rejected(personas):
    with pytest.raises(IntegrityError):
        create_user("persona-citizen", "a-long-password-1", ["citizen"])


def test_role_events_hold_no_username(personas):
    for entry in Entry.objects.filter(event_type="accounts.roles.changed"):
        assert b"persona-" not in bytes(entry.body)
