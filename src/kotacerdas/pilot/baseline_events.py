"""The journal event of a paper baseline figure: codes, dates and the value only.

The source note is typed by people and may name them, so it stays in the
table and never reaches the journal.
"""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("pilot.baseline.entered")
class BaselineEntered(EventSchema):
    baseline_id: int
    pilot_id: int
    pilot_slug: str
    kelurahan_code: str
    metric: str
    starts_on: str
    ends_on: str
    value: int
    revision: int
