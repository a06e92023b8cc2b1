"""Declared event types: each has a pydantic schema validated on append.

An app declares its events at import time:

    @event_type("registry.building.registered")
    class BuildingRegistered(EventSchema):
        building_id: int
        plate_code: str

Schemas forbid unknown fields, so a payload cannot smuggle in a field the
schema does not name, and declaring a field named like personal data fails.
"""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from kotacerdas.journal.personal_data import PersonalDataError, check_key


class EventSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class UnknownEventType(LookupError):
    """The event type was never declared."""


class InvalidPayload(ValueError):
    """The payload does not match its event type's schema."""


_schemas: dict[str, type[EventSchema]] = {}


def event_type(name: str) -> Callable[[type[EventSchema]], type[EventSchema]]:
    """Register `schema` as the payload schema of events called `name`."""
    if name.count(".") < 2 or name != name.lower():
        raise ValueError(f"event type {name!r} is invalid; use app.noun.past_verb")

    def register(schema: type[EventSchema]) -> type[EventSchema]:
        if _schemas.get(name, schema) is not schema:
            raise ValueError(f"event type {name!r} is declared twice")
        for field in schema.model_fields:
            try:
                check_key(field, f"{name}.{field}")
            except PersonalDataError as error:
                raise ValueError(str(error)) from error
        _schemas[name] = schema
        return schema

    return register


def schema_for(name: str) -> type[EventSchema]:
    try:
        return _schemas[name]
    except KeyError:
        raise UnknownEventType(f"event type {name!r} is not declared") from None


def declared_types() -> list[str]:
    return sorted(_schemas)


def validate_payload(
    name: str, payload: dict[str, Any] | EventSchema
) -> dict[str, Any]:
    """Return the payload as plain JSON values after checking it against its schema."""
    schema = schema_for(name)
    if isinstance(payload, EventSchema):
        if not isinstance(payload, schema):
            raise InvalidPayload(
                f"{name}: expected {schema.__name__}, got {type(payload).__name__}"
            )
        return payload.model_dump(mode="json")
    try:
        return schema.model_validate(payload).model_dump(mode="json")
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "payload"
        raise InvalidPayload(f"{name}: {location}: {first['msg']}") from error


def validate_stored(name: str, payload_json: str) -> None:
    """Check a payload read back from the journal (JSON text) against its schema."""
    schema = schema_for(name)
    try:
        schema.model_validate_json(payload_json)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "payload"
        raise InvalidPayload(f"{name}: {location}: {first['msg']}") from error
