"""Journal event types of partner costs: ids, codes, dates and rupiah only.

A cost's description is free text that people type, so it stays in its table
and the event carries its salted hash, which lets `ledger verify` confirm
that the table still contains the recorded text. Dates are written "YYYY-MM-DD". Each
cost carries the sharing rule in force on its date, so a statement reads the
agreed split from the journal too.
"""

from kotacerdas.journal.events import EventSchema, event_type


class CostState(EventSchema):
    cost_id: int
    pilot_id: int
    pilot_slug: str
    category: str
    incurred_on: str
    amount_rupiah: int
    description_hash: str
    recorded_by_user_id: int
    # The sharing rule in force on `incurred_on`, which divides the cost
    # between the parties as it divides fees (see `sharing.statement`).
    rule_version: str
    city_bp: int
    partner_bp: int
    remainder_to: str


@event_type("sharing.cost.recorded")
class CostRecorded(CostState):
    pass


@event_type("sharing.cost.corrected")
class CostCorrected(CostState):
    # The entry this one replaces. From this event on, statements count this
    # entry and no longer the replaced one; an amount of 0 withdraws a cost.
    corrects_cost_id: int
    reason_hash: str
