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
