"""What a day's route plan is made of: the stops, their loads and the places.

A target is one building or container a vehicle must visit, with its expected
load, service time and time window. Loads are estimates:

- A building produces 0.8 kg per person per day, the Padang Panjang city figure,
  for the days since its last collected pickup, at most 7 days. People are the
  active members of the building's active households. A building with no one
  registered counts as one household of 4 persons, the upper end of the 3.5 to
  4 persons per household assumed for the city. Without a past pickup, the days
  are the gap since the schedule's previous service day.
- A container's load is its maximum load times its last fill level, or times
  its fill threshold when no sensor reported a level.

Times are seconds from local midnight, as the routing interface counts them.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from kotacerdas.registry.models import Building, Household, Member
from kotacerdas.waste.models import Container, Pickup, Schedule, Site, Vehicle

KG_PER_PERSON_DAY = Decimal("0.8")
PERSONS_WHEN_UNKNOWN = 4
MAX_DAYS_OF_WASTE = 7
# Seconds at a building: fixed stopping time plus one bin per household.
BUILDING_STOP_S = 30
BUILDING_BIN_S = 30
# Unload sites offered to the solver per route (see `unload_sites`).
UNLOAD_SITES_PER_ROUTE = 3


@dataclass(frozen=True)
class Target:
    """A building or container to visit, keyed "b:<id>" or "c:<id>"."""

    key: str
    lat: Decimal
    lng: Decimal
    demand_kg: int
    service_s: int
    window: tuple[int, int] | None = None

    @property
    def is_building(self) -> bool:
        return self.key.startswith("b:")

    @property
    def object_id(self) -> int:
        return int(self.key[2:])


def seconds_of(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def clock_of(seconds: int) -> time:
    """Return the time of day for seconds from midnight, capped at 23:59:59."""
    seconds = max(0, min(seconds, 24 * 3600 - 1))
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def local_seconds_now() -> int:
    return seconds_of(timezone.localtime().time())


def schedules_on(day: date) -> list[Schedule]:
    """Return the active schedules that serve on `day`, with crew and vehicle."""
    valid = Schedule.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        active=True,
        valid_from__lte=day,
    ).select_related("crew__vehicle__depot", "kelurahan", "unit")
    return [schedule for schedule in valid if day.isoweekday() in schedule.days()]


def days_since_previous_service(schedule: Schedule, day: date) -> int:
    weekday = day.isoweekday()
    gaps = [(weekday - served - 1) % 7 + 1 for served in schedule.days()]
    return min(gaps, default=MAX_DAYS_OF_WASTE)


def area_targets(schedule: Schedule, day: date) -> list[Target]:
    """Return the buildings or TPS containers of the schedule's area."""
    window = (seconds_of(schedule.shift_start), seconds_of(schedule.shift_end))
    if schedule.service == Schedule.Service.CONTAINERS:
        containers = Container.objects.filter(
            kelurahan=schedule.kelurahan, active=True, site__kind=Site.Kind.TPS
        ).select_related("site")
        return [container_target(container) for container in containers]

    buildings = Building.objects.filter(
        kelurahan=schedule.kelurahan,
        status=Building.Status.ACTIVE,
        lat__isnull=False,
        lng__isnull=False,
    )
    if schedule.unit is not None:
        if schedule.unit.rt:
            buildings = buildings.filter(unit=schedule.unit)
        else:
            buildings = buildings.filter(unit__rw=schedule.unit.rw)
    gap_days = days_since_previous_service(schedule, day)
    return building_targets(buildings, day, gap_days, window)


def _with_people(buildings: QuerySet[Building]) -> QuerySet[Building]:
    active_household = Q(households__status=Household.Status.ACTIVE)
    return buildings.annotate(
        household_count=Count("households", filter=active_household, distinct=True),
        person_count=Count(
            "households__members",
            filter=active_household
            & Q(households__members__status=Member.Status.ACTIVE),
            distinct=True,
        ),
        last_collected_at=Max(
            "pickups__scanned_at",
            filter=Q(pickups__outcome=Pickup.Outcome.COLLECTED),
        ),
    )


