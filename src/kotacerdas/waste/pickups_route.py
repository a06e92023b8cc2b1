"""Today's route of a collector, as the phone page and the API show it."""

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.waste.models import RoutePlan, RouteStop
from kotacerdas.waste.pickups import todays_plans


def _stop_label(stop: RouteStop) -> str:
    if stop.building is not None:
        return stop.building.street_address
    if stop.container is not None:
        return stop.container.name
    return stop.site.name if stop.site is not None else ""


def _stop_plate(stop: RouteStop) -> str:
    if stop.building is not None:
        return stop.building.plate_code
    if stop.container is not None:
        return stop.container.plate_code
    return ""


def stop_data(stop: RouteStop) -> dict[str, Any]:
    return {
        "id": stop.pk,
        "sequence": stop.sequence,
        "trip": stop.trip,
        "kind": stop.kind,
        "kind_label": stop.get_kind_display(),
        "status": stop.status,
        "status_label": stop.get_status_display(),
        "label": _stop_label(stop),
        "plate_code": _stop_plate(stop),
        "lat": str(stop.lat),
        "lng": str(stop.lng),
        "arrival": f"{stop.arrival:%H:%M}" if stop.arrival else None,
    }


def plan_data(plan: RoutePlan) -> dict[str, Any]:
    stops = list(
        plan.stops.exclude(status=RouteStop.Status.CANCELLED)
        .select_related("building", "container", "site")
        .order_by("sequence")
    )
    # Stops the solver could not fit come after the return to the depot, with
    # no arrival time; they are listed apart so they don't read as the route.
    end = next((s.sequence for s in stops if s.kind == RouteStop.Kind.DEPOT_END), None)
    unfitted = [s for s in stops if end is not None and s.sequence > end]
    stops = [s for s in stops if s not in unfitted]
    visits = [
        s
        for s in stops
        if s.kind in (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)
    ]
    return {
        "id": plan.pk,
        "date": plan.date.isoformat(),
        "vehicle": plan.vehicle.plate_number,
        "shift_start": f"{plan.shift_start:%H:%M}",
        "shift_end": f"{plan.shift_end:%H:%M}",
        "status": plan.status,
        "revision": plan.revision,
        "stops": [stop_data(s) for s in stops],
        "unfitted": [stop_data(s) for s in unfitted],
        "unload_sites": sorted(
            {s.site.name for s in stops if s.kind == RouteStop.Kind.UNLOAD and s.site}
        ),
        "visits": len(visits),
        "visited": sum(1 for s in visits if s.status != RouteStop.Status.PLANNED),
    }


def route_data(user: Any, day: date | None = None) -> dict[str, Any]:
    """Return the collector's plans of `day` (today) with their stops in order."""
    day = day or timezone.localdate()
    plans = [plan_data(plan) for plan in todays_plans(user, day)]
    return {
        "date": day.isoformat(),
        "plans": plans,
        "message": "" if plans else _("No route is planned for you today."),
    }
