"""Synthetic registry events: buildings, households and plates.

Part of the benchmark's synthetic window (see command_center_events).
"""

from collections import defaultdict
from datetime import datetime

from command_center_city import HOUSE
from command_center_synth import Context, Day, draw_count

# Registry changes, per household or building and day.
MOVES_PER_HOUSEHOLD_DAY = 0.004 / 30
RETIREMENTS_PER_HOUSEHOLD_DAY = 0.001 / 30
NEW_HOUSEHOLDS_PER_HOUSEHOLD_DAY = 0.0015 / 30
NEW_BUILDINGS_PER_BUILDING_DAY = 0.0008 / 30
DEMOLITIONS_PER_BUILDING_DAY = 0.0001 / 30
REPRINTS_PER_PLATE_DAY = 0.0005 / 30
# Plates are printed one kelurahan every few days, then installed by the
# owners over the following weeks; a few are never installed.
PLATE_WAVE_DAYS = 3
INSTALL_SHARE = 0.96
INSTALL_DELAY_DAYS = (2, 45)
NEW_PLATE_DELAY_DAYS = 7


class RegistryEvents:
    """Buildings, households and plates: registered on the first day, then changes.

    With `registry_in_journal` the registration and the plates already exist
    as real rows and events, so only later changes and plate installs are made.
    """

    def __init__(
        self, context: Context, registry_in_journal: bool, plate_ids: list[int] | None
    ) -> None:
        city = context.city
        self.context = context
        self.registry_in_journal = registry_in_journal
        buildings = len(city.building_ids)
        self.building_active = [registry_in_journal] * buildings
        self.household_active = [registry_in_journal] * len(city.household_ids)
        self.building_plate = list(plate_ids) if plate_ids else [0] * buildings
        self.pair_positions: list[list[int]] = [[] for _ in range(3)]
        for position, pair in enumerate(city.building_pair):
            self.pair_positions[pair].append(position)
        self.houses = [p for p, use in enumerate(city.building_use) if use == HOUSE]
        self.empty_houses = [p for p in self.houses if not city.building_occupied[p]]
        self.last_building_id = max(city.building_ids, default=0)
        self.last_household_id = max(city.household_ids, default=0)
        self.last_plate_id = max(self.building_plate, default=0)
        self.installed: set[int] = set()
        self.revoked: set[int] = set()
        if registry_in_journal:
            context.totals.buildings = buildings
            context.totals.households = len(city.household_ids)
            context.totals.plates_issued = sum(1 for p in self.building_plate if p)

    def day(self, day: Day) -> None:
        if day.index == 0 and not self.registry_in_journal:
            self._register_all(day)
        if day.index > 0:
            self._changes(day)
        self._plates(day)

    def _register_all(self, day: Day) -> None:
        city = self.context.city
        households_of: defaultdict[int, list[int]] = defaultdict(list)
        for index, position in enumerate(city.household_building):
            households_of[position].append(index)
        for position in range(len(city.building_ids)):
            seconds = 8 * 3600 + 8 * 3600 * position / len(city.building_ids)
            if seconds > day.limit_s:
                break
            at = day.at(seconds)
            self._building_event("registered", at, position, "active")
            for index in households_of.get(position, []):
                self._household_event("registered", at, index, position, "active")

    def _building_event(
        self, change: str, at: datetime, position: int, status: str
    ) -> None:
        city, totals = self.context.city, self.context.totals
        if not city.building_occupied[position] and status == "active":
            status = "empty"
        was_active = self.building_active[position]
        now_active = status != "demolished"
        self.building_active[position] = now_active
        totals.buildings += now_active - was_active
        self.context.emit(
            f"registry.building.{change}",
            at,
            {
                "building_id": city.building_ids[position],
                "kelurahan_code": city.kelurahan_codes[
                    city.building_kelurahan[position]
                ],
                "status": status,
            },
        )

    def _household_event(
        self, change: str, at: datetime, index: int, position: int, status: str
    ) -> None:
        city, totals = self.context.city, self.context.totals
        now_active = status == "active"
        totals.households += now_active - self.household_active[index]
        self.household_active[index] = now_active
        city.household_building[index] = position
        self.context.emit(
            f"registry.household.{change}",
            at,
            {
                "household_id": city.household_ids[index],
                "building_id": city.building_ids[position],
                "status": status,
            },
        )

    def _changes(self, day: Day) -> None:
        rng, city = self.context.rng, self.context.city
        households, buildings = len(city.household_ids), len(city.building_ids)
        for _ in range(draw_count(rng, households * MOVES_PER_HOUSEHOLD_DAY)):
            self._move(day, rng.randrange(households))
        for _ in range(draw_count(rng, households * RETIREMENTS_PER_HOUSEHOLD_DAY)):
            index = rng.randrange(households)
            seconds = day.draw(rng, 8, 16)
            if seconds is not None and self.household_active[index]:
                position = city.household_building[index]
                at = day.at(seconds)
                self._household_event("retired", at, index, position, "retired")
        for _ in range(draw_count(rng, households * NEW_HOUSEHOLDS_PER_HOUSEHOLD_DAY)):
            self._new_household(day, rng.choice(self.houses))
        for _ in range(draw_count(rng, buildings * NEW_BUILDINGS_PER_BUILDING_DAY)):
            self._new_building(day)
        for _ in range(draw_count(rng, buildings * DEMOLITIONS_PER_BUILDING_DAY)):
            position = rng.choice(self.empty_houses) if self.empty_houses else -1
            seconds = day.draw(rng, 8, 16)
            if position >= 0 and seconds is not None and self.building_active[position]:
                self._building_event("changed", day.at(seconds), position, "demolished")

    def _move(self, day: Day, index: int) -> None:
        rng, city = self.context.rng, self.context.city
        target = rng.choice(self.houses)
        seconds = day.draw(rng, 8, 16)
        if (
            seconds is None
            or not self.household_active[index]
            or not self.building_active[target]
            or not city.building_occupied[target]
        ):
            return
        self._household_event("moved", day.at(seconds), index, target, "active")

    def _new_household(self, day: Day, position: int) -> None:
        rng, city = self.context.rng, self.context.city
        seconds = day.draw(rng, 8, 16)
        if seconds is None or not self.building_active[position]:
            return
        if not city.building_occupied[position]:
            return
        self.last_household_id += 1
        city.household_ids.append(self.last_household_id)
        city.household_building.append(position)
        city.household_people.append(rng.randint(1, 5))
        self.household_active.append(False)
        index = len(city.household_ids) - 1
        self._household_event("registered", day.at(seconds), index, position, "active")

    def _new_building(self, day: Day) -> None:
        """Register a new house with one household, near a random existing house."""
        rng, city = self.context.rng, self.context.city
        seconds = day.draw(rng, 8, 16)
        if seconds is None:
            return
        near = rng.choice(self.houses)
        self.last_building_id += 1
        city.building_ids.append(self.last_building_id)
        city.building_kelurahan.append(city.building_kelurahan[near])
        city.building_use.append(HOUSE)
        city.building_occupied.append(True)
        city.building_levy.append(city.building_levy[near])
        city.building_pair.append(city.building_pair[near])
        self.building_active.append(False)
        self.building_plate.append(0)
        position = len(city.building_ids) - 1
        self.houses.append(position)
        self.pair_positions[city.building_pair[near]].append(position)
        self._building_event("registered", day.at(seconds), position, "active")
        self._new_household(day, position)
        self.context.schedule("plate", day.index + NEW_PLATE_DELAY_DAYS, position)

    def _plates(self, day: Day) -> None:
        context, city = self.context, self.context.city
        if day.index == 0 and not self.registry_in_journal:
            for position in range(len(city.building_ids)):
                wave = 1 + PLATE_WAVE_DAYS * city.building_kelurahan[position]
                context.schedule("plate", min(wave, context.days - 1), position)
        elif day.index == 0:
            for plate_id in self.building_plate:
                if plate_id:
                    self._schedule_install(day, plate_id)
        for position in context.due("plate", day):
            self._issue(day, position)
        for plate_id in context.due("install", day):
            seconds = day.draw(context.rng, 9, 17)
            if seconds is not None and plate_id not in self.revoked:
                self.installed.add(plate_id)
                context.totals.plates_installed += 1
                context.emit(
                    "registry.plate.installed", day.at(seconds), {"plate_id": plate_id}
                )
        plates = context.totals.plates_issued
        for _ in range(draw_count(context.rng, plates * REPRINTS_PER_PLATE_DAY)):
            self._reprint(day, context.rng.randrange(len(self.building_plate)))

    def _issue(self, day: Day, position: int) -> None:
        context = self.context
        seconds = day.draw(context.rng, 9, 15)
        if seconds is None or not self.building_active[position]:
            return
        self.last_plate_id += 1
        self.building_plate[position] = self.last_plate_id
        context.totals.plates_issued += 1
        context.emit(
            "registry.plate.issued",
            day.at(seconds),
            {
                "plate_id": self.last_plate_id,
                "building_id": context.city.building_ids[position],
            },
        )
        self._schedule_install(day, self.last_plate_id)

    def _schedule_install(self, day: Day, plate_id: int) -> None:
        rng = self.context.rng
        if rng.random() < INSTALL_SHARE:
            delay = rng.randint(*INSTALL_DELAY_DAYS)
            self.context.schedule("install", day.index + delay, plate_id)

    def _reprint(self, day: Day, position: int) -> None:
        """Revoke a damaged plate and issue its building a new one the same day."""
        context = self.context
        plate_id = self.building_plate[position]
        seconds = day.draw(context.rng, 9, 15)
        if not plate_id or seconds is None or not self.building_active[position]:
            return
        self.building_plate[position] = 0
        self.revoked.add(plate_id)
        context.totals.plates_issued -= 1
        if plate_id in self.installed:
            self.installed.discard(plate_id)
            context.totals.plates_installed -= 1
        context.emit("registry.plate.revoked", day.at(seconds), {"plate_id": plate_id})
        self._issue(day, position)
