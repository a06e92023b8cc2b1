"""Route pages: the day's plans, one route with its map, plan and re-plan.

Staff with waste.view_waste read every route; a collector reads the routes of
their own crew. Planning and re-planning need waste.plan_routes. Both solve in
the request, so a click waits up to KOTACERDAS_ROUTING_TIME_LIMIT_S seconds.
"""

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kotacerdas.city.models import City
from kotacerdas.registry.codes import InvalidCode, normalize_plate_code
from kotacerdas.registry.models import Building
from kotacerdas.waste.models import Container, RoutePlan, RouteStop
from kotacerdas.waste.planning import ROUTE_KINDS, PlanningInvalid, plan_day
from kotacerdas.waste.planning_replan import replan

logger = logging.getLogger(__name__)


def _day(request: HttpRequest) -> date:
    text = request.GET.get("date") or request.POST.get("date") or ""
    if not text:
        return timezone.localdate()
    try:
        return date.fromisoformat(text)
    except ValueError:
        messages.error(
            request,
            _("%(value)s is not a date; use YYYY-MM-DD. Showing today.")
            % {"value": text[:20]},
        )
        return timezone.localdate()


def _can_read(request: HttpRequest, plan: RoutePlan) -> bool:
    user = request.user
    if user.has_perm("waste.view_waste"):
        return True
    crew = plan.crew
    return crew is not None and crew.members.filter(pk=user.pk or 0).exists()


def plan_for(request: HttpRequest, plan_id: int) -> RoutePlan:
    plan = get_object_or_404(
        RoutePlan.objects.select_related("vehicle__depot", "crew"), pk=plan_id
    )
    if not _can_read(request, plan):
        raise PermissionDenied
    return plan


@login_required
@permission_required("waste.view_waste", raise_exception=True)
def route_list(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    point_stops = Q(stops__kind__in=ROUTE_KINDS) & ~Q(
        stops__status=RouteStop.Status.CANCELLED
    )
    plans = (
        RoutePlan.objects.filter(date=day)
        .select_related("vehicle", "crew")
        .annotate(
            stop_total=Count("stops", filter=point_stops),
            stop_done=Count(
                "stops",
                filter=point_stops
                & Q(
                    stops__status__in=[
                        RouteStop.Status.DONE,
                        RouteStop.Status.EXCEPTION,
                    ]
                ),
            ),
        )
        .order_by("vehicle__plate_number")
    )
    context = {"day": day, "plans": plans}
    return render(request, "waste/routes/list.html", context)


@login_required
@permission_required("waste.plan_routes", raise_exception=True)
@require_POST
def route_plan_day(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    plans = plan_day(day, actor=request.user)
    messages.success(
        request,
        _("%(count)s routes planned for %(day)s.")
        % {"count": len(plans), "day": day.isoformat()},
    )
    for skipped in plans.skipped:
        messages.warning(
            request,
            _("Crew %(crew)s got no route: %(reason)s.")
            % {"crew": skipped.crew_id, "reason": skipped.message},
        )
    return redirect(f"{reverse('waste:route_list')}?date={day.isoformat()}")


def _map_stops(stops: list[RouteStop]) -> list[dict[str, Any]]:
    return [
        {
            "sequence": stop.sequence,
            "kind": stop.kind,
            "status": stop.status,
            "lat": float(stop.lat),
            "lng": float(stop.lng),
            "arrival": stop.arrival.strftime("%H:%M") if stop.arrival else "",
            "label": _stop_label(stop),
        }
        for stop in stops
        if stop.arrival is not None
    ]


def stop_place(stop: RouteStop) -> tuple[str, str]:
    """Return the plate code and the street address or name shown for a stop."""
    if stop.building is not None:
        return stop.building.plate_code, stop.building.street_address
    if stop.container is not None:
        return stop.container.plate_code, stop.container.name
    return "", stop.site.name if stop.site else ""


def _stop_label(stop: RouteStop) -> str:
    return " ".join(part for part in stop_place(stop) if part)


def route_stops(plan: RoutePlan) -> list[RouteStop]:
    """Return the plan's live stops in order, with what they point at."""
    return list(
        plan.stops.exclude(status=RouteStop.Status.CANCELLED)
        .select_related("building", "container__site", "site")
        .order_by("sequence")
    )


@login_required
def route_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_for(request, plan_id)
    stops = route_stops(plan)
    city = City.objects.order_by("id").first()
    context = {
        "plan": plan,
        "stops": [s for s in stops if s.arrival is not None],
        "not_fitted": [s for s in stops if s.arrival is None],
        "cancelled_count": plan.stops.filter(status=RouteStop.Status.CANCELLED).count(),
        "map_stops": _map_stops(stops),
        "center": [city.center_lat, city.center_lng] if city else [0, 0],
        "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
        "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
        "can_plan": request.user.has_perm("waste.plan_routes"),
    }
    return render(request, "waste/routes/detail.html", context)


def _added_point(typed: str) -> Building | Container:
    """Return the building or container whose plate code was typed."""
    try:
        code = normalize_plate_code(typed)
    except InvalidCode as error:
        raise PlanningInvalid("plate_code", str(error.args[-1])) from None
    point = (
        Container.objects.select_related("site").filter(plate_code=code).first()
        or Building.objects.filter(plate_code=code).first()
    )
    if point is None:
        raise PlanningInvalid(
            "plate_code",
            _("No building or container has plate %(code)s. Check the code.")
            % {"code": code},
        )
    return point


@login_required
@permission_required("waste.plan_routes", raise_exception=True)
@require_POST
def route_replan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_for(request, plan_id)
    typed_code = request.POST.get("plate_code", "").strip()
    try:
        added = [_added_point(typed_code)] if typed_code else []
        result = replan(
            plan,
            reason=request.POST.get("reason", ""),
            added_points=added,
            vehicle_broken=request.POST.get("vehicle_broken") == "on",
            expected_revision=_revision(request),
            actor=request.user,
        )
    except PlanningInvalid as error:
        messages.error(request, error.message)
        return redirect("waste:route_detail", plan_id=plan.pk)

    messages.success(
        request, _("Re-planned %(count)s routes.") % {"count": len(result.plans)}
    )
    if request.POST.get("vehicle_broken") == "on":
        messages.info(
            request,
            _(
                "Vehicle %(vehicle)s is marked broken down and has an open "
                "breakdown alert. Set it back to parked on its page once it is "
                "repaired."
            )
            % {"vehicle": plan.vehicle.plate_number},
        )
    if result.unassigned:
        messages.warning(
            request,
            _("%(count)s stops could not be fitted into any route; see the list.")
            % {"count": len(result.unassigned)},
        )
    return redirect("waste:route_detail", plan_id=plan.pk)


def _revision(request: HttpRequest) -> int | None:
    text = request.POST.get("revision", "")
    return int(text) if text.isdecimal() else None


@login_required
def my_route(request: HttpRequest) -> HttpResponse:
    """Open today's route of the signed-in collector's crew."""
    plan = (
        RoutePlan.objects.filter(
            date=timezone.localdate(), crew__members=request.user.pk or 0
        )
        .exclude(status=RoutePlan.Status.CANCELLED)
        .first()
    )
    if plan is None:
        return render(request, "waste/routes/none_today.html", status=404)
    return redirect("waste:route_detail", plan_id=plan.pk)
