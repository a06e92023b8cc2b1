"""Journal event types of the registry: ids, codes and salted hashes only.

`details_hash` is SHA-256 over the row's own random salt and the canonical
JSON of its personal fields (address and coordinates, names, NIK/KK, phone).
It lets `ledger verify` confirm the table still holds what was journalled
while the journal itself holds nothing personal; erasing a person's data
erases the salt, after which the hash links to nothing.
"""

from kotacerdas.journal.events import EventSchema, event_type


class BuildingState(EventSchema):
    building_id: int
    plate_code: str
    kelurahan_code: str
    rw: str
    rt: str
    use: str
    floors: int
    floor_area_m2: int | None
    pln_va: int | None
    levy_class: str
    status: str
    details_hash: str


@event_type("registry.building.registered")
class BuildingRegistered(BuildingState):
    pass


@event_type("registry.building.changed")
class BuildingChanged(BuildingState):
    changed_fields: list[str]


@event_type("registry.plate.issued")
class PlateIssued(EventSchema):
    plate_id: int
    building_id: int
    plate_code: str
    key_id: str


@event_type("registry.plate.installed")
class PlateInstalled(EventSchema):
    plate_id: int
    plate_code: str


@event_type("registry.plate.revoked")
class PlateRevoked(EventSchema):
    plate_id: int
    plate_code: str
    reason: str


class HouseholdState(EventSchema):
    household_id: int
    building_id: int
    status: str
    details_hash: str


@event_type("registry.household.registered")
class HouseholdRegistered(HouseholdState):
    pass


@event_type("registry.household.moved")
class HouseholdMoved(HouseholdState):
    from_building_id: int


@event_type("registry.household.retired")
class HouseholdRetired(HouseholdState):
    pass


class MemberState(EventSchema):
    member_id: int
    household_id: int
    relation: str
    status: str
    details_hash: str


@event_type("registry.member.added")
class MemberAdded(MemberState):
    pass


@event_type("registry.member.changed")
class MemberChanged(MemberState):
    changed_fields: list[str]


@event_type("registry.member.removed")
class MemberRemoved(MemberState):
    pass


@event_type("registry.member.erased")
class MemberErased(MemberState):
    """A member's personal data was erased on request; `details_hash` is new."""


@event_type("registry.household.erased")
class HouseholdErased(HouseholdState):
    """A household's KK was erased with the last of its members' data."""
