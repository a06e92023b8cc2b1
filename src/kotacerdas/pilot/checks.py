"""Replay checker of pilots and service scopes: the tables match their events."""

from typing import Any

from kotacerdas.pilot.models import Pilot, ServiceScope
from kotacerdas.pilot.services import Scope

PILOT_EVENTS = ("pilot.pilot.created", "pilot.pilot.changed", "pilot.pilot.grown")


class PilotChecker:
    """Rebuilds each pilot's dates, services and areas, and each scope."""

    name = "pilot"

    def __init__(self) -> None:
        self.pilots: dict[int, dict[str, Any]] = {}
        self.scopes: dict[str, str] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        payload = envelope.get("payload") or {}
        if event_type in PILOT_EVENTS:
            state = self.pilots.setdefault(payload["pilot_id"], {"ended": False})
            state["slug"] = payload["slug"]
            state["areas"] = sorted(payload["areas"])
            for field in ("starts_on", "ends_on", "services"):
                if field in payload:
                    state[field] = payload[field]
        elif event_type == "pilot.pilot.ended":
            ended = self.pilots.get(payload["pilot_id"])
            if ended is None:
                return f"entry {seq}: ends pilot {payload['pilot_id']}, never created"
            ended["ends_on"] = payload["ends_on"]
            ended["ended"] = True
        elif event_type == "pilot.scope.changed":
            self.scopes[payload["service"]] = payload["scope"]
        return None

    def finish(self) -> list[str]:
        problems = []
        stored = {pilot.pk: pilot for pilot in Pilot.objects.prefetch_related("areas")}
        for pilot_id in sorted(set(stored) | set(self.pilots)):
            pilot, state = stored.get(pilot_id), self.pilots.get(pilot_id)
            if pilot is None or state is None:
                where = "journal" if pilot is None else "table"
                problems.append(f"pilot {pilot_id}: only in the {where}")
                continue
            if _table_state(pilot) != state:
                problems.append(f"pilot {pilot_id}: table differs from its events")
        scopes = dict(ServiceScope.objects.values_list("service", "scope"))
        for service in sorted(set(scopes) | set(self.scopes)):
            table = scopes.get(service, Scope.EVERYWHERE)
            if table != self.scopes.get(service, Scope.EVERYWHERE):
                problems.append(f"scope of {service}: table differs from its events")
        return problems


def _table_state(pilot: Pilot) -> dict[str, Any]:
    return {
        "ended": pilot.ended_at is not None,
        "slug": pilot.slug,
        "areas": sorted(
            f"{area.kelurahan_code}/{area.rw}/{area.rt}" for area in pilot.areas.all()
        ),
        "starts_on": pilot.starts_on.isoformat(),
        "ends_on": pilot.ends_on.isoformat(),
        "services": list(pilot.services),
    }
