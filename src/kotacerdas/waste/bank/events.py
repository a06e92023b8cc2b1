"""Journal event types of the waste banks: ids, codes, grams and rupiah only.

Members appear by membership id and member number, never by name, and
off-takers by id, because their names are typed by people. Replaying these
events rebuilds every unit, membership, price list, deposit and sale row
(see `waste.bank.checks`). Dates are written "YYYY-MM-DD".
"""

from kotacerdas.journal.events import EventSchema, event_type


class Line(EventSchema):
    """One material line of a deposit or a sale."""

    material: str
    weight_g: int
    price_per_kg: int
    value: int


@event_type("wastebank.unit.opened")
class UnitOpened(EventSchema):
    unit_id: int
    code: str
    kind: str
    site_id: int
    account_id: int


@event_type("wastebank.member.joined")
class MemberJoined(EventSchema):
    membership_id: int
    unit_id: int
    number: str
    account_id: int
    joined_on: str


@event_type("wastebank.prices.set")
class PricesSet(EventSchema):
    price_list_id: int
    unit_id: int
    valid_from: str
    # Rupiah per kilogram by material code.
    prices: dict[str, int]


@event_type("wastebank.deposit.recorded")
class DepositRecorded(EventSchema):
    deposit_id: int
    unit_id: int
    membership_id: int
    client_id: str
    transfer_client_id: str
    price_list_id: int
    items: list[Line]
    total_value: int


@event_type("wastebank.deposit.posted")
class DepositPosted(EventSchema):
    deposit_id: int
    transfer_client_id: str
    # Positions (from 0) of the items sorting found unfit; they are not paid.
    rejected_items: list[int]
    posted_value: int


@event_type("wastebank.deposit.voided")
class DepositVoided(EventSchema):
    deposit_id: int
    transfer_client_id: str
    reason: str


@event_type("wastebank.offtaker.added")
class OfftakerAdded(EventSchema):
    offtaker_id: int
    unit_id: int
    kind: str


@event_type("wastebank.sale.recorded")
class SaleRecorded(EventSchema):
    sale_id: int
    unit_id: int
    offtaker_id: int
    number: str
    sold_on: str
    items: list[Line]
    total_value: int
