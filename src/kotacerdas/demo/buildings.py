"""What a demo building is: its use, floors, floor area and PLN connection.

The shares below are estimates for a small Indonesian town, not survey data.
Most buildings are one-storey houses on a 450 to 1,300 VA connection, the
common household classes of PLN. Shops and shop-houses (ruko) crowd around
the markets. Each neighbourhood has its surau or mosque, schools and offices
in proportion to the people living there.
"""

import math
import random
from dataclasses import dataclass

from kotacerdas.registry.models import Building

Use = Building.Use

# PLN connection sizes (VA) and their weights, by building use.
PLN_VA: dict[str, dict[int, float]] = {
    Use.HOUSE: {450: 18, 900: 36, 1300: 25, 2200: 12, 3500: 5, 4400: 2, 5500: 1.2,
                6600: 0.5, 7700: 0.3},
    Use.SHOP_HOUSE: {900: 15, 1300: 30, 2200: 30, 3500: 15, 4400: 5, 5500: 3,
                     6600: 1, 7700: 1},
    Use.SHOP: {450: 10, 900: 30, 1300: 30, 2200: 20, 3500: 7, 4400: 3},
    Use.MARKET_STALL: {450: 40, 900: 40, 1300: 20},
    Use.OFFICE: {2200: 20, 3500: 30, 4400: 15, 5500: 15, 6600: 10, 7700: 10},
    Use.SCHOOL: {1300: 10, 2200: 25, 3500: 30, 4400: 15, 5500: 10, 6600: 5, 7700: 5},
    Use.WORSHIP: {900: 30, 1300: 35, 2200: 25, 3500: 10},
    Use.PUBLIC: {900: 20, 1300: 30, 2200: 30, 3500: 20},
    Use.OTHER: {900: 30, 1300: 30, 2200: 30, 3500: 10},
}  # fmt: skip
STEPS_VA = (450, 900, 1300, 2200, 3500, 4400, 5500, 6600, 7700)

# Floors and their weights, and the footprint range in m², by building use.
FLOORS: dict[str, dict[int, float]] = {
    Use.HOUSE: {1: 82, 2: 17, 3: 1},
    Use.SHOP_HOUSE: {2: 60, 3: 35, 4: 5},
    Use.SHOP: {1: 70, 2: 30},
    Use.MARKET_STALL: {1: 100},
    Use.OFFICE: {1: 40, 2: 45, 3: 15},
    Use.SCHOOL: {1: 35, 2: 50, 3: 15},
    Use.WORSHIP: {1: 85, 2: 15},
    Use.PUBLIC: {1: 70, 2: 30},
    Use.OTHER: {1: 90, 2: 10},
}
FOOTPRINT_M2: dict[str, tuple[int, int]] = {
    Use.SHOP_HOUSE: (54, 90),
    Use.SHOP: (15, 80),
    Use.MARKET_STALL: (6, 20),
    Use.OFFICE: (150, 600),
    Use.SCHOOL: (400, 2000),
    Use.WORSHIP: (40, 900),
    Use.PUBLIC: (80, 400),
    Use.OTHER: (30, 200),
}

# Buildings without households, per person living in the neighbourhood (RT).
# Surau and mosques are many in Padang Panjang, hence one per 350 people.
CIVIC_PER_PERSON = (
    (Use.WORSHIP, 1 / 350),
    (Use.SCHOOL, 1 / 650),
    (Use.OFFICE, 1 / 700),
    (Use.PUBLIC, 1 / 1500),
    (Use.OTHER, 1 / 300),
)
EMPTY_HOUSE_SHARE = 0.03
# Near a market more buildings are shops: the share falls off with distance.
SHOP_SHARE_FAR = 0.03
SHOP_SHARE_AT_MARKET = 0.5
SHOP_SHARE_FALLOFF_M = 350.0
MARKET_STALL_RADIUS_M = 400.0


@dataclass(frozen=True)
class Fabric:
    """A building's physical description."""

    floors: int
    floor_area_m2: int
    pln_va: int


def choose_use(rng: random.Random, market_distance_m: float) -> str:
    """Return house, shop-house, shop or market stall for a building this far
    from the nearest market."""
    shop_share = SHOP_SHARE_FAR + SHOP_SHARE_AT_MARKET * math.exp(
        -market_distance_m / SHOP_SHARE_FALLOFF_M
    )
    if rng.random() >= shop_share:
        return Use.HOUSE
    if market_distance_m < MARKET_STALL_RADIUS_M and rng.random() < 0.35:
        return Use.MARKET_STALL
    return Use.SHOP_HOUSE if rng.random() < 0.55 else Use.SHOP


def draw_count(rng: random.Random, expected: float) -> int:
    """Round an expected count up or down at random, keeping its mean."""
    whole = math.floor(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def fabric(rng: random.Random, use: str) -> Fabric:
    floors = _weighted(rng, FLOORS[use])
    if use == Use.HOUSE:
        # House footprints are skewed: many 36-70 m² homes, a few large ones.
        footprint = min(300, max(21, round(rng.lognormvariate(math.log(60), 0.45))))
    elif use == Use.WORSHIP and rng.random() < 0.7:
        footprint = rng.randint(40, 120)  # a surau or mushalla
    else:
        low, high = FOOTPRINT_M2[use]
        footprint = rng.randint(low, high)
    pln_va = _weighted(rng, PLN_VA[use])
    if use == Use.HOUSE and footprint * floors > 150 and rng.random() < 0.5:
        # Larger houses tend to have larger connections.
        pln_va = STEPS_VA[min(STEPS_VA.index(pln_va) + 1, len(STEPS_VA) - 1)]
    return Fabric(floors, footprint * floors, pln_va)


def _weighted(rng: random.Random, weights: dict[int, float]) -> int:
    return rng.choices(list(weights), list(weights.values()))[0]
