"""The monthly statement per party, computed from the journal alone.

A statement reads journal entries 0 to `position - 1` and nothing else:

- `wallet.fee.charged` events of the month give the revenue by fee code and
  its split, with the sharing rule each fee followed;
- `wallet.transfer.posted` events of the month give the movement of the
  `fees:city` and `fees:partner` accounts, whose ids come from their
  `wallet.account.opened` events;
- `sharing.cost.recorded` and `sharing.cost.corrected` events give the
  partner's costs in effect at that position whose date falls in the month,
  each divided by the sharing rule in force on its date.

What is owed: the partner's share of each fee sits in `fees:partner` in the
city's ledger until it is paid out, and the city bears its share of the
partner's costs, as it takes its share of the fees. So for the month the city
owes the partner the partner's fee share plus the city's share of the costs.
Costs are divided with `split.split_fee`, so the party that takes the
remainder rupiah of a fee also bears the remainder rupiah of a cost.

A fee belongs to the month of its event's local time; a cost to the month of
its date. The same month at the same position always gives the same figures,
and later entries about other months never change them.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from kotacerdas.journal import services as journal
from kotacerdas.journal.models import Block, Entry
from kotacerdas.levy.months import last_day
from kotacerdas.sharing.schedule import CITY, PARTIES, PARTNER, SharingRule
from kotacerdas.sharing.split import split_fee

FEES_CITY = "fees:city"
FEES_PARTNER = "fees:partner"
FEE_ACCOUNTS = {CITY: FEES_CITY, PARTNER: FEES_PARTNER}
FEE_EVENT = "wallet.fee.charged"
TRANSFER_EVENT = "wallet.transfer.posted"
ACCOUNT_EVENT = "wallet.account.opened"
COST_EVENTS = ("sharing.cost.recorded", "sharing.cost.corrected")
BATCH = 2000


class StatementUnavailable(ValueError):
    """No statement exists for the request: unknown party or an invalid position."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    """A sharing rule as an event recorded it."""

    version: str
    city_bp: int
    partner_bp: int
    remainder_to: str

    def as_rule(self) -> SharingRule:
        return SharingRule(
            valid_from=date.fromisoformat(self.version),
            city_bp=self.city_bp,
            partner_bp=self.partner_bp,
            remainder_to=self.remainder_to,
        )


@dataclass(frozen=True)
class RevenueLine:
    """The fees of one code in the month and their split, under one rule."""

    fee_code: str
    fee_kind: str
    rule: Rule
    payments: int
    fee_rupiah: int
    city_rupiah: int
    partner_rupiah: int


@dataclass(frozen=True)
class CostLine:
    """One partner cost in effect, with the parties' shares of it."""

    cost_id: int
    entry_seq: int
    pilot_slug: str
    category: str
    incurred_on: date
    amount_rupiah: int
    rule: Rule
    city_rupiah: int
    partner_rupiah: int
    corrects_cost_id: int | None


@dataclass(frozen=True)
class Movement:
    """Credits and debits of one fee account in the month."""

    code: str
    credits_rupiah: int
    debits_rupiah: int

    @property
    def net_rupiah(self) -> int:
        return self.credits_rupiah - self.debits_rupiah


