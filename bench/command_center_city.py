"""The demo city's buildings and households as plain lists, for the benchmark.

`DemoCity.generate` runs the demo generator (`demo.generator.plan_city` and
`generate_city`) and keeps what the synthetic events need: ids, kelurahan,
use, monthly levy amount, the door-to-door weekday pair and the households
with their sizes. Names, NIK and addresses are dropped at once. Runs inside a
configured Django process with the city profile loaded.
"""

from dataclasses import dataclass, field

# Door-to-door rounds visit each RW on one of three weekday pairs:
# Monday and Thursday, Tuesday and Friday, Wednesday and Saturday.
WEEKDAY_PAIRS = 3
HOUSE = "house"
# Building uses that can run a wallet merchant (as demo.wallets picks them).
MERCHANT_USES = frozenset({"shop", "shop_house", "market_stall"})


@dataclass
class DemoCity:
    """The buildings and households of a demo city, in generator order.

    Lists are indexed by position in generator order (kelurahan, RW, RT), so
    neighbouring positions are neighbouring buildings. `building_ids` and
    `household_ids` hold the registry ids: the registry's own ids when the
    registry was written, else 1, 2, 3 ... in the same order.
    """

    kelurahan_codes: list[str]
    kelurahan_people: list[int]
    building_ids: list[int] = field(default_factory=list)
    building_kelurahan: list[int] = field(default_factory=list)
    building_use: list[str] = field(default_factory=list)
    # False for an empty house: registered, but no household lives there.
    building_occupied: list[bool] = field(default_factory=list)
    # Rupiah of one month's bill: per household for a house, per building for
    # any other use; 0 when the building has no levy class with a tariff.
    building_levy: list[int] = field(default_factory=list)
    building_pair: list[int] = field(default_factory=list)
    household_ids: list[int] = field(default_factory=list)
    household_building: list[int] = field(default_factory=list)
    household_people: list[int] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(self.household_people)

    @classmethod
    def generate(cls, size: str, seed: int) -> "DemoCity":
        """Run the demo generator for `size` and keep the fields listed above."""
        from kotacerdas.demo.generator import generate_city, plan_city

        plans = plan_city(size)
        city = cls(
            kelurahan_codes=[plan.area.code for plan in plans],
            kelurahan_people=[plan.people for plan in plans],
        )
        kelurahan_index = {code: i for i, code in enumerate(city.kelurahan_codes)}
        levy = _LevyAmounts()
        for item in generate_city(plans, seed):
            building = item.building
            position = len(city.building_ids)
            kelurahan = kelurahan_index[building.kelurahan.code]
            city.building_ids.append(position + 1)
            city.building_kelurahan.append(kelurahan)
            city.building_use.append(building.use)
            city.building_occupied.append(building.status == "active")
            city.building_levy.append(levy.monthly(building.use, building.pln_va))
            city.building_pair.append(
                (kelurahan * 7 + int(building.rw)) % WEEKDAY_PAIRS
            )
            for household in item.households:
                city.household_ids.append(len(city.household_ids) + 1)
                city.household_building.append(position)
                city.household_people.append(len(household.members))
        return city

    def use_registry_ids(self) -> None:
        """Replace the ids 1, 2, 3 ... with the ids the registry gave the rows.

        `demo.services.build_demo_registry` writes buildings and households in
        generator order into an empty registry, so ordering by id lines them
        up with the lists here. Raises ValueError when the counts differ.
        """
        from kotacerdas.registry.models import Building, Household

        buildings = list(Building.objects.order_by("id").values_list("id", flat=True))
        households = list(Household.objects.order_by("id").values_list("id", flat=True))
        if len(buildings) != len(self.building_ids) or len(households) != len(
            self.household_ids
        ):
            raise ValueError(
                f"the registry has {len(buildings)} buildings and {len(households)} "
                f"households, the generator {len(self.building_ids)} and "
                f"{len(self.household_ids)}; build the registry into an empty database"
            )
        self.building_ids = buildings
        self.household_ids = households


class _LevyAmounts:
    """Monthly levy by (use, PLN VA), from the loaded city profile's classes."""

    def __init__(self) -> None:
        from kotacerdas.registry.levy import levy_classes

        self.classes = levy_classes()
        self.cache: dict[tuple[str, int | None], int] = {}

    def monthly(self, use: str, pln_va: int | None) -> int:
        key = (use, pln_va)
        if key not in self.cache:
            found = next(
                (levy for levy in self.classes if levy.matches(use, pln_va)), None
            )
            self.cache[key] = (found.monthly or 0) if found else 0
        return self.cache[key]
