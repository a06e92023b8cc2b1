"""The replay checker of sites, containers, vehicles, crews and schedules.

Replays every `waste.*.saved` event of this area, keeping the last state per
row, then compares it with what the same state function makes of each table
row today. A row that differs was changed outside the places services.
"""

from collections.abc import Callable
from typing import Any

from kotacerdas.waste.models import Container, Crew, Schedule, Site, Vehicle

STATE_EVENTS = {
    "waste.site.saved": ("site", "site_id"),
    "waste.container.saved": ("container", "container_id"),
    "waste.vehicle.saved": ("vehicle", "vehicle_id"),
    "waste.crew.saved": ("crew", "crew_id"),
    "waste.schedule.saved": ("schedule", "schedule_id"),
}
MAX_PROBLEMS = 20


class PlacesChecker:
    name = "waste-places"

    def __init__(self) -> None:
        self.expected: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {
            kind: {} for kind, _id in STATE_EVENTS.values()
        }

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        if event_type in STATE_EVENTS:
            kind, id_field = STATE_EVENTS[event_type]
            payload = envelope.get("payload") or {}
            self.expected[kind][payload[id_field]] = (seq, payload)
        return None

    def finish(self) -> list[str]:
        from kotacerdas.waste.places import container_state, site_state, vehicle_state
        from kotacerdas.waste.places_crews import crew_state, schedule_state

        tables: tuple[tuple[str, Any, Callable[[Any], dict[str, Any]]], ...] = (
            ("site", Site.objects.select_related("kelurahan"), site_state),
            (
                "container",
                Container.objects.select_related("kelurahan"),
                container_state,
            ),
            ("vehicle", Vehicle.objects.all(), vehicle_state),
            ("crew", Crew.objects.prefetch_related("members"), crew_state),
            ("schedule", Schedule.objects.select_related("kelurahan"), schedule_state),
        )
        problems: list[str] = []
        for kind, queryset, state_of in tables:
            expected = dict(self.expected[kind])
            for row in queryset.order_by("pk").iterator(chunk_size=2000):
                problems.extend(
                    _compare(kind, row.pk, expected.pop(row.pk, None), state_of(row))
                )
                if len(problems) >= MAX_PROBLEMS:
                    return problems
            problems.extend(
                f"{kind} {row_id}: journalled at entry {seq} but missing from the table"
                for row_id, (seq, _state) in sorted(expected.items())
            )
        return problems


def _compare(
    kind: str,
    row_id: int,
    expected: tuple[int, dict[str, Any]] | None,
    actual: dict[str, Any],
) -> list[str]:
    if expected is None:
        return [f"{kind} {row_id}: in the table but no journal event created it"]
    seq, state = expected
    differing = sorted(key for key in state if state[key] != actual.get(key))
    if not differing:
        return []
    return [
        f"{kind} {row_id}: {', '.join(differing)} differ from journal entry {seq}"
        " (the table was changed outside the places services)"
    ]
