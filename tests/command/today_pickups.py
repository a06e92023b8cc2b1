"""Pickups of today for tests on the demo city, at any hour of the day."""

from django.utils import timezone

from kotacerdas.registry.services import current_plate
from kotacerdas.waste.models import Pickup, RouteStop
from kotacerdas.waste.pickups import PickupInput, record_pickup


def scan_stops_of_today(at_least: int = 12) -> None:
    """Record pickups of today's stops, scanned now, until today has `at_least`.

    The demo records today's stops as their planned arrival passes, so a
    build before the first arrival has no pickup of today to count. The
    first building stop and the first container stop come first, so both
    kinds are seen when today's plans have them.
    """
    today = timezone.localdate()
    open_stops = (
        RouteStop.objects.filter(plan__date=today, status=RouteStop.Status.PLANNED)
        .exclude(plan__crew=None)
        .select_related("plan__crew", "building", "container")
        .order_by("arrival", "id")
    )
    firsts = [
        open_stops.filter(kind=kind).first()
        for kind in (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)
        if not Pickup.objects.filter(plan__date=today, stop__kind=kind).exists()
    ]
    others = open_stops.filter(
        kind__in=(RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)
    )[:at_least]
    for stop in [first for first in firsts if first is not None] + list(others):
        if Pickup.objects.filter(plan__date=today).count() >= at_least:
            break
        if Pickup.objects.filter(stop=stop).exists():
            continue
        _scan_now(stop)
    assert Pickup.objects.filter(plan__date=today).exists()


def _scan_now(stop: RouteStop) -> None:
    if stop.building is not None:
        plate = current_plate(stop.building).code
    else:
        plate = stop.container.plate_code
    request = PickupInput(
        client_id=f"test-today-{stop.pk}",
        plate=plate,
        outcome=Pickup.Outcome.COLLECTED,
        scanned_at=timezone.now(),
        lat=str(stop.lat),
        lng=str(stop.lng),
        accuracy_m=5,
        weight_kg="3.5",
    )
    record_pickup(request, stop.plan.crew.members.order_by("id").first())
