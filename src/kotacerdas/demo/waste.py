"""The demo city's waste system: sites, containers, fleet, crews and schedules.

Runs after the demo registry and is added once: a database that already has
waste sites is left as it is. Everything is written through the places
services, so every row is journalled. Points are drawn inside each
kelurahan's boundary with the demo's seeded random generator, so one seed
always gives the same places. Plate codes are random, like building plates.

What is real: TPA Sungai Andok in Kecamatan Padang Panjang Barat and the
seven bank sampah and their kelurahan, as local news reported them. Site
names other than those, vehicle plates and crew names are invented, and
the TPA's point is drawn inside Kampung Manggis, a guess at its location.
"""

import logging
import math
import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count

from kotacerdas.accounts.models import User
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.demo.places import Boundary, Point
from kotacerdas.registry.levy import plate_prefix
from kotacerdas.registry.models import Building
from kotacerdas.waste import places, places_crews
from kotacerdas.waste.models import Site, Vehicle

logger = logging.getLogger(__name__)

MARKET_KELURAHAN = ("Pasar Baru", "Pasar Usang")
TPA_KELURAHAN = "Kampung Manggis"
DEPOT_KELURAHAN = "Silaing Bawah"
TPS3R_KELURAHAN = ("Silaing Bawah", "Koto Panjang", "Ngalau")
# (bank sampah, kelurahan); Sarunai is the city's main bank (bank sampah induk).
WASTE_BANKS = (
    ("Sarunai", "Ekor Lubuk"),
    ("Karabu", "Ganting"),
    ("Teratai", "Silaing Atas"),
    ("Kalikih Kuniang", "Koto Panjang"),
    ("Sakinah", "Guguk Malintang"),
    ("Sungai Andok", "Tanah Hitam"),
    ("Anggrek Bulan", "Pasar Usang"),
)
# Vehicle type: (how many, capacity kg, capacity m³, collectors per crew).
# Capacities are typical of these vehicle types, not a survey of the city's
# fleet. The number of motor carts follows from the buildings (see
# `door_to_door_days`), so 0 here is a placeholder. The two pick-ups have no
# schedule: they stand by for a vehicle that breaks down.
FLEET: dict[str, tuple[int, int, str, int]] = {
    # Two arm-roll trucks empty the market boxes in the morning, two more in the
    # afternoon, when a re-plan can add containers that became full meanwhile.
    Vehicle.Kind.ARM_ROLL: (4, 4000, "6", 2),
    Vehicle.Kind.DUMP_TRUCK: (4, 6000, "8", 3),
    Vehicle.Kind.PICKUP: (2, 1000, "2.5", 2),
    Vehicle.Kind.MOTOR_CART: (0, 300, "1.5", 1),
}
# Door to door: each RT twice a week, on one of these weekday pairs, by a motor
# cart that serves a run of neighbouring RT of one kelurahan each working day.
# A cart-day takes at most this many buildings. The planner estimates about
# 10 kg a building for three or four days of waste, so a full cart-day is about
# 1,200 kg: four or five trips to a TPS with a 300 kg cart.
DOOR_TO_DOOR_WEEKDAYS = ("14", "25", "36")
MAX_BUILDINGS_PER_CART_DAY = 120
DOOR_TO_DOOR_START_HOUR = 6
DOOR_TO_DOOR_HOURS = 5
# Minutes a motor cart needs to tip its load at a TPS; trucks load TPS
# containers, which have their own service time.
TPS_UNLOAD_MINUTES = 10
# The demo user `collector` works on the first arm-roll crew, which empties
# the market TPS containers every day, so the collector page always has a route.
DEMO_COLLECTOR = "collector"
EVERY_DAY = "1234567"
SCHEDULES_START_DAYS_AGO = 28


@dataclass
class WasteSummary:
    """Counts of what the demo waste build wrote."""

    sites: int = 0
    containers: int = 0
    vehicles: int = 0
    crews: int = 0
    schedules: int = 0
    skipped: bool = False

    def result_line(self) -> str:
        if self.skipped:
            return "Waste sites already exist; the demo waste system was left as it is."
        return (
            f"Added {self.sites} waste sites, {self.containers} containers, "
            f"{self.vehicles} vehicles, {self.crews} crews and "
            f"{self.schedules} collection schedules."
        )


