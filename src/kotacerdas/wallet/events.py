"""Journal event types of the wallet: account ids, numbers and amounts only.

A holder's name never enters an event: a citizen wallet names its registry
member by id. Transfers are named by their client id, so replaying the events
rebuilds every account's four totals without reading the tables.
"""

from kotacerdas.journal.events import EventSchema, event_type


class AccountState(EventSchema):
    account_id: int
    number: str
    kind: str
    code: str | None
    member_id: int | None
    tier: str
    status: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool


@event_type("wallet.account.opened")
class AccountOpened(AccountState):
    pass


@event_type("wallet.account.changed")
class AccountChanged(AccountState):
    changed_fields: list[str]


class TransferEvent(EventSchema):
    client_id: str
    reference: str
    kind: str
    channel: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    link_group: str
    memo: str


@event_type("wallet.transfer.posted")
class TransferPosted(TransferEvent):
    # The reservation this posts, or None for a single-phase transfer.
    pending_client_id: str | None
    # For a post: the amount reserved, of which `amount` was taken.
    reserved_amount: int | None


@event_type("wallet.transfer.pending")
class TransferPending(TransferEvent):
    expires_at: str | None


@event_type("wallet.transfer.voided")
class TransferVoided(TransferEvent):
    pending_client_id: str
    # "voided" on request, "expired" when the reservation timed out.
    reason: str


@event_type("wallet.fee.charged")
class FeeCharged(EventSchema):
    """A fee on one payment and its split, journalled with the fee's transfers.

    It names the fee entry and the sharing rule that applied by their codes and
    dates, so a statement recomputed from the journal alone gets the same
    split however the schedule changes later. Dates are "YYYY-MM-DD".
    """

    payment_client_id: str
    payment_kind: str
    payment_amount: int
    fee_code: str
    fee_kind: str
    fee_valid_from: str
    fee_rate_bp: int
    bearer: str
    bearer_account_id: int
    fee_amount: int
    sharing_valid_from: str
    city_bp: int
    partner_bp: int
    remainder_to: str
    city_amount: int
    partner_amount: int
    # The client ids of the fee's transfers, or None for a part of 0 rupiah.
    city_client_id: str | None
    partner_client_id: str | None
