"""The demo city generator: a stream of buildings with their households.

The city is laid out kelurahan by kelurahan. Each kelurahan's households are
grouped into RT of 25 to 45 households and RT into RW of 3 to 8 RT, as
kelurahan offices group them. An RW has a centre drawn inside the
kelurahan's polygon, its RT cluster around it, and an RT's buildings cluster
around the RT's centre, so neighbours share RT numbers and streets. Every
random choice comes from generators seeded with the seed and the kelurahan
code, so one seed always gives the same city, whatever the batch size.
"""

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from kotacerdas.city.models import Area
from kotacerdas.demo import buildings as fabric_rules
from kotacerdas.demo.identity import IdentityNumbers, phone_number
from kotacerdas.demo.names import person_name, street_names
from kotacerdas.demo.places import Boundary, Point, distance_m
from kotacerdas.demo.population import (
    REFERENCE_DATE,
    AreaFigures,
    PopulationUnknown,
    apportion,
    household_people,
    household_sizes,
    people_per_kelurahan,
)
from kotacerdas.registry.models import Building, Member
from kotacerdas.registry.services import CleanBuilding, CleanMember

# People in each demo size; `city` is the population in the city profile.
SIZES: dict[str, int | None] = {"small": 400, "city": None, "large": 1_000_000}
DEFAULT_SEED = 1374
# Even the smallest demo gets one household in every kelurahan.
MIN_PEOPLE_PER_KELURAHAN = 4
# Kelurahan whose centre is a market (Pasar Baru, Pasar Usang in Padang Panjang).
MARKET_KELURAHAN_CODES = ("13.74.02.1006", "13.74.02.1002")
HOUSEHOLDS_PER_RT = (25, 45)
RT_PER_RW = (3, 8)
MAX_UNIT_NUMBER = 999  # RT and RW numbers have three digits
# Share of people whose NIK was first issued in the city's other kecamatan.
NIK_FROM_OTHER_KECAMATAN = 0.15
# Share of members aged 17 or more with a phone number, head first.
PHONE_SHARE: dict[str, float] = {
    Member.Relation.HEAD: 0.8,
    Member.Relation.SPOUSE: 0.65,
}
PHONE_SHARE_OTHERS = 0.45
KK_EARLIEST_ISSUE = date(2005, 1, 1)
T = TypeVar("T")


class DemoError(ValueError):
    """The demo city cannot be built. The message names the cause and the fix."""


@dataclass
class DemoHousehold:
    kk_number: str
    members: tuple[CleanMember, ...]


@dataclass
class DemoBuilding:
    building: CleanBuilding
    households: list[DemoHousehold] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(len(household.members) for household in self.households)


@dataclass
class KelurahanPlan:
    area: Area
    people: int
    boundary: Boundary


def plan_city(size: str) -> list[KelurahanPlan]:
    """Return each kelurahan of the loaded city with the people it gets.

    Raises DemoError when the size is unknown, no city is loaded, or a
    kelurahan has no boundary or population to work from.
    """
    if size not in SIZES:
        raise DemoError(f"unknown demo size {size!r}; use one of {', '.join(SIZES)}")
    areas = list(Area.objects.select_related("parent").order_by("code"))
    villages = [area for area in areas if area.level != Area.Level.KECAMATAN]
    if not villages:
        raise DemoError(
            "no city is loaded; run `kotacerdas city load padang-panjang` first"
        )
    try:
        people = people_per_kelurahan(
            [_figures(area) for area in villages],
            [_figures(area) for area in areas if area.level == Area.Level.KECAMATAN],
        )
    except PopulationUnknown as error:
        raise DemoError(f"cannot size the demo city: {error}") from error
    counts = [people[area.code] for area in villages]
    target = SIZES[size] or sum(counts)
    if target != sum(counts):
        counts = apportion(target, counts)
    return [
        KelurahanPlan(area, max(MIN_PEOPLE_PER_KELURAHAN, count), _boundary(area))
        for area, count in zip(villages, counts, strict=True)
    ]


