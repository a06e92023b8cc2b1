"""Journal event types of accounts: who holds which role is a business fact."""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("accounts.roles.changed")
class RolesChanged(EventSchema):
    user_id: int
    roles: list[str]
    actor_id: int | None
