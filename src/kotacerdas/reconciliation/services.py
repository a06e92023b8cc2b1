"""The daily reconciliation: do the wallets' balances still add up to the float?

Every transfer debits one account and credits another by the same amount, so
the balances of all accounts except the settlement account always sum to the
settlement account's balance negated (the float the partner bank holds). The
wallet service keeps both sides in one transaction. A difference therefore
means that a stored total was changed outside the service, and
`kotacerdas ledger verify` then names the journal entry that no longer
matches. The report also recomputes each account's four totals from its
transfers, which finds a changed account even when the changes cancel out in
the sum.

Beside the check, a day's report lists the money that crossed the settlement
account (top-ups by channel, withdrawals, counter levy payments) and the cash
each cashier must hand over: cash taken in at the counter minus cash paid out.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from kotacerdas.reconciliation.models import DailyReconciliation
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    Channel,
    Phase,
    Transfer,
    TransferKind,
    TransferStatus,
)

logger = logging.getLogger(__name__)

# Transfer rows that moved posted money. A reservation moves none until its
# post row does, and a void moves none.
MONEY_PHASES = (Phase.SINGLE, Phase.POST)
TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
SETTLEMENT = Q(kind=AccountKind.SETTLEMENT)
FROM_SETTLEMENT = Q(debit_account__kind=AccountKind.SETTLEMENT)
TO_SETTLEMENT = Q(credit_account__kind=AccountKind.SETTLEMENT)


class ReconciliationError(ValueError):
    """A report was requested for a day it cannot cover."""


@dataclass(frozen=True)
class FloatTotals:
    balances_total: int
    float_total: int
    accounts_count: int


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the start of `day` and of the next day in the city's time zone."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def compute_day(day: date, *, now: datetime | None = None) -> DailyReconciliation:
    """Compute and store the report of one day, replacing an earlier one.

    Locks the settlement account while it reads the totals, so no transfer
    through it commits between the reads. Raises ReconciliationError for a
    day that has not begun.
    """
    now = now or timezone.now()
    start, end = day_bounds(day)
    if start > now:
        raise ReconciliationError(
            f"{day:%Y-%m-%d} has not begun yet; choose today or an earlier day"
        )
    cutoff = min(end, now)

    with transaction.atomic():
        totals = _float_totals(cutoff)
        flows = _flows(start, cutoff)
        cashiers = _cashiers(start, cutoff)
    accounts_off = find_accounts_off()

    ok = totals.balances_total == totals.float_total and not accounts_off
    report, _created = DailyReconciliation.objects.update_or_create(
        date=day,
        defaults={
            "computed_at": now,
            "final": now >= end,
            "ok": ok,
            "balances_total": totals.balances_total,
            "float_total": totals.float_total,
            "accounts_count": totals.accounts_count,
            "topups_bank_va": _flow_sum(flows, TransferKind.TOPUP, Channel.BANK_VA),
            "topups_counter": _flow_sum(flows, TransferKind.TOPUP, Channel.COUNTER),
            "withdrawals": sum(f["amount"] for f in flows if f["direction"] == "out"),
            "flows": flows,
            "cashiers": cashiers,
            "accounts_off": accounts_off,
        },
    )
    if ok:
        logger.info("reconciled %s: balanced", day)
    else:
        logger.warning(
            "reconciled %s: balances differ from the float by %s, %s account "
            "totals disagree with their transfers",
            day,
            report.difference,
            len(accounts_off),
        )
    return report


def run_daily_job(now: datetime | None = None) -> None:
    """Refresh today's report and finish yesterday's; the worker runs it hourly."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    yesterday = today - timedelta(days=1)
    if not DailyReconciliation.objects.filter(date=yesterday, final=True).exists():
        compute_day(yesterday, now=now)
    compute_day(today, now=now)