def _figures(area: Area) -> AreaFigures:
    parent_code = area.parent.code if area.parent else ""
    return AreaFigures(area.code, parent_code, area.population, area.area_ha)


def _boundary(area: Area) -> Boundary:
    if not area.boundary:
        raise DemoError(
            f"kelurahan {area.code} has no boundary polygon to place buildings in"
        )
    try:
        return Boundary(area.boundary)
    except (ValueError, TypeError, AttributeError) as error:
        raise DemoError(
            f"the boundary of kelurahan {area.code} is invalid: {error}"
        ) from error


def generate_city(plans: Sequence[KelurahanPlan], seed: int) -> Iterator[DemoBuilding]:
    """Yield the buildings of the whole city, kelurahan by kelurahan."""
    numbers = IdentityNumbers(random.Random(f"{seed}:numbers"))  # noqa: S311
    markets = [
        Point(plan.area.centroid_lat, plan.area.centroid_lng)
        for plan in plans
        if plan.area.code in MARKET_KELURAHAN_CODES
        and plan.area.centroid_lat is not None
        and plan.area.centroid_lng is not None
    ]
    kecamatan_codes = sorted(
        {plan.area.parent.compact_code for plan in plans if plan.area.parent}
    )
    for plan in plans:
        # Demo data, not secrets: a seeded generator is the point.
        rng = random.Random(f"{seed}:{plan.area.code}")  # noqa: S311
        kelurahan = _Kelurahan(plan, rng, numbers, markets, kecamatan_codes)
        yield from kelurahan.buildings()


