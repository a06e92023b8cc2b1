"""API tokens for integrations, and the authentication the JSON API accepts.

A token reads `kc_<prefix>_<secret>`, and the prefix (10 hex characters)
finds its row. Only the SHA-256 of the whole token is stored, so a leaked
database leaks no usable token, and the token is shown once, at creation.
Integrations send it as `Authorization: Bearer <token>`. The city's own pages
call the API with the signed-in session instead; that path checks the CSRF
token on writes, because a browser sends the session cookie to any page that
asks.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from kotacerdas.accounts import audit
from kotacerdas.accounts.models import ApiToken, AuditEvent, User

logger = logging.getLogger(__name__)

TOKEN_SCHEME = "kc"  # noqa: S105  (a fixed label at the start of every token)
PREFIX_HEX_CHARS = 10
# Recording every use would write a row on every API call; once a minute is
# enough to tell an administrator whether a token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just created: the row, and the secret to hand over once."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user: User, name: str, *, actor: User | None = None) -> NewToken:
    """Create a token for `user` and record it in the audit trail.

    Raises ValueError for an empty name or an inactive user.
    """
    name = " ".join(name.split())
    if not name:
        raise ValueError("token name is empty; name the integration that will use it")
    if not user.is_active:
        raise ValueError(f"user {user.get_username()!r} is inactive")

    prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
    secret = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic(), audit.audit_actor(actor):
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, key_hash=hash_token(secret)
        )
        audit.record(
            AuditEvent.Kind.API_TOKEN_CREATED,
            user=user,
            detail={"token_id": token.pk, "prefix": prefix},
        )
    logger.info("created API token %s", token.pk, extra={"token_id": token.pk})
    return NewToken(token, secret)


def revoke_api_token(token: ApiToken, *, actor: User | None = None) -> bool:
    """Revoke a token; return False when it was already revoked."""
    with transaction.atomic(), audit.audit_actor(actor):
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if changed:
            audit.record(
                AuditEvent.Kind.API_TOKEN_REVOKED,
                user=token.user,
                detail={"token_id": token.pk, "prefix": token.prefix},
            )
    token.refresh_from_db(fields=["revoked_at"])
    if changed:
        logger.info("revoked API token %s", token.pk, extra={"token_id": token.pk})
    return bool(changed)


def user_for_token(secret: str) -> User | None:
    """Return the active user a live token belongs to, or None."""
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=parts[1], revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(
        token.key_hash, hash_token(secret.strip())
    ):
        return None

    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class BearerToken(HttpBearer):
    """`Authorization: Bearer kc_...`, for integrations."""

    def __call__(self, request: HttpRequest) -> Any:
        # Ninja's HttpBearer logs the whole header in DEBUG when the scheme is
        # not Bearer; this version never logs it, since it may be a secret.
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class PageSession(SessionAuth):
    """The signed-in session of the city's own pages, with CSRF on writes.

    A request that carries an Authorization header is left to BearerToken, so
    a client with a wrong token gets 401 rather than a CSRF failure.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)


API_AUTH = [BearerToken(), PageSession()]
