"""Admin pages for users and the audit trail."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from kotacerdas.accounts.audit import audit_actor
from kotacerdas.accounts.models import AuditEvent, User
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