def _float_totals(cutoff: datetime) -> FloatTotals:
    """Return both sides of the float check as they stood at `cutoff`.

    The stored totals are as of now, so the transfers after `cutoff` are
    taken back out. Must run in a transaction.
    """
    list(Account.objects.select_for_update().filter(SETTLEMENT).order_by("id"))
    balance = F("credits_posted") - F("debits_posted")
    stored = Account.objects.aggregate(
        others=Sum(balance, filter=~SETTLEMENT, default=0),
        settlement=Sum(balance, filter=SETTLEMENT, default=0),
        count=Count("id", filter=~SETTLEMENT),
    )
    later = Transfer.objects.filter(phase__in=MONEY_PHASES, created_at__gte=cutoff)
    moved = later.aggregate(
        paid_in=Sum("amount", filter=FROM_SETTLEMENT, default=0),
        paid_out=Sum("amount", filter=TO_SETTLEMENT, default=0),
    )
    # Money from the settlement account raised the other balances after the
    # cutoff, and money to it lowered them.
    net_in = moved["paid_in"] - moved["paid_out"]
    return FloatTotals(
        balances_total=stored["others"] - net_in,
        float_total=-(stored["settlement"] + net_in),
        accounts_count=stored["count"],
    )


def _day_money(start: datetime, cutoff: datetime) -> QuerySet[Transfer]:
    return Transfer.objects.filter(
        phase__in=MONEY_PHASES, created_at__gte=start, created_at__lt=cutoff
    ).filter(FROM_SETTLEMENT | TO_SETTLEMENT)


def _flows(start: datetime, cutoff: datetime) -> list[dict[str, Any]]:
    rows = (
        _day_money(start, cutoff)
        .annotate(
            direction=Case(
                When(FROM_SETTLEMENT, then=Value("in")), default=Value("out")
            )
        )
        .values("direction", "kind", "channel")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("direction", "kind", "channel")
    )
    return [dict(row) for row in rows]


def _flow_sum(flows: list[dict[str, Any]], kind: str, channel: str) -> int:
    return sum(
        f["amount"] for f in flows if f["kind"] == kind and f["channel"] == channel
    )


def _cashiers(start: datetime, cutoff: datetime) -> list[dict[str, Any]]:
    """Return the cash each counter actor took in and paid out during the day."""
    rows = (
        _day_money(start, cutoff)
        .filter(channel=Channel.COUNTER)
        .values("actor")
        .annotate(
            cash_in=Sum("amount", filter=FROM_SETTLEMENT, default=0),
            cash_out=Sum("amount", filter=TO_SETTLEMENT, default=0),
            count=Count("id"),
        )
        .order_by("actor")
    )
    return [dict(row) for row in rows]


def find_accounts_off() -> list[dict[str, Any]]:
    """List the account totals that disagree with the account's transfers.

    A transfer that commits between the two reads can make an account look
    wrong, so each suspect is read again with its row locked.
    """
    replayed = _replayed_totals()
    suspects = [
        account.pk
        for account in Account.objects.only("id", *TOTALS).iterator()
        if _differences(account, replayed.get(account.pk, {}))
    ]
    if not suspects:
        return []

    found: list[dict[str, Any]] = []
    with transaction.atomic():
        # Ascending ids, the lock order of the wallet service.
        locked = list(
            Account.objects.select_for_update().filter(pk__in=suspects).order_by("id")
        )
        replayed = _replayed_totals(suspects)
        for account in locked:
            for field, stored, expected in _differences(
                account, replayed.get(account.pk, {})
            ):
                found.append(
                    {
                        "account_id": account.pk,
                        "number": account.number,
                        "kind": account.kind,
                        "field": field,
                        "stored": stored,
                        "from_transfers": expected,
                    }
                )
    return found


def _differences(
    account: Account, expected: dict[str, int]
) -> list[tuple[str, int, int]]:
    return [
        (field, getattr(account, field), expected.get(field, 0))
        for field in TOTALS
        if getattr(account, field) != expected.get(field, 0)
    ]


def _replayed_totals(account_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Sum each account's transfers into the four totals the wallet stores.

    NOTE: this reads every transfer row on each run, so its time grows with
    the ledger; it has not been measured beyond the test suite's ledgers.
    """
    money = Transfer.objects.filter(phase__in=MONEY_PHASES)
    held = Transfer.objects.filter(phase=Phase.PENDING, status=TransferStatus.PENDING)
    sums = {
        "debits_posted": (money, "debit_account_id"),
        "credits_posted": (money, "credit_account_id"),
        "debits_pending": (held, "debit_account_id"),
        "credits_pending": (held, "credit_account_id"),
    }
    totals: dict[int, dict[str, int]] = {}
    for field, (rows, column) in sums.items():
        if account_ids is not None:
            rows = rows.filter(**{f"{column}__in": account_ids})
        grouped = rows.values(column).annotate(total=Sum("amount")).order_by()
        for row in grouped:
            totals.setdefault(row[column], {})[field] = row["total"]
    return totals
