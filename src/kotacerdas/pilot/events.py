"""Journal event types of pilots: slugs, dates, area codes and service codes.

A pilot's name and notes stay in its table, because people type names into
free text. Every event carries the full new state, so replaying them
rebuilds the pilot tables.
"""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("pilot.pilot.created")
class PilotCreated(EventSchema):
    pilot_id: int
    slug: str
    starts_on: str
    ends_on: str
    services: list[str]
    # Areas as "kelurahan_code/rw/rt", with blank parts for a whole unit.
    areas: list[str]


@event_type("pilot.pilot.changed")
class PilotChanged(EventSchema):
    pilot_id: int
    slug: str
    starts_on: str
    ends_on: str
    services: list[str]
    areas: list[str]


@event_type("pilot.pilot.grown")
class PilotGrown(EventSchema):
    pilot_id: int
    slug: str
    added_areas: list[str]
    areas: list[str]


@event_type("pilot.pilot.ended")
class PilotEnded(EventSchema):
    pilot_id: int
    slug: str
    ends_on: str


@event_type("pilot.scope.changed")
class ScopeChanged(EventSchema):
    service: str
    scope: str
