"""The dashboard's alert feed: open waste alerts and unresolved verify failures.

Waste alerts (a container above its threshold, a silent sensor, a flagged
pickup, a broken-down vehicle, a report past its SLA) are the waste app's
open `Alert` rows. A failed `ledger verify` run stays in the feed until a
later run passes. Texts carry ids, container names and vehicle plates, never
a person's name or address.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kotacerdas.accounts.models import User
from kotacerdas.command import display
from kotacerdas.journal.models import VerifyRun
from kotacerdas.waste.models import Alert
from kotacerdas.waste.reports.models import Kind as ReportKind

LIMIT = 30
PROBLEM_CHARS = 200
VERIFY_FAILED = "verify_failed"

Viewer = User | AnonymousUser


@dataclass(frozen=True)
class AlertItem:
    """One line of the alert feed."""

    id: str  # unique on the page: "waste-12" or "verify-3"
    kind: str
    label: str
    text: str
    at: datetime
    url: str | None
    new: bool = False


def parse_since(text: str | None) -> datetime | None:
    """Parse the `since` time of the previous poll, or return None when invalid."""
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment


def feed(
    user: Viewer, since: datetime | None = None, limit: int = LIMIT
) -> list[AlertItem]:
    """Return the newest open alerts first, marking those opened after `since`."""
    items = [*_waste_items(user, limit), *_verify_items(limit)]
    items.sort(key=lambda item: item.at, reverse=True)
    items = items[:limit]
    if since is None:
        return items
    return [AlertItem(**{**item.__dict__, "new": item.at > since}) for item in items]


def open_count() -> int:
    """Count every open alert, also those past the feed's limit."""
    return Alert.objects.filter(cleared_at__isnull=True).count() + len(
        _unresolved_failures()
    )


# ------------------------------------------------------------------ waste


def _waste_items(user: Viewer, limit: int) -> list[AlertItem]:
    alerts = (
        Alert.objects.filter(cleared_at__isnull=True)
        .select_related("container", "vehicle")
        .order_by("-opened_at")[:limit]
    )
    return [
        AlertItem(
            id=f"waste-{alert.pk}",
            kind=alert.kind,
            label=alert.get_kind_display(),
            text=_waste_text(alert),
            at=alert.opened_at,
            url=_waste_url(alert, user),
        )
        for alert in alerts
    ]


def _percent(text: Any) -> str:
    """Format a fill ratio stored as a string ("0.86") as a percentage."""
    try:
        ratio = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return display.MISSING
    return display.percent_tenths(int(ratio * 1000))


def _waste_text(alert: Alert) -> str:
    details = alert.details or {}
    container = alert.container.name if alert.container else ""
    if alert.kind == Alert.Kind.FILL_THRESHOLD:
        return _("%(container)s is %(fill)s full (threshold %(threshold)s)") % {
            "container": container,
            "fill": _percent(details.get("fill_level")),
            "threshold": _percent(details.get("threshold")),
        }
    if alert.kind == Alert.Kind.SENSOR_SILENT:
        return _("%(container)s: no reading for a while (live, not on the journal)") % {
            "container": container
        }
    if alert.kind == Alert.Kind.PICKUP_FLAGGED:
        return _("Pickup %(id)s was scanned %(distance)s m from its plate") % {
            "id": alert.pickup_id or display.MISSING,
            "distance": details.get("distance_m", display.MISSING),
        }
    if alert.kind == Alert.Kind.VEHICLE_BROKEN:
        plate = alert.vehicle.plate_number if alert.vehicle else ""
        return _("Vehicle %(plate)s broke down") % {"plate": plate}
    if alert.kind == Alert.Kind.REPORT_OVERDUE:
        kind = details.get("report_kind", "")
        label = ReportKind(kind).label if kind in ReportKind.values else kind
        return _("Report %(id)s (%(kind)s) is past its SLA") % {
            "id": _report_id(alert) or display.MISSING,
            "kind": label,
        }
    return str(alert.get_kind_display())


def _report_id(alert: Alert) -> int | None:
    """Return the report id of a subject "wastereports.report:<id>"."""
    prefix, _colon, ref = alert.subject.partition(":")
    if prefix == "wastereports.report" and ref.isdecimal():
        return int(ref)
    return None


def _waste_url(alert: Alert, user: Viewer) -> str | None:
    """Return the page where staff act on the alert, if the user may open it."""
    kind = alert.kind
    if kind in (Alert.Kind.FILL_THRESHOLD, Alert.Kind.SENSOR_SILENT):
        if user.has_perm("waste.view_waste"):
            return reverse("waste:container_fill_levels")
    elif kind == Alert.Kind.PICKUP_FLAGGED:
        if user.has_perm("waste.review_pickup"):
            return reverse("waste:pickup_review")
        list_url = reverse("command:list", kwargs={"name": "pickups"})
        return f"{list_url}?review=pending"
    elif kind == Alert.Kind.VEHICLE_BROKEN:
        if user.has_perm("waste.view_waste"):
            return reverse("waste:route_list")
    elif kind == Alert.Kind.REPORT_OVERDUE:
        report_id = _report_id(alert)
        if report_id is not None and user.has_perm("wastereports.view_report"):
            return reverse("wastereports:detail", kwargs={"report_id": report_id})
    return None


# ----------------------------------------------------------------- verify


def _unresolved_failures(limit: int = LIMIT) -> list[VerifyRun]:
    """Return failed verify runs newer than the last passing run, newest first."""
    runs = VerifyRun.objects.filter(ok=False)
    last_ok = VerifyRun.objects.filter(ok=True).order_by("-started_at").first()
    if last_ok is not None:
        runs = runs.filter(started_at__gt=last_ok.started_at)
    return list(runs.order_by("-started_at")[:limit])


def _verify_items(limit: int) -> list[AlertItem]:
    return [
        AlertItem(
            id=f"verify-{run.pk}",
            kind=VERIFY_FAILED,
            label=_("Ledger verification failed"),
            text=run.first_problem[:PROBLEM_CHARS]
            or _("%(count)s entries checked") % {"count": run.entries_checked},
            at=run.finished_at,
            url=reverse("journal:status"),
        )
        for run in _unresolved_failures(limit)
    ]
