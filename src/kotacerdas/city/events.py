"""Journal event types of the city profile."""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("city.profile.loaded")
class ProfileLoaded(EventSchema):
    city_code: str
    profile_sha256: str
    area_codes: list[str]


@event_type("city.unit.created")
class UnitCreated(EventSchema):
    unit_id: int
    kelurahan_code: str
    rw: str
    rt: str
