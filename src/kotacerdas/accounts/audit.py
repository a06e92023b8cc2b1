"""The audit trail of sign-ins and rights changes, and who made each change.

Signal handlers cannot see the request that caused a change of groups or
permissions, so services and the admin name the acting user with
`audit_actor`; changes made outside it (a shell, a migration) have no actor.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

from kotacerdas.accounts.models import AuditEvent, User

_actor: ContextVar[User | None] = ContextVar("audit_actor", default=None)


@contextmanager
def audit_actor(actor: User | None) -> Iterator[None]:
    """Attribute the audit events recorded inside this block to `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def record(
    kind: str,
    *,
    user: User | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    actor = _actor.get()
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor if actor is not None and actor.pk else None,
        username=username or (user.get_username() if user else ""),
        ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
        detail=detail or {},
    )
