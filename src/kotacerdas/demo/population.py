"""How many people live in each kelurahan, and who lives in each household.

The people per kelurahan come from the city profile. A kelurahan with a
population figure keeps it. The others share, by area, what their kecamatan's
population leaves after the kelurahan with figures. Household sizes
average about 3.8 people, within the 3.5 to 4 that Indonesian urban
households usually have. That is an estimate, because no household count for
the city was published.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kotacerdas.registry.models import Member

# All ages are counted at this date, so the same seed gives the same people
# whatever day the demo city is built.
REFERENCE_DATE = date(2024, 12, 31)

# Share of households by number of members (sums to 1; mean 3.88).
HOUSEHOLD_SIZES = ((1, 0.08), (2, 0.14), (3, 0.20), (4, 0.24), (5, 0.17), (6, 0.10),
                   (7, 0.05), (8, 0.02))  # fmt: skip


class PopulationUnknown(ValueError):
    """The city profile gives no population figure to size the demo city from."""


@dataclass(frozen=True)
class AreaFigures:
    """Population and area of one kelurahan or kecamatan, from the city profile."""

    code: str
    parent_code: str
    population: int | None
    area_ha: int | None


def people_per_kelurahan(
    kelurahan: Sequence[AreaFigures], kecamatan: Sequence[AreaFigures]
) -> dict[str, int]:
    """Return the people living in each kelurahan, by code.

    Raises PopulationUnknown when neither a kelurahan nor a kecamatan has a
    population figure.
    """
    known = {area.code: area.population for area in kelurahan if area.population}
    density = _known_density(kelurahan)
    people: dict[str, int] = dict(known)
    for parent in kecamatan:
        unknown = [
            area
            for area in kelurahan
            if area.parent_code == parent.code and area.code not in known
        ]
        if not unknown:
            continue
        if parent.population:
            left = parent.population - sum(
                known.get(area.code, 0)
                for area in kelurahan
                if area.parent_code == parent.code
            )
            people.update(_share_by_area(max(left, 0), unknown))
        elif density is not None:
            people.update(
                {area.code: round(density * (area.area_ha or 0)) for area in unknown}
            )
        else:
            raise PopulationUnknown(
                f"kecamatan {parent.code} and its kelurahan have no population figures"
            )
    missing = [area.code for area in kelurahan if area.code not in people]
    if missing:
        raise PopulationUnknown(f"kelurahan {', '.join(missing)} have no kecamatan")
    return people


def _known_density(kelurahan: Sequence[AreaFigures]) -> float | None:
    pairs = [(a.population, a.area_ha) for a in kelurahan if a.population and a.area_ha]
    if not pairs:
        return None
    return sum(p for p, _ in pairs) / sum(h for _, h in pairs)


def _share_by_area(total: int, areas: Sequence[AreaFigures]) -> dict[str, int]:
    # An area without a figure counts as the mean of the others (all equal if none).
    sizes = [area.area_ha for area in areas if area.area_ha]
    mean = sum(sizes) / len(sizes) if sizes else 1.0
    weights = [float(area.area_ha or mean) for area in areas]
    shares = apportion(total, weights)
    return {area.code: share for area, share in zip(areas, shares, strict=True)}


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights`, rounding so the parts add up."""
    whole = sum(weights)
    exact = [total * weight / whole for weight in weights]
    parts = [int(value) for value in exact]
    by_remainder = sorted(
        range(len(exact)), key=lambda i: (parts[i] - exact[i], i)
    )  # largest remainder first
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts


def household_sizes(rng: random.Random, people: int) -> list[int]:
    """Draw household sizes until they hold exactly `people` people."""
    sizes, weights = zip(*HOUSEHOLD_SIZES, strict=True)
    drawn: list[int] = []
    remaining = people
    while remaining > 0:
        size = min(rng.choices(sizes, weights)[0], remaining)
        drawn.append(size)
        remaining -= size
    return drawn