def building_targets(
    buildings: QuerySet[Building],
    day: date,
    gap_days: int,
    window: tuple[int, int] | None,
) -> list[Target]:
    targets = []
    for building in _with_people(buildings).order_by("id"):
        persons = building.person_count or PERSONS_WHEN_UNKNOWN  # type: ignore[attr-defined]
        days = _days_of_waste(building.last_collected_at, day, gap_days)  # type: ignore[attr-defined]
        demand = math.ceil(persons * KG_PER_PERSON_DAY * days)
        bins = max(building.household_count, 1)  # type: ignore[attr-defined]
        targets.append(
            Target(
                key=f"b:{building.pk}",
                lat=building.lat,  # type: ignore[arg-type]
                lng=building.lng,  # type: ignore[arg-type]
                demand_kg=max(demand, 1),
                service_s=BUILDING_STOP_S + BUILDING_BIN_S * bins,
                window=window,
            )
        )
    return targets


def _days_of_waste(last: datetime | None, day: date, gap_days: int) -> int:
    if last is None:
        return min(gap_days, MAX_DAYS_OF_WASTE)
    days = (day - timezone.localtime(last).date()).days
    return max(1, min(days, MAX_DAYS_OF_WASTE))


def container_target(container: Container) -> Target:
    fill = (
        container.fill_level
        if container.fill_level is not None
        else container.fill_threshold
    )
    site = container.site
    window = None
    if site.opens_at is not None and site.closes_at is not None:
        window = (seconds_of(site.opens_at), seconds_of(site.closes_at))
    return Target(
        key=f"c:{container.pk}",
        lat=container.lat,
        lng=container.lng,
        demand_kg=max(math.ceil(container.max_load_kg * Decimal(fill)), 1),
        service_s=container.service_minutes * 60,
        window=window,
    )


def over_threshold_containers(exclude_keys: Iterable[str]) -> list[Target]:
    """Return active containers at or above their fill threshold, not excluded."""
    excluded = set(exclude_keys)
    full = (
        Container.objects.filter(
            active=True,
            fill_level__isnull=False,
            fill_level__gte=F("fill_threshold"),
        )
        .select_related("site")
        .order_by("id")
    )
    return [
        container_target(container)
        for container in full
        if f"c:{container.pk}" not in excluded
    ]


def unload_sites(vehicle: Vehicle, near: Sequence[Target] = ()) -> list[Site]:
    """Return where a vehicle empties its load: trucks at the TPA, carts at a TPS.

    With `near`, only the UNLOAD_SITES_PER_ROUTE sites closest to the middle of
    those targets are returned, nearest first. Every extra site is one more
    reload depot for the solver, and a city has dozens of TPS, which slows the
    search down a lot while a cart only ever unloads at one near its stops.
    """
    if vehicle.kind == Vehicle.Kind.MOTOR_CART:
        kinds = [Site.Kind.TPS, Site.Kind.TPS3R]
    else:
        kinds = [Site.Kind.TPA]
    sites = list(Site.objects.filter(kind__in=kinds, active=True).order_by("id"))
    if not near or len(sites) <= UNLOAD_SITES_PER_ROUTE:
        return sites
    middle = (
        sum((target.lat for target in near), Decimal(0)) / len(near),
        sum((target.lng for target in near), Decimal(0)) / len(near),
    )
    sites.sort(key=lambda site: distance_km((site.lat, site.lng), middle))
    return sites[:UNLOAD_SITES_PER_ROUTE]


def distance_km(a: tuple[Decimal, Decimal], b: tuple[Decimal, Decimal]) -> float:
    """Return the great-circle distance between two (lat, lng) points in km."""
    lat1, lng1, lat2, lng2 = (math.radians(float(v)) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_index(
    target: Target, homes: Sequence[Sequence[tuple[Decimal, Decimal]]]
) -> int | None:
    """Return the index of the point group closest to `target`, None if empty."""
    best: tuple[float, int] | None = None
    for index, points in enumerate(homes):
        for point in points:
            km = distance_km((target.lat, target.lng), point)
            if best is None or km < best[0]:
                best = (km, index)
    return best[1] if best else None
