"""Replay checkers: each app compares its tables with what the journal says.

`ledger verify` feeds every entry, in order, to every registered checker, then
asks each for the problems it found. An app registers its checker in its
AppConfig.ready(). This module also holds the journal's own checker, which
confirms every entry is a declared event with a valid, personal-data-free
payload and that its row matches its body.
"""

import json
from collections.abc import Callable
from typing import Any, Protocol

from kotacerdas.journal.events import InvalidPayload, UnknownEventType, validate_stored
from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data


class ReplayChecker(Protocol):
    """Compares one app's tables with the events that built them."""

    name: str

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        """Take one entry; return a problem description or None."""

    def finish(self) -> list[str]:
        """Return the problems found after all entries, each naming a row or entry."""


CheckerFactory = Callable[[], ReplayChecker]
_factories: dict[str, CheckerFactory] = {}


def register_checker(name: str, factory: CheckerFactory) -> None:
    _factories[name] = factory


def build_checkers(full_history: bool) -> list[ReplayChecker]:
    """Return fresh checkers; table comparisons need the whole history to run."""
    checkers: list[ReplayChecker] = [JournalChecker()]
    if full_history:
        checkers.extend(factory() for factory in _factories.values())
    return checkers


class JournalChecker:
    """Checks each entry's envelope, event type and payload."""

    name = "journal"

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        if envelope.get("seq") != seq:
            return f"entry {seq}: body names sequence number {envelope.get('seq')}"
        if envelope.get("type") != event_type:
            return f"entry {seq}: row type {event_type!r} differs from body type {envelope.get('type')!r}"
        try:
            validate_stored(event_type, json.dumps(envelope.get("payload")))
            reject_personal_data(envelope.get("payload"))
        except (UnknownEventType, InvalidPayload, PersonalDataError) as error:
            return f"entry {seq}: {error}"
        return None

    def finish(self) -> list[str]:
        return []
