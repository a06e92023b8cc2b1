"""Admin pages for users, API tokens and the audit trail."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kotacerdas.accounts.api_auth import create_api_token, revoke_api_token
from kotacerdas.accounts.audit import audit_actor
from kotacerdas.accounts.models import ApiToken, AuditEvent, User
from kotacerdas.accounts.services import record_roles_changed
from kotacerdas.config.read_only_admin import ReadOnlyAdmin

admin.site.site_header = _("Kota Cerdas administration")
admin.site.site_title = _("Kota Cerdas")
admin.site.index_title = _("Administration")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Work area"), {"fields": ("kelurahan",)}),
    )
    list_display = ["username", "kelurahan", "is_staff", "is_active", "last_login"]
    list_filter = ["groups", "is_staff", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Only a superuser may make another superuser or grant single permissions;
        # everyone else gives rights through roles.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        with audit_actor(request.user if request.user.is_authenticated else None):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        user = form.instance
        before = set(user.groups.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        if set(user.groups.values_list("pk", flat=True)) != before:
            record_roles_changed(user, request.user)  # type: ignore[arg-type]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "actor", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["username"]
    date_hierarchy = "at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: adding one shows its secret once, and revoking keeps the row."""

    list_display = [
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["user", "name"]
        return ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoking keeps the row, so the audit trail can still name the token.
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: Any, change: bool
    ) -> None:
        if change:
            return
        new = create_api_token(obj.user, obj.name, actor=request.user)  # type: ignore[arg-type]
        for name in ("id", "prefix", "key_hash", "created_at"):
            setattr(obj, name, getattr(new.token, name))
        messages.warning(
            request,
            _("Copy this token now; it will not be shown again: %(token)s")
            % {"token": new.secret},
        )

    @admin.action(description=_("Revoke selected API tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(
            revoke_api_token(token, actor=request.user)  # type: ignore[arg-type]
            for token in queryset
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", revoked)
            % {"count": revoked},
        )