@dataclass(frozen=True)
class Statement:
    """One party's monthly statement and the journal position it was read at."""

    month: date
    party: str
    position: int
    revenue: tuple[RevenueLine, ...]
    costs: tuple[CostLine, ...]
    movements: dict[str, Movement]
    computed_at: datetime
    block: Block | None = field(default=None, compare=False)

    @property
    def fees_rupiah(self) -> int:
        return sum(line.fee_rupiah for line in self.revenue)

    @property
    def city_fees_rupiah(self) -> int:
        return sum(line.city_rupiah for line in self.revenue)

    @property
    def partner_fees_rupiah(self) -> int:
        return sum(line.partner_rupiah for line in self.revenue)

    @property
    def costs_rupiah(self) -> int:
        return sum(line.amount_rupiah for line in self.costs)

    @property
    def city_costs_rupiah(self) -> int:
        return sum(line.city_rupiah for line in self.costs)

    @property
    def partner_costs_rupiah(self) -> int:
        return sum(line.partner_rupiah for line in self.costs)

    @property
    def owed_to_partner_rupiah(self) -> int:
        """What the city owes the partner for the month: fee share and cost share."""
        return self.partner_fees_rupiah + self.city_costs_rupiah

    @property
    def party_fees_rupiah(self) -> int:
        return self.city_fees_rupiah if self.party == CITY else self.partner_fees_rupiah

    @property
    def party_costs_rupiah(self) -> int:
        return (
            self.city_costs_rupiah if self.party == CITY else self.partner_costs_rupiah
        )

    @property
    def party_net_rupiah(self) -> int:
        """The party's fee share less its share of the partner's costs."""
        return self.party_fees_rupiah - self.party_costs_rupiah

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every sharing rule the month's fees and costs followed, oldest first."""
        seen = {line.rule for line in self.revenue} | {line.rule for line in self.costs}
        return tuple(sorted(seen, key=lambda rule: rule.version))

    @property
    def figures(self) -> tuple[int, ...]:
        """The statement's figures, for comparing two computations."""
        return (
            self.fees_rupiah,
            self.city_fees_rupiah,
            self.partner_fees_rupiah,
            self.costs_rupiah,
            self.city_costs_rupiah,
            self.partner_costs_rupiah,
            self.owed_to_partner_rupiah,
        )

    def shares_match_movements(self) -> bool:
        """Tell whether each party's fee share equals its fee account's credits."""
        return all(
            self.movements[FEE_ACCOUNTS[party]].credits_rupiah == share
            for party, share in (
                (CITY, self.city_fees_rupiah),
                (PARTNER, self.partner_fees_rupiah),
            )
        )


def compute(month: date, party: str, position: int | None = None) -> Statement:
    """Compute a party's statement for a month from entries 0 to position - 1.

    `position` defaults to the journal's size now. Raises StatementUnavailable
    for an unknown party or a position past the journal's end.
    """
    if party not in PARTIES:
        raise StatementUnavailable("party", f"party {party!r} is not city or partner")
    size = journal.journal_size()
    position = size if position is None else position
    if not 0 <= position <= size:
        raise StatementUnavailable(
            "position", f"position {position} is outside the journal (0 to {size})"
        )
    month = month.replace(day=1)
    accounts = _fee_account_ids(position)
    revenue = _revenue(month, position)
    movements = _movements(month, position, accounts)
    costs = _costs(month, position)
    return Statement(
        month=month,
        party=party,
        position=position,
        revenue=revenue,
        costs=costs,
        movements=movements,
        computed_at=timezone.now(),
        block=_covering_block(position),
    )


def _covering_block(position: int) -> Block | None:
    """Return the first block whose tree holds entries 0 to position - 1.

    Before such a block is sealed, return the latest block, which holds
    fewer entries than the statement read.
    """
    covering = Block.objects.filter(tree_size__gte=max(position, 1))
    found = covering.order_by("tree_size").first()
    return found or Block.objects.order_by("-height").first()


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """Return the month's start and the next month's start, in the city's zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(month.replace(day=1), time(), tzinfo=zone)
    following = last_day(month).toordinal() + 1
    end = datetime.combine(date.fromordinal(following), time(), tzinfo=zone)
    return start, end


def _entries(
    types: Iterable[str], position: int, month: date | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (seq, payload) of entries of `types` before `position`, in order.

    With a month, only entries recorded in it; `recorded_at` is the time in
    the entry's body.
    """
    rows = Entry.objects.filter(event_type__in=list(types), seq__lt=position)
    if month is not None:
        start, end = month_bounds(month)
        rows = rows.filter(recorded_at__gte=start, recorded_at__lt=end)
    last = -1
    while True:
        batch = list(
            rows.filter(seq__gt=last).order_by("seq").values_list("seq", "body")[:BATCH]
        )
        if not batch:
            return
        for seq, body in batch:
            yield seq, json.loads(bytes(body))["payload"]
        last = batch[-1][0]


def _fee_account_ids(position: int) -> dict[int, str]:
    """Map the ids of the fee accounts opened before `position` to their codes."""
    codes = set(FEE_ACCOUNTS.values())
    return {
        payload["account_id"]: payload["code"]
        for _seq, payload in _entries([ACCOUNT_EVENT], position)
        if payload["code"] in codes
    }


