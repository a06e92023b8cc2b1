"""Waste levy classes: which class a building falls in, from the city profile.

The classes (Perda Kota Padang Panjang 1/2024 for the pilot city) live in the
profile's `[[tariffs.levy_classes]]` tables: a code, a label, the building uses
it applies to, a VA range of the PLN connection and a monthly amount in rupiah
(absent when the city has not published one).
"""

from dataclasses import dataclass

from kotacerdas.city.models import City


@dataclass(frozen=True)
class LevyClass:
    code: str
    label: str
    uses: tuple[str, ...]
    va_min: int
    va_max: int | None
    monthly: int | None

    def matches(self, use: str, pln_va: int | None) -> bool:
        """Whether a building of this use and connection falls in this class.

        A building whose connection is not recorded matches only a class with
        no VA bounds: a house without its VA has no class until it is surveyed
        (pendataan ulang), rather than the cheapest class by default.
        """
        if use not in self.uses:
            return False
        if pln_va is None:
            return self.va_min == 0 and self.va_max is None
        return pln_va >= self.va_min and (self.va_max is None or pln_va <= self.va_max)


def levy_classes(city: City | None = None) -> list[LevyClass]:
    city = city or City.objects.order_by("id").first()
    if city is None:
        return []
    rows = city.settings.get("tariffs", {}).get("levy_classes", [])
    return [
        LevyClass(
            code=str(row["code"]),
            label=str(row.get("label", row["code"])),
            uses=tuple(row.get("uses", ())),
            va_min=int(row.get("va_min", 0)),
            va_max=None if row.get("va_max") is None else int(row["va_max"]),
            monthly=None if row.get("monthly") is None else int(row["monthly"]),
        )
        for row in rows
    ]


def levy_class_for(
    use: str, pln_va: int | None, city: City | None = None
) -> LevyClass | None:
    """Return the first class that takes this use and connection, or None."""
    for levy_class in levy_classes(city):
        if levy_class.matches(use, pln_va):
            return levy_class
    return None


def plate_prefix(city: City | None = None) -> str:
    city = city or City.objects.order_by("id").first()
    if city is None:
        return "KC"
    return str(city.settings.get("plate_prefix", "KC"))