class _Kelurahan:
    def __init__(
        self,
        plan: KelurahanPlan,
        rng: random.Random,
        numbers: IdentityNumbers,
        markets: list[Point],
        kecamatan_codes: list[str],
    ) -> None:
        self.area = plan.area
        self.plan = plan
        self.rng = rng
        self.numbers = numbers
        self.markets = markets
        assert plan.area.parent is not None
        self.kecamatan_code = plan.area.parent.compact_code
        self.other_kecamatan = [c for c in kecamatan_codes if c != self.kecamatan_code]
        self.house_numbers: dict[str, int] = {}

    def buildings(self) -> Iterator[DemoBuilding]:
        rng, boundary = self.rng, self.plan.boundary
        sizes = household_sizes(rng, self.plan.people)
        rts = _split(rng, sizes, HOUSEHOLDS_PER_RT)
        rws = _split(rng, rts, RT_PER_RW)
        if len(rws) > MAX_UNIT_NUMBER:
            raise DemoError(
                f"kelurahan {self.area.code} would need {len(rws)} RW, "
                f"more than {MAX_UNIT_NUMBER}; choose a smaller demo size"
            )
        streets = street_names(rng, min(3 + len(rts), 1000))
        rw_spread_m = math.sqrt(boundary.area_m2 / len(rws)) / 3
        rt_spread_m = math.sqrt(boundary.area_m2 / len(rts)) / 3
        rt_index = 0
        for rw_number, rw_rts in enumerate(rws, start=1):
            rw_centre = boundary.random_point(rng)
            for rt_number, rt_sizes in enumerate(rw_rts, start=1):
                centre = boundary.point_near(rng, rw_centre, rw_spread_m)
                rt_streets = [
                    streets[(rt_index + k) % len(streets)]
                    for k in range(rng.randint(1, 3))
                ]
                rt_index += 1
                rt = _RT(
                    f"{rw_number:03d}",
                    f"{rt_number:03d}",
                    centre,
                    rt_spread_m,
                    rt_streets,
                )
                yield from self._rt_buildings(rt, rt_sizes)

    def _rt_buildings(self, rt: "_RT", sizes: list[int]) -> Iterator[DemoBuilding]:
        rng = self.rng
        pending = list(reversed(sizes))
        while pending:
            point = self.plan.boundary.point_near(rng, rt.centre, rt.spread_m)
            use = fabric_rules.choose_use(rng, self._market_distance_m(point))
            building = DemoBuilding(self._building(rt, point, use))
            if (
                use == Building.Use.HOUSE
                and rng.random() < fabric_rules.EMPTY_HOUSE_SHARE
            ):
                building.building.status = Building.Status.EMPTY
            elif use == Building.Use.HOUSE:
                for _ in range(min(len(pending), _households_in_house(rng))):
                    building.households.append(self._household(pending.pop()))
            elif use == Building.Use.SHOP_HOUSE and rng.random() < 0.45:
                building.households.append(self._household(pending.pop()))
            yield building
        people = sum(sizes)
        for use, per_person in fabric_rules.CIVIC_PER_PERSON:
            for _ in range(fabric_rules.draw_count(rng, people * per_person)):
                point = self.plan.boundary.point_near(rng, rt.centre, rt.spread_m)
                yield DemoBuilding(self._building(rt, point, use))

    def _market_distance_m(self, point: Point) -> float:
        return min(
            (distance_m(point, market) for market in self.markets), default=math.inf
        )

    def _building(self, rt: "_RT", point: Point, use: str) -> CleanBuilding:
        street = self.rng.choice(rt.streets)
        number = self.house_numbers.get(street, 0) + self.rng.randint(1, 2)
        self.house_numbers[street] = number
        built = fabric_rules.fabric(self.rng, use)
        return CleanBuilding(
            kelurahan=self.area,
            rw=rt.rw,
            rt=rt.rt,
            street_address=f"{street} No. {number}",
            use=use,
            lat=point.lat,
            lng=point.lng,
            floors=built.floors,
            floor_area_m2=built.floor_area_m2,
            pln_va=built.pln_va,
            status=Building.Status.ACTIVE,
            external_ref="",
        )

    def _household(self, size: int) -> DemoHousehold:
        rng = self.rng
        people = household_people(rng, size)
        members = []
        for person in people:
            kecamatan = self.kecamatan_code
            if self.other_kecamatan and rng.random() < NIK_FROM_OTHER_KECAMATAN:
                kecamatan = rng.choice(self.other_kecamatan)
            members.append(
                CleanMember(
                    full_name=person_name(rng, person.sex, person.birth_date.year),
                    nik=self.numbers.nik(kecamatan, person.sex, person.birth_date),
                    sex=person.sex,
                    birth_date=person.birth_date,
                    relation=person.relation,
                    phone=self._phone(person.relation, person.birth_date),
                )
            )
        youngest = max(person.birth_date for person in people)
        issued = _date_between(rng, max(youngest, KK_EARLIEST_ISSUE), REFERENCE_DATE)
        return DemoHousehold(
            self.numbers.kk(self.kecamatan_code, issued), tuple(members)
        )

    def _phone(self, relation: str, birth_date: date) -> str:
        if (REFERENCE_DATE - birth_date).days < 17 * 365:
            return ""
        if self.rng.random() >= PHONE_SHARE.get(relation, PHONE_SHARE_OTHERS):
            return ""
        return phone_number(self.rng)


@dataclass(frozen=True)
class _RT:
    rw: str
    rt: str
    centre: Point
    spread_m: float
    streets: list[str]


def _split(
    rng: random.Random, items: list[T], group_size: tuple[int, int]
) -> list[list[T]]:
    groups: list[list[T]] = []
    start = 0
    while start < len(items):
        size = rng.randint(*group_size)
        groups.append(items[start : start + size])
        start += size
    return groups


def _households_in_house(rng: random.Random) -> int:
    # Most houses hold one KK; a married child often keeps a KK of their own
    # in the parents' house.
    roll = rng.random()
    if roll < 0.01:
        return 3
    return 2 if roll < 0.09 else 1


def _date_between(rng: random.Random, first: date, last: date) -> date:
    if first >= last:
        return last
    return first + timedelta(days=rng.randrange((last - first).days + 1))