def _revenue(month: date, position: int) -> tuple[RevenueLine, ...]:
    sums: dict[tuple[str, str, Rule], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for _seq, fee in _entries([FEE_EVENT], position, month):
        rule = Rule(
            fee["sharing_valid_from"],
            fee["city_bp"],
            fee["partner_bp"],
            fee["remainder_to"],
        )
        line = sums[(fee["fee_code"], fee["fee_kind"], rule)]
        line[0] += 1
        line[1] += fee["fee_amount"]
        line[2] += fee["city_amount"]
        line[3] += fee["partner_amount"]
    return tuple(
        RevenueLine(code, kind, rule, *values)
        for (code, kind, rule), values in sorted(
            sums.items(), key=lambda item: (item[0][0], item[0][2].version)
        )
    )


def _movements(
    month: date, position: int, accounts: dict[int, str]
) -> dict[str, Movement]:
    credits = dict.fromkeys(FEE_ACCOUNTS.values(), 0)
    debits = dict.fromkeys(FEE_ACCOUNTS.values(), 0)
    for _seq, transfer in _entries([TRANSFER_EVENT], position, month):
        credited = accounts.get(transfer["credit_account_id"])
        debited = accounts.get(transfer["debit_account_id"])
        if credited is not None:
            credits[credited] += transfer["amount"]
        if debited is not None:
            debits[debited] += transfer["amount"]
    return {code: Movement(code, credits[code], debits[code]) for code in credits}


def _costs(month: date, position: int) -> tuple[CostLine, ...]:
    """Return the costs in effect at `position` whose date falls in the month."""
    in_effect: dict[int, CostLine] = {}
    for seq, cost in _entries(COST_EVENTS, position):
        replaced = cost.get("corrects_cost_id")
        if replaced is not None:
            in_effect.pop(replaced, None)
        in_effect[cost["cost_id"]] = _cost_line(seq, cost)
    wanted = [
        line
        for line in in_effect.values()
        if line.incurred_on.replace(day=1) == month and line.amount_rupiah > 0
    ]
    return tuple(sorted(wanted, key=lambda line: (line.incurred_on, line.cost_id)))


def _cost_line(seq: int, cost: dict[str, Any]) -> CostLine:
    rule = Rule(
        cost["rule_version"], cost["city_bp"], cost["partner_bp"], cost["remainder_to"]
    )
    parts = split_fee(cost["amount_rupiah"], rule.as_rule())
    return CostLine(
        cost_id=cost["cost_id"],
        entry_seq=seq,
        pilot_slug=cost["pilot_slug"],
        category=cost["category"],
        incurred_on=date.fromisoformat(cost["incurred_on"]),
        amount_rupiah=cost["amount_rupiah"],
        rule=rule,
        city_rupiah=parts.city_rupiah,
        partner_rupiah=parts.partner_rupiah,
        corrects_cost_id=cost.get("corrects_cost_id"),
    )


def ledger_movements(month: date) -> dict[str, Movement]:
    """Read the month's movement of the fee accounts from the wallet's tables.

    This is the wallet ledger's own record, for checking a statement against
    it: posted single transfers and posts of reservations, by creation time.
    """
    from kotacerdas.wallet.models import Account, Phase, Transfer, TransferStatus

    # NOTE: a transfer's creation time and its journal entry's time are read
    # from the clock separately, microseconds apart, so a fee posted at the
    # very turn of a month can fall into different months here and in the
    # statement.
    start, end = month_bounds(month)
    posted = Transfer.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        status=TransferStatus.POSTED,
        phase__in=[Phase.SINGLE, Phase.POST],
    )
    found = {}
    for code in FEE_ACCOUNTS.values():
        account = Account.objects.filter(code=code).first()
        if account is None:
            found[code] = Movement(code, 0, 0)
            continue
        credits = posted.filter(credit_account=account).aggregate(total=Sum("amount"))
        debits = posted.filter(debit_account=account).aggregate(total=Sum("amount"))
        found[code] = Movement(code, credits["total"] or 0, debits["total"] or 0)
    return found