def build(seed: int) -> WasteSummary:
    """Add the demo waste system to a city that has none; return the counts."""
    if Site.objects.exists():
        logger.info("demo waste skipped: waste sites already exist")
        return WasteSummary(skipped=True)
    rng = random.Random(f"{seed}:waste")  # noqa: S311  (demo data, not secrets)
    areas = {
        area.name: area
        for area in Area.objects.filter(level=Area.Level.KELURAHAN).order_by("code")
    }
    cart_days = door_to_door_days()
    counts = {kind: spec[0] for kind, spec in FLEET.items()}
    counts[Vehicle.Kind.MOTOR_CART] = math.ceil(
        len(cart_days) / len(DOOR_TO_DOOR_WEEKDAYS)
    )
    collectors = _collector_users(
        sum(counts[kind] * spec[3] for kind, spec in FLEET.items())
    )
    summary = WasteSummary()
    with transaction.atomic(durable=True):
        builder = _Builder(rng, areas, summary)
        builder.sites()
        builder.fleet(counts)
        builder.crews(collectors)
        builder.schedules(cart_days)
    logger.info(
        "built demo waste: %s sites, %s containers, %s vehicles, %s schedules",
        summary.sites,
        summary.containers,
        summary.vehicles,
        summary.schedules,
    )
    return summary


@dataclass
class CartDay:
    """A run of neighbouring RT of one kelurahan that one cart serves in a day."""

    kelurahan: str
    # (RW, RT, active buildings with coordinates), in RW and RT order.
    rts: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def buildings(self) -> int:
        return sum(count for _rw, _rt, count in self.rts)


def door_to_door_days() -> list[CartDay]:
    """Pack the city's RT into cart-days of at most MAX_BUILDINGS_PER_CART_DAY.

    RT are taken in kelurahan, RW and RT order, so a cart-day holds
    neighbouring RT. A cart-day never spans two kelurahan. An RT larger than
    the maximum gets a cart-day of its own.
    """
    rows = (
        Building.objects.filter(
            status=Building.Status.ACTIVE,
            lat__isnull=False,
            lng__isnull=False,
            unit__isnull=False,
        )
        .exclude(unit__rt="")
        .values_list("kelurahan__name", "unit__rw", "unit__rt")
        .annotate(count=Count("id"))
        .order_by("kelurahan__code", "unit__rw", "unit__rt")
    )
    days: list[CartDay] = []
    for kelurahan, rw, rt, count in rows:
        current = days[-1] if days else None
        if (
            current is None
            or current.kelurahan != kelurahan
            or current.buildings + count > MAX_BUILDINGS_PER_CART_DAY
        ):
            current = CartDay(kelurahan)
            days.append(current)
        current.rts.append((rw, rt, count))
    return days


def _collector_users(count: int) -> list[User]:
    """Return `count` collector users: the demo `collector` first, then collector-NN.

    Hashing a password costs a fraction of a second, so all new accounts
    share one hash of the demo password (they share the password anyway).
    """
    users = list(User.objects.filter(username=DEMO_COLLECTOR))
    if not users:
        users.append(
            create_user(
                DEMO_COLLECTOR, settings.KOTACERDAS_DEMO_PASSWORD, ["collector"]
            )
        )
    shared_hash = make_password(settings.KOTACERDAS_DEMO_PASSWORD)
    for number in range(1, count):
        username = f"collector-{number:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(username, None, ["collector"])
            User.objects.filter(pk=user.pk).update(password=shared_hash)
        users.append(user)
    return users


