"""The access log of unmasked NIK and KK numbers.

Every page, API response or export that shows a NIK or KK in full records one
audit event naming the viewer, the time, the screen (`view`) and the ids of the
members and households shown. The event stores ids only, never the numbers.
Masked numbers are not recorded.
"""

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kotacerdas.accounts import audit
from kotacerdas.accounts.models import AuditEvent

# The screens that show NIK or KK unmasked, as recorded in each event's
# `view`, and the label the access log shows for each.
SUBJECT_SCREEN = "registry:privacy_subject"
EXPORT_SCREEN = "registry:privacy_export"
SCREEN_LABELS: dict[str, Promise] = {
    "registry:building_detail": _("Building page"),
    "registry:household_retire": _("Retire a household"),
    "registry:member_edit": _("Edit a member"),
    "registry:scan": _("Plate scan"),
    "api:registry_household": _("Household API"),
    SUBJECT_SCREEN: _("Personal data page"),
    EXPORT_SCREEN: _("Personal data download (JSON)"),
}


def screen_label(view: str) -> str:
    """Return the readable name of a recorded screen, or the code if unknown."""
    label = SCREEN_LABELS.get(view)
    return str(label) if label is not None else view


def record_identity_view(
    user: Any,
    view: str,
    *,
    member_ids: Iterable[int] = (),
    household_ids: Iterable[int] = (),
    request: HttpRequest | None = None,
) -> AuditEvent | None:
    """Record that `user` saw these members' NIK and households' KK unmasked.

    Returns None without recording when no id is given, so callers may pass
    whatever they showed.
    """
    members = sorted(set(member_ids))
    households = sorted(set(household_ids))
    if not members and not households:
        return None
    return audit.record(
        AuditEvent.Kind.IDENTITY_VIEWED,
        user=user if getattr(user, "pk", None) else None,
        request=request,
        detail={"view": view, "member_ids": members, "household_ids": households},
    )


def identity_views(limit: int) -> list[AuditEvent]:
    """Return the latest `limit` unmasked views, newest first."""
    return list(
        AuditEvent.objects.filter(kind=AuditEvent.Kind.IDENTITY_VIEWED)
        .select_related("user")
        .order_by("-at", "-id")[:limit]
    )
