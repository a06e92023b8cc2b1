"""Signal handlers: role sync after migrate, and the audit of sign-ins and rights."""

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed, post_migrate
from django.dispatch import receiver
from django.http import HttpRequest

from kotacerdas.accounts import audit
from kotacerdas.accounts.models import AuditEvent, User
from kotacerdas.accounts.roles import sync_roles


@receiver(post_migrate)
def sync_roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate is sent once per app that has a models module, in
    # INSTALLED_APPS order, and each app's permissions are created by its own
    # signal. Only after the last such app do all the roles' permissions exist.
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender.label == with_models[-1].label:
        sync_roles()


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit.record(AuditEvent.Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def audit_logout(
    sender: Any, request: HttpRequest, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        audit.record(AuditEvent.Kind.LOGOUT, user=user, request=request)


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    # Django has already masked the password in `credentials`; only the typed
    # username is kept.
    audit.record(
        AuditEvent.Kind.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        request=request,
    )


@receiver(m2m_changed, sender=User.groups.through)
def audit_user_groups(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if not _is_change(action, pk_set):
        return
    if reverse:  # group.user_set changed: instance is the group
        for user in User.objects.filter(pk__in=pk_set):
            _record_group_change(user, action, [instance.name])
        return
    names = (
        sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        if pk_set
        else []
    )
    _record_group_change(instance, action, names)


@receiver(m2m_changed, sender=User.user_permissions.through)
def audit_user_permissions(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if not _is_change(action, pk_set) or reverse:
        return
    audit.record(
        AuditEvent.Kind.PERMISSIONS_CHANGED,
        user=instance,
        detail={"action": _verb(action), "permissions": _codenames(pk_set)},
    )


@receiver(m2m_changed, sender=Group.permissions.through)
def audit_group_permissions(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if not _is_change(action, pk_set) or reverse:
        return
    audit.record(
        AuditEvent.Kind.PERMISSIONS_CHANGED,
        detail={
            "group": instance.name,
            "action": _verb(action),
            "permissions": _codenames(pk_set),
        },
    )


def _is_change(action: str, pk_set: Any) -> bool:
    # `clear` has no pk_set; `add` and `remove` with an empty set changed nothing.
    return action == "post_clear" or (action in ("post_add", "post_remove") and pk_set)


def _verb(action: str) -> str:
    return action.removeprefix("post_")


def _record_group_change(user: User, action: str, names: list[str]) -> None:
    audit.record(
        AuditEvent.Kind.ROLES_CHANGED,
        user=user,
        detail={"action": _verb(action), "roles": names},
    )


def _codenames(pk_set: Any) -> list[str]:
    if not pk_set:
        return []
    permissions = Permission.objects.filter(pk__in=pk_set).select_related(
        "content_type"
    )
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions)
