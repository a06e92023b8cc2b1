"""The registry's replay checker for `ledger verify`.

Replays every registry event to rebuild what the journal says each building,
plate, household and member is, then compares that with the tables, naming
the first row that disagrees and the event that last described it.
"""

from collections.abc import Callable
from typing import Any

from kotacerdas.registry.models import Building, Household, Member, Plate

STATE_EVENTS = {
    "registry.building.registered": ("building", "building_id"),
    "registry.building.changed": ("building", "building_id"),
    "registry.household.registered": ("household", "household_id"),
    "registry.household.moved": ("household", "household_id"),
    "registry.household.retired": ("household", "household_id"),
    "registry.member.added": ("member", "member_id"),
    "registry.member.changed": ("member", "member_id"),
    "registry.member.removed": ("member", "member_id"),
    "registry.member.erased": ("member", "member_id"),
    "registry.household.erased": ("household", "household_id"),
}
NOT_STATE = {"changed_fields", "from_building_id"}
MAX_PROBLEMS = 20


class RegistryChecker:
    name = "registry"

    def __init__(self) -> None:
        self.expected: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {
            "building": {},
            "household": {},
            "member": {},
            "plate": {},
        }

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        payload = envelope.get("payload") or {}
        if event_type in STATE_EVENTS:
            kind, id_field = STATE_EVENTS[event_type]
            state = {k: v for k, v in payload.items() if k not in NOT_STATE}
            self.expected[kind][payload[id_field]] = (seq, state)
        elif event_type == "registry.plate.issued":
            self.expected["plate"][payload["plate_id"]] = (
                seq,
                {
                    "code": payload["plate_code"],
                    "building_id": payload["building_id"],
                    "revoked": False,
                    "installed": False,
                },
            )
        elif event_type in ("registry.plate.revoked", "registry.plate.installed"):
            known = self.expected["plate"].get(payload["plate_id"])
            if known is None:
                return f"entry {seq}: {event_type} names plate {payload['plate_id']}, which was never issued"
            flag = "revoked" if event_type.endswith("revoked") else "installed"
            self.expected["plate"][payload["plate_id"]] = (
                seq,
                {**known[1], flag: True},
            )
        return None

    def finish(self) -> list[str]:
        # Imported here: the state functions decrypt rows and need the app ready.
        from kotacerdas.registry.services import (
            building_state,
            household_state,
            member_state,
        )

        problems: list[str] = []
        tables: tuple[tuple[str, Any, Callable[[Any], dict[str, Any]]], ...] = (
            (
                "building",
                Building.objects.select_related("kelurahan", "unit"),
                building_state,
            ),
            ("household", Household.objects.all(), household_state),
            ("member", Member.objects.all(), member_state),
        )
        for kind, queryset, state_of in tables:
            expected = dict(self.expected[kind])
            for row in queryset.iterator(chunk_size=2000):
                problems.extend(
                    _compare(kind, row.pk, expected.pop(row.pk, None), state_of(row))
                )
                if len(problems) >= MAX_PROBLEMS:
                    return problems
            problems.extend(
                f"{kind} {row_id}: journalled at entry {seq} but missing from the table"
                for row_id, (seq, _state) in sorted(expected.items())
            )
        expected_plates = dict(self.expected["plate"])
        for plate in Plate.objects.all().iterator(chunk_size=2000):
            actual = {
                "code": plate.code,
                "building_id": plate.building_id,
                "revoked": plate.status == Plate.Status.REVOKED,
                "installed": plate.installed_at is not None,
            }
            problems.extend(
                _compare("plate", plate.pk, expected_plates.pop(plate.pk, None), actual)
            )
            if len(problems) >= MAX_PROBLEMS:
                return problems
        problems.extend(
            f"plate {plate_id}: journalled at entry {seq} but missing from the table"
            for plate_id, (seq, _state) in sorted(expected_plates.items())
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
        " (the table was changed outside the registry services)"
    ]
