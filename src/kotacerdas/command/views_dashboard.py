"""The command center's dashboard, its live fragments and the wall mode.

The page polls two fragments with HTMX: `figures` (the figure cards, ledger
panel, charts and tables) and `alerts`. The wall mode shows the same
fragments in large panels that rotate, with no navigation or controls.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kotacerdas.command import alerts, charts, figures, ledger_panel, panels
from kotacerdas.command.access import dashboard_view
from kotacerdas.command.figures import Period, StoredTallies
from kotacerdas.command.views_map import map_context

ROTATE_DEFAULT_S = 20
ROTATE_MIN_S = 2
ROTATE_MAX_S = 600
FIGURES_POLL_S = 15
DETAILS_POLL_S = 30
ALERTS_POLL_S = 10
# On the wall the alerts panel is on screen for one turn of the rotation, so
# an alert stays marked new this long there, not only until the next poll.
WALL_NEW_FOR = timedelta(minutes=5)
# The parts of the figures fragment, each polled by its own region of a page.
PARTS = ("summary", "details", "wall")
# The figures the wall's first panel shows, in order, after today's route progress.
# Containers above their threshold come from the live alerts there, not from
# the rollups, because a wall should not show two counts of the same thing.
WALL_FIGURES = (
    "pickups_today",
    "tonnage_today",
    "reports_overdue",
    "levy_collected_month",
    "collection_rate",
    "transfers_today",
    "pickups_flagged",
)


def summary_context() -> dict[str, Any]:
    """Build the figure cards, live sensor counts, ledger panel and freshness line."""
    computed = figures.compute(StoredTallies())
    return {
        "sections": panels.figure_sections(computed),
        "live": panels.live_counts(),
        "ledger": ledger_panel.ledger_summary(),
        "freshness": panels.freshness(),
    }


def wall_context(summary: dict[str, Any]) -> dict[str, Any]:
    """Pick the wall's headline figures from the summary's sections."""
    rows = {row.key: row for section in summary["sections"] for row in section.rows}
    return {
        "wall_rows": [rows[key] for key in WALL_FIGURES],
        "route_done": rows["stops_done_today"],
        "route_planned": rows["stops_planned_today"],
    }


def details_context(request: HttpRequest) -> dict[str, Any]:
    """Build the charts and tables: routes, tonnage, reports and per kelurahan."""
    tallies = StoredTallies()
    period = Period.current()
    routes = panels.routes_today(tallies, period, request.user)
    lines = panels.kelurahan_lines(tallies, period)
    return {
        "routes": routes,
        "tonnage": panels.tonnage_by_group(tallies, period),
        "report_ages": panels.report_ages(tallies, period),
        "age_labels": panels.age_bucket_labels(),
        "kelurahan_lines": lines,
        "charts": [
            charts.transactions_chart(tallies, period),
            charts.waste_chart(tallies, period),
            charts.collection_rate_chart(lines),
            charts.routes_chart(routes),
        ],
    }


def alerts_context(request: HttpRequest, wall: bool = False) -> dict[str, Any]:
    since = alerts.parse_since(request.GET.get("since"))
    now = timezone.now()
    return {
        "alerts": alerts.feed(request.user, since),
        "alerts_open": alerts.open_count(),
        # The next poll marks alerts opened after this time as new.
        "polled_at": now - WALL_NEW_FOR if wall else now,
        "alerts_poll_s": ALERTS_POLL_S,
    }


def report_form_url() -> str | None:
    """Return the monthly report's month picker URL, or None while it does not exist."""
    try:
        return reverse("command:report_form")
    except NoReverseMatch:
        return None


@never_cache
@require_GET
@dashboard_view
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **summary_context(),
        **details_context(request),
        **alerts_context(request),
        **map_context(),
        "figures_poll_s": FIGURES_POLL_S,
        "details_poll_s": DETAILS_POLL_S,
        "report_month": timezone.localdate().strftime("%Y-%m"),
        "report_form_url": report_form_url(),
    }
    return render(request, "command/dashboard.html", context)


@never_cache
@require_GET
@dashboard_view
def figures_fragment(request: HttpRequest) -> HttpResponse:
    """Serve one part of the live figures: summary (default), details or wall."""
    part = request.GET.get("part", "summary")
    if part not in PARTS:
        part = "summary"
    context: dict[str, Any] = {}
    if part in ("summary", "wall"):
        context.update(summary_context())
    if part in ("details", "wall"):
        context.update(details_context(request))
    if part == "wall":
        context.update(wall_context(context))
    return render(request, f"command/_{part}.html", context)


@never_cache
@require_GET
@dashboard_view
def alerts_fragment(request: HttpRequest) -> HttpResponse:
    """Serve the alert feed, marking alerts opened after `?since=` as new."""
    wall = request.GET.get("view") == "wall"
    context = {**alerts_context(request, wall), "wall": wall}
    return render(request, "command/_alerts.html", context)


def rotate_seconds(text: str | None) -> int:
    """Parse `?rotate=SECONDS` within bounds, or return the default when invalid."""
    try:
        seconds = int(text or ROTATE_DEFAULT_S)
    except ValueError:
        return ROTATE_DEFAULT_S
    return min(max(seconds, ROTATE_MIN_S), ROTATE_MAX_S)


@never_cache
@require_GET
@dashboard_view
def wall(request: HttpRequest) -> HttpResponse:
    summary = summary_context()
    context = {
        **summary,
        **wall_context(summary),
        **details_context(request),
        **alerts_context(request, wall=True),
        **map_context(),
        "wall": True,
        "rotate_s": rotate_seconds(request.GET.get("rotate")),
        "time_zone": settings.TIME_ZONE,
        "figures_poll_s": FIGURES_POLL_S,
    }
    return render(request, "command/wall.html", context)
