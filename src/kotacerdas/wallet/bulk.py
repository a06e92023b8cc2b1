"""Opening many accounts in one transaction, for imports and the demo city.

The same rows and journal events as `services.open_account`, written with one
bulk insert and one journal append per call instead of one per account.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection

from kotacerdas.journal import services as journal
from kotacerdas.wallet.events import AccountOpened
from kotacerdas.wallet.models import BALANCE_KINDS, Account, AccountKind, Tier
from kotacerdas.wallet.numbers import new_wallet_number


@dataclass(frozen=True)
class NewAccount:
    kind: str
    label: str = ""
    member_id: int | None = None
    holder_id: int | None = None
    tier: str = Tier.UNREGISTERED


def open_accounts(
    specs: list[NewAccount], *, actor: str | None = None
) -> list[Account]:
    """Open one account per spec inside the caller's transaction; return them."""
    if not connection.in_atomic_block:
        raise RuntimeError("wallet.bulk.open_accounts must run inside a transaction")
    taken = set(Account.objects.values_list("number", flat=True))
    accounts = []
    for spec in specs:
        number = new_wallet_number()
        while number in taken:
            number = new_wallet_number()
        taken.add(number)
        accounts.append(
            Account(
                number=number,
                kind=spec.kind,
                label=spec.label,
                member_id=spec.member_id,
                holder_id=spec.holder_id,
                tier=spec.tier,
                debits_must_not_exceed_credits=spec.kind in BALANCE_KINDS,
                credits_must_not_exceed_debits=spec.kind == AccountKind.SETTLEMENT,
            )
        )
    Account.objects.bulk_create(accounts, batch_size=2000)
    # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+; read them
    # back by number so this also works where it does not.
    by_number = Account.objects.in_bulk(
        [a.number for a in accounts], field_name="number"
    )
    stored = [by_number[a.number] for a in accounts]
    events: list[tuple[str, Any]] = [
        ("wallet.account.opened", _opened(account)) for account in stored
    ]
    journal.append_many(events, actor=actor)
    return stored


def _opened(account: Account) -> AccountOpened:
    return AccountOpened(
        account_id=account.pk,
        number=account.number,
        kind=account.kind,
        code=account.code,
        member_id=account.member_id,
        tier=account.tier,
        status=account.status,
        debits_must_not_exceed_credits=account.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=account.credits_must_not_exceed_debits,
    )