@dataclass(frozen=True)
class Person:
    sex: str
    birth_date: date
    relation: str


def household_people(rng: random.Random, size: int) -> list[Person]:
    """Return the members of one household: head first, then the others.

    A head is usually a married man; about one household in ten is led by a
    woman without a spouse (widowed or divorced). Most other members are the
    couple's children; some households hold a parent of the couple, or a
    married child with a grandchild.
    """
    if size == 1:
        return [_lone_head(rng)]
    female_head = rng.random() < 0.10
    head_age = _head_age(rng)
    people = [_person(rng, "F" if female_head else "M", head_age, Member.Relation.HEAD)]
    mother_age = head_age
    if not female_head:
        mother_age = max(19, head_age - _spouse_gap(rng))
        people.append(_person(rng, "F", mother_age, Member.Relation.SPOUSE))
    others = size - len(people)
    if others >= 3 and head_age >= 55 and rng.random() < 0.35:
        people.extend(_married_child(rng, mother_age))
        others -= 3
    elif others >= 2 and head_age <= 55 and rng.random() < 0.15:
        parent_age = min(95, head_age + rng.randint(22, 35))
        relation = rng.choice((Member.Relation.PARENT, Member.Relation.PARENT_IN_LAW))
        people.append(_person(rng, _older_sex(rng), parent_age, relation))
        others -= 1
    for _ in range(others):
        relation = Member.Relation.CHILD
        if rng.random() < 0.04:
            relation = Member.Relation.RELATIVE
        people.append(
            _person(rng, _child_sex(rng), _child_age(rng, mother_age), relation)
        )
    assert len(people) == size
    return people


def _child_sex(rng: random.Random) -> str:
    # About 105 boys are born for every 100 girls.
    return "M" if rng.random() < 0.512 else "F"


def _child_age(rng: random.Random, mother_age: int) -> int:
    # Born when the mother was 20 to 40, so older mothers have older children.
    age = mother_age - rng.randint(20, 40)
    return age if age >= 0 else rng.randint(0, max(0, mother_age - 20))


def _lone_head(rng: random.Random) -> Person:
    if rng.random() < 0.55:
        # An older person living alone, most often a widow.
        sex = "F" if rng.random() < 0.6 else "M"
        return _person(rng, sex, rng.randint(58, 88), Member.Relation.HEAD)
    # A young adult living alone, more often a man working away from home.
    sex = "M" if rng.random() < 0.65 else "F"
    return _person(rng, sex, rng.randint(19, 35), Member.Relation.HEAD)


def _head_age(rng: random.Random) -> int:
    # Triangular around the early forties, as in Indonesian household surveys.
    return round(rng.triangular(23, 82, 42))


def _spouse_gap(rng: random.Random) -> int:
    return max(-3, round(rng.gauss(4, 3)))


def _older_sex(rng: random.Random) -> str:
    # Women outlive men, so more of the parents who live with a child are mothers.
    return "F" if rng.random() < 0.65 else "M"


def _married_child(rng: random.Random, mother_age: int) -> list[Person]:
    child_age = rng.randint(22, max(22, min(mother_age - 19, 40)))
    child_sex = rng.choice("MF")
    in_law_sex = "F" if child_sex == "M" else "M"
    grandchild_age = rng.randint(0, max(0, child_age - 20))
    return [
        _person(rng, child_sex, child_age, Member.Relation.CHILD),
        _person(
            rng,
            in_law_sex,
            child_age + rng.randint(-3, 4),
            Member.Relation.CHILD_IN_LAW,
        ),
        _person(rng, _child_sex(rng), grandchild_age, Member.Relation.GRANDCHILD),
    ]


def _person(rng: random.Random, sex: str, age: int, relation: str) -> Person:
    return Person(sex, birth_date_for_age(rng, age), relation)


def birth_date_for_age(rng: random.Random, age: int) -> date:
    """Return a birth date at which a person is `age` on REFERENCE_DATE."""
    latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
    return latest - timedelta(days=rng.randrange(365))
