"""The command center's JSON API under /api/command: figures, series and alerts.

Callers authenticate with an API token or the signed-in session, and need
the `command.view_dashboard` permission, like the dashboard pages. Values are
the raw integers of the dashboard: rupiah, grams, counts, and rates in tenths
of a percent. `as_of_seq` is the sequence number of the last journal entry
folded into the figures (null while none is).
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.command import alerts, figures, panels, projector
from kotacerdas.command.access import PERMISSION
from kotacerdas.command.figures import Period, StoredTallies

router = Router(auth=API_AUTH)

ERRORS = frozenset({401, 403, 422})
MAX_DAYS = 366
Reply = Status[Any]
# Metrics that count what happened on each day, so a daily series of them
# reads directly; cumulative metrics (buildings, wallets) would need a sum.
SeriesMetric = Literal[
    "transfers",
    "transfer_value",
    "levy_payments",
    "pickups",
    "tonnage_g",
    "reports_filed",
    "reports_closed",
]
SERIES_UNITS = {
    "transfers": "count",
    "transfer_value": "rupiah",
    "levy_payments": "rupiah",
    "pickups": "count",
    "tonnage_g": "grams",
    "reports_filed": "count",
    "reports_closed": "count",
}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None


class ErrorOut(Schema):
    error: ErrorDetail


class FigureOut(Schema):
    key: str
    label: str
    section: str = Field(description="registry, money or waste")
    unit: str = Field(
        description="count, rupiah, grams or percent (tenths of a percent)"
    )
    value: int | None = Field(description="null when undefined, e.g. no bills yet")
    as_of_seq: int | None


class KelurahanOut(Schema):
    code: str
    name: str
    buildings: int
    households: int
    plates_installed: int
    levy_billed: int = Field(description="rupiah billed for this month")
    levy_collected: int = Field(description="rupiah paid on this month's bills")
    collection_rate: int | None = Field(
        description="tenths of a percent; null when nothing was billed"
    )
    arrears: int = Field(description="rupiah unpaid on earlier months' bills")
    pickups_today: int
    tonnage_month_g: int
    containers_waiting: int
    reports_open: int


class SeriesQuery(Schema):
    days: int = Field(
        figures.SERIES_DAYS,
        ge=1,
        le=MAX_DAYS,
        description=f"number of days, 1 to {MAX_DAYS}, ending today",
    )


class PointOut(Schema):
    day: date
    value: int


class SeriesOut(Schema):
    metric: str
    unit: str
    days: int
    as_of_seq: int | None
    points: list[PointOut]


class AlertOut(Schema):
    id: str
    kind: str
    label: str
    text: str
    opened_at: datetime
    url: str | None


def _forbidden() -> Reply:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    message = _(
        "Your role does not allow this (it needs the %(permission)s permission)."
    ) % {"permission": PERMISSION}
    return Status(403, error_body("forbidden", message))


def _as_of_seq() -> int | None:
    folded = projector.position()
    return folded - 1 if folded else None


@router.get(
    "/figures",
    response={200: list[FigureOut], ERRORS: ErrorOut},
    summary="Every dashboard figure with its current value",
    url_name="command_figures",
)
def list_figures(request: HttpRequest) -> Reply:
    if not request.user.has_perm(PERMISSION):
        return _forbidden()
    as_of = _as_of_seq()
    rows = [
        {
            "key": figure.key,
            "label": str(figure.definition.label),
            "section": figure.definition.section,
            "unit": figure.definition.unit,
            "value": figure.value,
            "as_of_seq": as_of,
        }
        for figure in figures.compute(StoredTallies())
    ]
    return Status(200, rows)


@router.get(
    "/kelurahan",
    response={200: list[KelurahanOut], ERRORS: ErrorOut},
    summary="The figures of each kelurahan, by name",
    url_name="command_kelurahan",
)
def list_kelurahan(request: HttpRequest) -> Reply:
    if not request.user.has_perm(PERMISSION):
        return _forbidden()
    lines = panels.kelurahan_lines(StoredTallies(), Period.current())
    rows = [
        {
            **line.row.__dict__,
            "name": line.name,
            "collection_rate": line.row.collection_rate,
        }
        for line in lines
    ]
    return Status(200, rows)


@router.get(
    "/series/{metric}",
    response={200: SeriesOut, ERRORS: ErrorOut},
    summary="A metric's total per day over the last `days` days, up to today",
    url_name="command_series",
)
def series(
    request: HttpRequest, metric: SeriesMetric, query: Query[SeriesQuery]
) -> Reply:
    if not request.user.has_perm(PERMISSION):
        return _forbidden()
    points = figures.daily_series(
        StoredTallies(), metric, query.days, timezone.localdate()
    )
    body = {
        "metric": metric,
        "unit": SERIES_UNITS[metric],
        "days": query.days,
        "as_of_seq": _as_of_seq(),
        "points": [{"day": day, "value": value} for day, value in points],
    }
    return Status(200, body)


@router.get(
    "/alerts",
    response={200: list[AlertOut], ERRORS: ErrorOut},
    summary="Open alerts, newest first",
    url_name="command_alerts",
)
def list_alerts(request: HttpRequest) -> Reply:
    if not request.user.has_perm(PERMISSION):
        return _forbidden()
    rows = [
        {
            "id": item.id,
            "kind": item.kind,
            "label": item.label,
            "text": item.text,
            "opened_at": item.at,
            "url": item.url,
        }
        for item in alerts.feed(request.user)
    ]
    return Status(200, rows)
