"""Creating users and changing their roles; each role change is journalled."""

import logging
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction

from kotacerdas.accounts.audit import audit_actor
from kotacerdas.accounts.events import RolesChanged
from kotacerdas.accounts.models import User
from kotacerdas.accounts.roles import ROLES_BY_NAME, get_role
from kotacerdas.city.models import Area
from kotacerdas.journal import services as journal

logger = logging.getLogger(__name__)


class InvalidKelurahan(ValueError):
    """A user was scoped to an area that is not a kelurahan or desa."""


def create_user(
    username: str,
    password: str | None,
    roles: Iterable[str] = (),
    *,
    kelurahan: Area | None = None,
    actor: User | None = None,
) -> User:
    """Create a user holding `roles` and journal the roles it starts with.

    `password` None makes an account that cannot sign in until one is set.
    Raises UnknownRole, InvalidKelurahan, or IntegrityError for a taken username.
    """
    role_names = _checked_role_names(roles)
    _check_kelurahan(kelurahan)

    with transaction.atomic(durable=True), audit_actor(actor):
        user = User(username=username, kelurahan=kelurahan)
        user.set_password(password)
        user.save()
        _apply_roles(user, role_names, actor)
    return user


def set_roles(user: User, roles: Iterable[str], *, actor: User | None = None) -> bool:
    """Give `user` exactly `roles`; return whether anything changed.

    An unchanged set of roles writes nothing. Raises UnknownRole before any write.
    """
    role_names = _checked_role_names(roles)
    with transaction.atomic(durable=True), audit_actor(actor):
        locked = User.objects.select_for_update().get(pk=user.pk)
        current = set(locked.groups.values_list("name", flat=True))
        if current == set(role_names):
            return False
        _apply_roles(locked, role_names, actor)
    user.refresh_from_db()
    return True


def record_roles_changed(user: User, actor: User | None) -> None:
    """Journal a user's current roles after a change made elsewhere (the admin).

    Runs inside the caller's transaction, so the event commits with the change.
    """
    names = sorted(user.groups.values_list("name", flat=True))
    journal.append(
        "accounts.roles.changed",
        RolesChanged(
            user_id=user.pk, roles=names, actor_id=actor.pk if actor else None
        ),
        actor=f"user:{actor.pk}" if actor else None,
    )


def _apply_roles(user: User, role_names: list[str], actor: User | None) -> None:
    groups = list(Group.objects.filter(name__in=role_names))
    missing = set(role_names) - {group.name for group in groups}
    if missing:
        raise LookupError(
            f"groups {sorted(missing)} are missing; run `kotacerdas migrate` to "
            "create the role groups"
        )
    user.groups.set(groups)
    staff = user.is_superuser or any(get_role(name).is_staff for name in role_names)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    record_roles_changed(user, actor)
    logger.info(
        "roles of user %s set to %s",
        user.pk,
        role_names,
        extra={"user_id": user.pk, "actor_id": actor.pk if actor else None},
    )


def _checked_role_names(roles: Iterable[str]) -> list[str]:
    names = sorted(set(roles))
    for name in names:
        get_role(name)
    return names


def _check_kelurahan(kelurahan: Area | None) -> None:
    if kelurahan is None or kelurahan.level in (
        Area.Level.KELURAHAN,
        Area.Level.DESA,
    ):
        return
    raise InvalidKelurahan(
        f"users can be scoped to a kelurahan or desa, not to {kelurahan.level} "
        f"{kelurahan.code}"
    )


__all__ = ["ROLES_BY_NAME", "create_user", "record_roles_changed", "set_roles"]
