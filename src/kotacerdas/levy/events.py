"""Journal event types of the waste levy: ids, codes, months and amounts only.

Bills name their payer by building and household id, never by a person.
Replaying these events rebuilds every bill's amount, paid amount and status
(see `levy.checks`). Months are written "YYYY-MM".
"""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("levy.tariff.set")
class TariffSet(EventSchema):
    tariff_id: int
    levy_class: str
    monthly_amount: int
    valid_from: str
    # "profile" when seeded from the city profile, "officer" when set by hand.
    source: str


@event_type("levy.bill.issued")
class BillIssued(EventSchema):
    bill_id: int
    number: str
    building_id: int
    household_id: int | None
    kelurahan_code: str
    month: str
    levy_class: str
    tariff_id: int
    amount: int
    due_date: str
    run_id: int | None


@event_type("levy.payment.recorded")
class PaymentRecorded(EventSchema):
    # A payment is named by its transfer: one transfer pays at most one bill.
    bill_id: int
    number: str
    amount: int
    transfer_client_id: str
    transfer_reference: str
    channel: str
    # The bill after this payment.
    paid_amount: int
    status: str


@event_type("levy.bill.cancelled")
class BillCancelled(EventSchema):
    bill_id: int
    number: str
    reason: str
