"""Synthetic waste and citizen-report events: routes, pickups, sensors, reports.

Part of the benchmark's synthetic window (see command_center_events).
"""

from bisect import bisect
from datetime import timedelta
from itertools import accumulate
from typing import Any

from command_center_registry import RegistryEvents
from command_center_synth import DAY_S, Choice, Context, Day, draw_count
from kotacerdas.waste.reports.models import SLA_HOURS

# About 120 vehicles: most on door-to-door rounds, twice a week per building
# from Monday to Saturday, the rest emptying TPS containers every day.
DOOR_TO_DOOR_VEHICLES = 105
CONTAINER_VEHICLES = 15
PLAN_HOUR = 5
DOOR_TO_DOOR_HOURS = (6, 13)
CONTAINER_HOURS = (7, 15)
PEOPLE_PER_CONTAINER = 800
# Days a container takes to fill past its sensor's threshold, by container.
CONTAINER_FILL_DAYS = (1, 2, 2, 3, 3, 4)
# A container is emptied on schedule after this many days, full or not.
CONTAINER_MAX_DAYS = 4
# Share of containers above their threshold that the day's routes take.
PICK_WAITING_SHARE = 0.9
REPLAN_SHARE = 0.015  # plans re-planned after a breakdown
MISSED_STOP_SHARE = 0.02
REPEAT_SCAN_SHARE = 0.004
REPEAT_SCAN_DELAY_S = 40
FLAGGED_SHARE = 0.01
REVIEW_DELAY_DAYS = (1, 3)
REVIEWS = (("confirmed", 0.7), ("dismissed", 0.3))
BUILDING_WEIGHED_SHARE = 0.35
CONTAINER_WEIGHED_SHARE = 0.4
OUTCOMES = (
    ("collected", 0.90),
    ("not_out", 0.06),
    ("no_access", 0.02),
    ("refused", 0.01),
    ("other", 0.01),
)
CONTAINER_OUTCOMES = (("collected", 0.98), ("no_access", 0.02))
BUILDING_CATEGORIES = (
    ("mixed", 0.70),
    ("organic", 0.15),
    ("recyclable", 0.08),
    ("residue", 0.062),
    ("reusable", 0.006),
    ("b3", 0.002),
)
CONTAINER_CATEGORIES = (("mixed", 0.85), ("organic", 0.10), ("residue", 0.05))

