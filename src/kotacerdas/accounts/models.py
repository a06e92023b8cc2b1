"""Users of the platform and the audit trail of their sign-ins and rights."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: staff, field crew, merchant, citizen or auditor.

    Roles are Django groups (see accounts.roles). `kelurahan` scopes kelurahan
    staff to their own area; it is empty for city-wide roles.
    """

    kelurahan = models.ForeignKey(
        "city.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("kelurahan"),
    )


class AuditEvent(models.Model):
    """A sign-in, a change of rights, or an access to someone's personal data.

    Kept in the database rather than the log so that an administrator can
    review it; `username` is what was typed, which may name no user.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGOUT = "logout", _("Signed out")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        ROLES_CHANGED = "roles_changed", _("Roles changed")
        PERMISSIONS_CHANGED = "permissions_changed", _("Permissions changed")
        API_TOKEN_CREATED = "api_token_created", _("API token created")
        API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")
        IDENTITY_VIEWED = "identity_viewed", _("NIK or KK shown unmasked")
        DATA_EXPORTED = "data_exported", _("Personal data exported")
        DATA_ERASED = "data_erased", _("Personal data erased")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("user")
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    username = models.CharField(_("username typed"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        subject = self.username or (self.user.get_username() if self.user else "")
        return (
            f"{self.get_kind_display()}: {subject}"
            if subject
            else str(self.get_kind_display())
        )


class ApiToken(models.Model):
    """A secret that lets an integration call the JSON API as `user`.

    Only the SHA-256 of the token is stored, so the token itself is shown once,
    when it is created. `prefix` is the token's first characters, kept in clear
    to find the row and to tell tokens apart in lists. A token acts with exactly
    its user's permissions; revoking sets `revoked_at` and is final.
    """

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("What the token is for, such as the name of the integration."),
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