class _Builder:
    def __init__(
        self, rng: random.Random, areas: dict[str, Area], summary: WasteSummary
    ) -> None:
        self.rng = rng
        self.areas = areas
        self.summary = summary
        self.boundaries = {
            name: Boundary(area.boundary)
            for name, area in areas.items()
            if area.boundary
        }
        self.prefix = plate_prefix().lower()
        self.depot: Site | None = None
        self.vehicles: dict[str, list[Vehicle]] = {}
        self.crews_by_kind: dict[str, list[places_crews.Crew]] = {}
        self.tps_count = 0

    def _point(self, kelurahan: str) -> Point:
        return self.boundaries[kelurahan].random_point(self.rng)

    def _site(
        self,
        code: str,
        name: str,
        kind: str,
        kelurahan: str,
        *,
        city_wide: bool = False,
        service_minutes: int = TPS_UNLOAD_MINUTES,
        opens_at: str | None = None,
        closes_at: str | None = None,
    ) -> Site:
        point = self._point(kelurahan)
        site = places.save_site(
            places.SiteInput(
                code=code,
                name=name,
                kind=kind,
                lat=point.lat,
                lng=point.lng,
                kelurahan_code="" if city_wide else self.areas[kelurahan].code,
                service_minutes=service_minutes,
                opens_at=opens_at,
                closes_at=closes_at,
            )
        )
        self.summary.sites += 1
        return site

    def sites(self) -> None:
        self._site(
            "tpa-sungai-andok", "TPA Sungai Andok", Site.Kind.TPA, TPA_KELURAHAN,
            city_wide=True, service_minutes=20, opens_at="06:00", closes_at="18:00",
        )  # fmt: skip
        self.depot = self._site(
            "depot-dlh", "Depot DLH Padang Panjang", Site.Kind.DEPOT, DEPOT_KELURAHAN,
            city_wide=True, service_minutes=10,
        )  # fmt: skip
        for index, kelurahan in enumerate(TPS3R_KELURAHAN, start=1):
            self._site(
                f"tps3r-{index}", f"TPS 3R {kelurahan}", Site.Kind.TPS3R, kelurahan,
                service_minutes=20,
            )  # fmt: skip
        for name, kelurahan in WASTE_BANKS:
            # NOTE: Sarunai opens on Saturdays only, but a site stores
            # opening hours without weekdays.
            hours = ("08:00", "14:00") if name == "Sarunai" else (None, None)
            self._site(
                f"bank-sampah-{name.lower().replace(' ', '-')}", f"Bank Sampah {name}",
                Site.Kind.WASTE_BANK, kelurahan, opens_at=hours[0], closes_at=hours[1],
            )  # fmt: skip
        for kelurahan in self.areas:
            market = kelurahan in MARKET_KELURAHAN
            for number in range(1, (4 if market else self.rng.randint(1, 2)) + 1):
                self._tps(kelurahan, number, market)

    def _tps(self, kelurahan: str, number: int, market: bool) -> None:
        self.tps_count += 1
        slug = kelurahan.lower().replace(" ", "-")
        site = self._site(
            f"tps-{slug}-{number}",
            f"TPS {kelurahan} {number}",
            Site.Kind.TPS,
            kelurahan,
        )
        for bin_number in range(1, (1 if market else self.rng.randint(1, 2)) + 1):
            # A market TPS has one arm-roll box, which the market's arm-roll
            # truck takes to the TPA every day; elsewhere smaller masonry or
            # steel bins.
            volume, load = (
                ("6", 2500) if market else (self.rng.choice(("1", "1.5", "2")), 600)
            )
            places.save_container(
                places.ContainerInput(
                    site_id=site.pk,
                    name=f"{site.name} / {bin_number}",
                    volume_m3=volume,
                    max_load_kg=load,
                    sensor_id=f"{self.prefix}-tps-{self.tps_count}-{bin_number}",
                )
            )
            self.summary.containers += 1

    def fleet(self, counts: dict[str, int]) -> None:
        assert self.depot is not None
        number = 8100
        for kind, (_count, capacity_kg, capacity_m3, _crew) in FLEET.items():
            for _ in range(counts[kind]):
                number += self.rng.randint(1, 40)
                vehicle = places.save_vehicle(
                    places.VehicleInput(
                        plate_number=f"BA {number} P{self.rng.choice('ABCDEFGH')}",
                        kind=kind,
                        capacity_kg=capacity_kg,
                        capacity_m3=capacity_m3,
                        depot_id=self.depot.pk,
                    )
                )
                self.vehicles.setdefault(kind, []).append(vehicle)
                self.summary.vehicles += 1

    def crews(self, collectors: list[User]) -> None:
        pool = iter(collectors)
        labels: dict[str, str] = {
            Vehicle.Kind.ARM_ROLL: "Arm-roll",
            Vehicle.Kind.DUMP_TRUCK: "Truk",
            Vehicle.Kind.PICKUP: "Pick-up",
            Vehicle.Kind.MOTOR_CART: "Motor",
        }
        for kind, vehicles in self.vehicles.items():
            size = FLEET[kind][3]
            for index, vehicle in enumerate(vehicles, start=1):
                members = [next(pool).pk for _ in range(size)]
                crew = places_crews.save_crew(
                    places_crews.CrewInput(
                        name=f"Tim {labels[kind]} {index}",
                        vehicle_id=vehicle.pk,
                        member_ids=members,
                    )
                )
                self.crews_by_kind.setdefault(kind, []).append(crew)
                self.summary.crews += 1

    def _schedule(
        self,
        crew: places_crews.Crew,
        kelurahan: str,
        service: str,
        weekdays: str,
        start: time,
        end: time,
        *,
        rw: str = "",
        rt: str = "",
    ) -> None:
        places_crews.save_schedule(
            places_crews.ScheduleInput(
                kelurahan_code=self.areas[kelurahan].code,
                weekdays=weekdays,
                shift_start=start,
                shift_end=end,
                crew_id=crew.pk,
                service=service,
                rw=rw,
                rt=rt,
                valid_from=date.today() - timedelta(days=SCHEDULES_START_DAYS_AGO),
            )
        )
        self.summary.schedules += 1

    def schedules(self, cart_days: list[CartDay]) -> None:
        """Door to door twice a week per RT; market containers daily; TPS thrice.

        Cart-day k goes to cart k // 3 on the weekday pair k % 3, so a cart
        serves neighbouring RT on Monday and Thursday, Tuesday and Friday, and
        Wednesday and Saturday. Its five-hour shift is split into one
        consecutive time slot per RT, as long as the RT's share of the
        cart-day's buildings. A crew cannot have two schedules at the same
        hour, and residents then know when their RT is collected. Each market's
        boxes are emptied every day by one arm-roll truck in the morning and
        another in the afternoon.
        Dump trucks empty the other TPS three days a week in three-hour shifts.
        """
        carts = self.crews_by_kind.get(Vehicle.Kind.MOTOR_CART, [])
        pairs = len(DOOR_TO_DOOR_WEEKDAYS)
        for index, cart_day in enumerate(cart_days):
            crew = carts[index // pairs]
            weekdays = DOOR_TO_DOOR_WEEKDAYS[index % pairs]
            for (rw, rt, _count), (start, end) in zip(
                cart_day.rts, _rt_slots(cart_day), strict=True
            ):
                self._schedule(
                    crew, cart_day.kelurahan, "door_to_door", weekdays, start, end,
                    rw=rw, rt=rt,
                )  # fmt: skip
        arm_rolls = self.crews_by_kind[Vehicle.Kind.ARM_ROLL]
        markets = len(MARKET_KELURAHAN)
        for crew, kelurahan in zip(arm_rolls[:markets], MARKET_KELURAHAN, strict=True):
            self._schedule(crew, kelurahan, "containers", EVERY_DAY, time(5), time(10))
        for crew, kelurahan in zip(arm_rolls[markets:], MARKET_KELURAHAN, strict=True):
            self._schedule(
                crew, kelurahan, "containers", EVERY_DAY, time(13), time(17, 30)
            )
        trucks = self.crews_by_kind[Vehicle.Kind.DUMP_TRUCK]
        others = [name for name in self.areas if name not in MARKET_KELURAHAN]
        for index, kelurahan in enumerate(others):
            turn = index // len(trucks)
            weekdays = "135" if turn % 2 == 0 else "246"
            start_hour = 7 + 3 * (turn // 2)
            self._schedule(
                trucks[index % len(trucks)],
                kelurahan,
                "containers",
                weekdays,
                time(start_hour),
                time(start_hour + 3),
            )


def _rt_slots(cart_day: CartDay) -> list[tuple[time, time]]:
    """Split the door-to-door shift into one slot per RT, by share of buildings."""
    shift_min = DOOR_TO_DOOR_HOURS * 60
    total = cart_day.buildings
    slots = []
    start_min = 0
    done = 0
    for position, (_rw, _rt, count) in enumerate(cart_day.rts, start=1):
        done += count
        end_min = round(shift_min * done / total)
        if position == len(cart_day.rts):
            end_min = shift_min
        # Every slot lasts at least one minute, so no two slots overlap.
        end_min = max(end_min, start_min + 1)
        slots.append((_clock(start_min), _clock(end_min)))
        start_min = end_min
    return slots


def _clock(shift_minute: int) -> time:
    minutes = DOOR_TO_DOOR_START_HOUR * 60 + shift_minute
    return time(minutes // 60, minutes % 60)