# Citizen reports: how many, of which kind, and how each ends as
# ((final status, lowest and highest multiple of its SLA), share).
REPORTS_PER_PERSON_DAY = 1 / 14_000
REPORT_KINDS = (
    ("missed_pickup", 0.40),
    ("full_container", 0.25),
    ("illegal_dumping", 0.25),
    ("other", 0.10),
)
REPORT_ENDS = (
    (("resolved", 0.2, 0.95), 0.68),
    (("resolved", 1.05, 2.5), 0.12),
    (("rejected", 0.05, 0.3), 0.08),
    (("duplicate", 0.02, 0.2), 0.07),
    (("resolved", 5.0, 20.0), 0.05),
)
TRIAGE_HOURS = (1, 8)
REPORTS_WITHOUT_KELURAHAN = 0.05


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """Split `items` into at most `parts` runs of neighbouring items."""
    size = -(-len(items) // parts) if items else 1
    return [items[start : start + size] for start in range(0, len(items), size)]


class WasteEvents:
    """Containers and their sensors, route plans, pickups and their reviews."""

    def __init__(self, context: Context, registry: RegistryEvents) -> None:
        city = context.city
        self.context = context
        self.registry = registry
        count = max(
            len(city.kelurahan_codes), round(city.people / PEOPLE_PER_CONTAINER)
        )
        people_through = list(accumulate(city.kelurahan_people))
        self.container_ids = [context.new_id("container") for _ in range(count)]
        # Containers spread over the kelurahan by population, in kelurahan order.
        self.container_kelurahan = [
            city.kelurahan_codes[
                bisect(people_through, (i + 0.5) / count * people_through[-1])
            ]
            for i in range(count)
        ]
        rng = context.rng
        self.fill_days = [rng.choice(CONTAINER_FILL_DAYS) for _ in range(count)]
        self.days_since_empty = [rng.randrange(days) for days in self.fill_days]
        self.waiting = [False] * count
        self.outcomes = Choice(OUTCOMES)
        self.container_outcomes = Choice(CONTAINER_OUTCOMES)
        self.categories = Choice(BUILDING_CATEGORIES)
        self.container_categories = Choice(CONTAINER_CATEGORIES)
        self.reviews = Choice(REVIEWS)

    def day(self, day: Day) -> None:
        if day.index == 0:
            for container_id, kelurahan in zip(
                self.container_ids, self.container_kelurahan, strict=True
            ):
                self.context.emit(
                    "waste.container.saved",
                    day.midnight,
                    {"container_id": container_id, "kelurahan_code": kelurahan},
                )
        self._containers(day)
        if day.date.weekday() != 6:
            self._door_to_door(day)
        self._reviews(day)
        self.context.totals.containers_waiting = sum(self.waiting)

    # --------------------------------------------------------------- containers

    def _containers(self, day: Day) -> None:
        """Cross thresholds, then plan and run the container routes of the day."""
        rng, route_start_s = self.context.rng, CONTAINER_HOURS[0] * 3600
        picks = []
        for index in range(len(self.container_ids)):
            cross_s = None
            if (
                not self.waiting[index]
                and self.days_since_empty[index] + 1 >= self.fill_days[index]
            ):
                cross_s = rng.uniform(0, DAY_S)
            crossed_early = cross_s is not None and cross_s < route_start_s
            if self.waiting[index] or crossed_early:
                pick = rng.random() < PICK_WAITING_SHARE
            else:
                pick = self.days_since_empty[index] + 1 >= CONTAINER_MAX_DAYS
            # A container emptied before its sensor would have crossed starts again.
            if cross_s is not None and (crossed_early or not pick):
                self._cross(day, index, cross_s)
            if pick:
                picks.append(index)
            else:
                self.days_since_empty[index] += 1
        if day.limit_s < PLAN_HOUR * 3600:
            for index in picks:
                self.days_since_empty[index] += 1
            return
        for run in split(picks, CONTAINER_VEHICLES):
            self._container_route(day, run)

    def _cross(self, day: Day, index: int, seconds: float) -> None:
        if seconds > day.limit_s:
            return
        self.waiting[index] = True
        self.context.emit(
            "waste.container.threshold_crossed",
            day.at(seconds),
            {"container_id": self.container_ids[index]},
        )

    def _container_route(self, day: Day, run: list[int]) -> None:
        context, rng = self.context, self.context.rng
        stops = [f"c:{self.container_ids[index]}" for index in run]
        plan_id = self._plan(day, context.new_id("plan"), stops, PLAN_HOUR * 3600)
        start_s = CONTAINER_HOURS[0] * 3600
        span_s = (CONTAINER_HOURS[1] - CONTAINER_HOURS[0]) * 3600
        for number, index in enumerate(run, start=1):
            seconds = start_s + span_s * number / len(run)
            outcome = self.container_outcomes.pick(rng)
            if seconds > day.limit_s or outcome != "collected":
                self.days_since_empty[index] += 1
                if seconds > day.limit_s:
                    continue
            else:
                self.waiting[index] = False
                self.days_since_empty[index] = 0
            collected = outcome == "collected"
            weighed = rng.random() < CONTAINER_WEIGHED_SHARE
            self._pickup(
                day,
                seconds,
                plan_id,
                outcome,
                self.container_categories.pick(rng),
                weight_g=rng.randint(300, 2_500) * 1000
                if collected and weighed
                else None,
                volume_l=rng.randint(800, 6_000) if collected and not weighed else None,
                container_id=self.container_ids[index],
            )

    # ------------------------------------------------------------ door to door

    def _door_to_door(self, day: Day) -> None:
        """Plan the day's rounds and record their pickups up to now."""
        if day.limit_s < PLAN_HOUR * 3600:
            return
        city, registry = self.context.city, self.registry
        positions = [
            position
            for position in registry.pair_positions[day.date.weekday() % 3]
            if registry.building_active[position] and city.building_occupied[position]
        ]
        for run in split(positions, DOOR_TO_DOOR_VEHICLES):
            self._round(day, run)

    def _round(self, day: Day, run: list[int]) -> None:
        context, rng = self.context, self.context.rng
        ids = context.city.building_ids
        stops = [f"b:{ids[position]}" for position in run]
        plan_id = self._plan(day, context.new_id("plan"), stops, PLAN_HOUR * 3600)
        breakdown = -1
        if rng.random() < REPLAN_SHARE and len(run) >= 10:
            breakdown = rng.randint(len(run) // 5, 4 * len(run) // 5)
        start_s = DOOR_TO_DOOR_HOURS[0] * 3600
        span_s = (DOOR_TO_DOOR_HOURS[1] - DOOR_TO_DOOR_HOURS[0]) * 3600
        for number, position in enumerate(run):
            seconds = start_s + span_s * number / len(run) + rng.uniform(0, 180)
            if seconds > day.limit_s:
                break
            if number == breakdown:
                # A standby vehicle takes the stops the broken one had left.
                self._plan(day, plan_id, stops[:number], seconds, revision=2)
                plan_id = self._plan(
                    day, context.new_id("plan"), stops[number:], seconds
                )
            if rng.random() < MISSED_STOP_SHARE:
                continue
            outcome = self.outcomes.pick(rng)
            weighed = rng.random() < BUILDING_WEIGHED_SHARE
            collected = outcome == "collected"
            self._pickup(
                day,
                seconds,
                plan_id,
                outcome,
                self.categories.pick(rng),
                weight_g=rng.randint(2_000, 25_000) if collected and weighed else None,
                volume_l=rng.randint(20, 120) if collected and not weighed else None,
                building_id=ids[position],
            )

    def _plan(
        self,
        day: Day,
        plan_id: int,
        stops: list[str],
        seconds: float,
        revision: int = 1,
    ) -> int:
        self.context.emit(
            "waste.route.planned",
            day.at(seconds),
            {
                "plan_id": plan_id,
                "date": day.date.isoformat(),
                "revision": revision,
                "stops": stops,
            },
        )
        return plan_id

    def _pickup(
        self,
        day: Day,
        seconds: float,
        plan_id: int,
        outcome: str,
        category: str,
        *,
        weight_g: int | None,
        volume_l: int | None,
        building_id: int | None = None,
        container_id: int | None = None,
    ) -> None:
        """Record a pickup, sometimes flagged for review or scanned twice."""
        context, rng = self.context, self.context.rng
        pickup_id = context.new_id("pickup")
        review = "none"
        if rng.random() < FLAGGED_SHARE:
            review = "pending"
            context.schedule(
                "review", day.index + rng.randint(*REVIEW_DELAY_DAYS), pickup_id
            )
        payload = {
            "pickup_id": pickup_id,
            "building_id": building_id,
            "container_id": container_id,
            "plan_id": plan_id,
            "scanned_at": day.at(seconds).isoformat(),
            "outcome": outcome,
            "category": category,
            "weight_g": weight_g,
            "volume_l": volume_l,
            "duplicate_of": None,
            "review": review,
        }
        context.emit("waste.pickup.recorded", day.at(seconds), payload)
        if day.date == context.today:
            context.totals.pickups_today += 1
        repeat_s = seconds + REPEAT_SCAN_DELAY_S
        if rng.random() < REPEAT_SCAN_SHARE and repeat_s <= day.limit_s:
            repeat = {
                **payload,
                "pickup_id": context.new_id("pickup"),
                "scanned_at": day.at(repeat_s).isoformat(),
                "duplicate_of": pickup_id,
                "review": "none",
            }
            context.emit("waste.pickup.recorded", day.at(repeat_s), repeat)

    def _reviews(self, day: Day) -> None:
        context = self.context
        for pickup_id in context.due("review", day):
            seconds = day.draw(context.rng, 8, 16)
            if seconds is not None:
                context.emit(
                    "waste.pickup.reviewed",
                    day.at(seconds),
                    {"pickup_id": pickup_id, "review": self.reviews.pick(context.rng)},
                )


class ReportEvents:
    """Citizen reports filed, triaged and closed, some after their SLA."""

    def __init__(self, context: Context) -> None:
        city = context.city
        self.context = context
        self.kelurahan = Choice(
            list(zip(city.kelurahan_codes, city.kelurahan_people, strict=True))
        )
        self.kinds = Choice(REPORT_KINDS)
        self.ends = Choice(REPORT_ENDS)

    def day(self, day: Day) -> None:
        context, rng = self.context, self.context.rng
        expected = context.city.people * REPORTS_PER_PERSON_DAY
        for _ in range(draw_count(rng, expected)):
            seconds = rng.uniform(6 * 3600, 22 * 3600)
            if seconds <= day.limit_s:
                self._file(day, seconds)
        for seconds, report_id, old, new in sorted(context.due("report", day)):
            if seconds > day.limit_s:
                continue
            context.emit(
                "wastereports.report.updated",
                day.at(seconds),
                {"report_id": report_id, "from_status": old, "to_status": new},
            )
            if new != "triaged":
                context.totals.reports_open -= 1

    def _file(self, day: Day, seconds: float) -> None:
        context, rng = self.context, self.context.rng
        report_id, kind = context.new_id("report"), self.kinds.pick(rng)
        kelurahan = self.kelurahan.pick(rng)
        if rng.random() < REPORTS_WITHOUT_KELURAHAN:
            kelurahan = None
        at = day.at(seconds)
        sla_h = SLA_HOURS[kind]
        context.emit(
            "wastereports.report.filed",
            at,
            {
                "report_id": report_id,
                "kind": kind,
                "kelurahan_code": kelurahan,
                "sla_due_at": (at + timedelta(hours=sla_h)).isoformat(),
            },
        )
        context.totals.reports_open += 1
        triage_h = rng.uniform(*TRIAGE_HOURS)
        status, low, high = self.ends.pick(rng)
        end_h = max(triage_h + 0.1, sla_h * rng.uniform(low, high))
        self._later(day, seconds + triage_h * 3600, report_id, "new", "triaged")
        self._later(day, seconds + end_h * 3600, report_id, "triaged", status)

    def _later(
        self, day: Day, seconds: float, report_id: int, old: str, new: str
    ) -> None:
        """Schedule a status change `seconds` after the start of `day`."""
        later_days, seconds = divmod(seconds, DAY_S)
        self.context.schedule(
            "report", day.index + int(later_days), (seconds, report_id, old, new)
        )
