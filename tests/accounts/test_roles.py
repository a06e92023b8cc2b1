import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from kotacerdas.accounts.roles import ROLES, ROLES_BY_NAME, UnknownRole, get_role

pytestmark = pytest.mark.django_db

ALL_ROLE_PERMISSIONS = sorted({perm for role in ROLES for perm in role.permissions})
PERSONAS = [role.name for role in ROLES] + ["outsider"]


def test_migrate_creates_group_per_role():
    names = set(Group.objects.values_list("name", flat=True))

    assert names >= set(ROLES_BY_NAME)


def test_group_permissions_match_table():
    for role in ROLES:
        group = Group.objects.get(name=role.name)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert granted == set(role.permissions), role.name


@pytest.mark.parametrize("permission", ALL_ROLE_PERMISSIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_held_only_by_its_roles(personas, persona, permission):
    expected = persona in ROLES_BY_NAME and permission in get_role(persona).permissions

    assert personas[persona].has_perm(permission) is expected


def test_sync_restores_edited_group():
    group = Group.objects.get(name="auditor")
    group.permissions.add(Permission.objects.get(codename="change_user"))

    call_command("migrate", verbosity=0)

    assert not group.permissions.filter(codename="change_user").exists()
    assert group.permissions.filter(codename="view_auditevent").exists()


def test_unknown_role_lists_known_ones():
    with pytest.raises(UnknownRole) as raised:
        get_role("mayor")

    assert str(raised.value).startswith("role 'mayor' not found; known roles: admin, ")


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admin_and_auditor_are_staff(personas, persona):
    assert personas[persona].is_staff is (persona in ("admin", "auditor"))
