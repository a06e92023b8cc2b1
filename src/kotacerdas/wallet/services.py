"""The only write path to wallet balances: opening accounts and transfers.

Every call runs in one transaction. It locks the accounts it touches in
ascending id order, so two transfers between the same accounts cannot
deadlock. It then checks the request against the accounts' flags, the e-money
limits and the operating mode, updates the running totals, writes the
transfer rows and appends one journal event per transfer last. The database's
check constraints back each invariant a second time.

A client-chosen id makes each submit idempotent. The same id with the same
request returns the stored transfer, and the same id with a different request
is rejected. A rejected request stores nothing, so retrying it after the cause
is fixed (a top-up arrived) can succeed.
"""

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data
from kotacerdas.wallet import policy as wallet_policy
from kotacerdas.wallet import storage
from kotacerdas.wallet.events import AccountChanged, AccountOpened
from kotacerdas.wallet.models import (
    BALANCE_KINDS,
    Account,
    AccountKind,
    AccountMonth,
    AccountStatus,
    Channel,
    Phase,
    Tier,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.wallet.numbers import new_wallet_number

logger = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MEMO_MAX = 64
MAX_AMOUNT = 10**15
# The expiry job writes its voids under ids with this prefix. Clients may not
# use it, because a client could block an expiry by taking its void id first.
EXPIRE_PREFIX = "expire:"
SETTLEMENT_CODE = "settlement"
# Django builds `.values` anew on every access.
TRANSFER_KINDS = frozenset(TransferKind.values)
CHANNELS = frozenset(Channel.values)
FEES_CODE = "fees"
# A batch that loses a race for one of its ids to a concurrent insert runs again
# from the start. Each lost race needs another client to commit one of its ids.
BATCH_ATTEMPTS = 3


class TransferRejected(Exception):
    """A transfer request was not carried out; nothing was written.

    `code` is stable for programs, `field` names the request field at fault
    and `message` is for people, in the active language.
    """

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TransferRequest:
    id: str
    debit: str
    credit: str
    amount: int
    kind: str
    channel: str = Channel.APP
    pending: bool = False
    timeout_s: int | None = None
    memo: str = ""

    def fingerprint(self, link_group: str) -> str:
        """Return the SHA-256 of the canonical request body without its id."""
        body = {
            "debit": self.debit,
            "credit": self.credit,
            "amount": self.amount,
            "kind": self.kind,
            "channel": self.channel,
            "pending": self.pending,
            "timeout_s": self.timeout_s,
            "memo": self.memo,
            "link_group": link_group,
        }
        return hashlib.sha256(journal.canonical_json(body)).hexdigest()

    def known_hashes(self) -> set[str]:
        """Return the stored hashes of this request, alone or linked with its fee."""
        return {self.fingerprint(""), self.fingerprint(self.id)}


@dataclass
class _Plan:
    """Changes to the locked accounts, applied only when every check passed."""

    accounts: dict[str, Account]
    policy: wallet_policy.WalletPolicy
    # This month's stored credits of every limited account in the plan, read
    # in one query when the first credit to such an account is checked.
    month_base: dict[int, int] | None = None
    month: date | None = None
    # Credits this plan adds on top of month_base, per account id.
    months: dict[int, int] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)


# ---------------------------------------------------------------- accounts


def open_account(
    kind: str,
    *,
    label: str = "",
    code: str | None = None,
    member: Any = None,
    holder: Any = None,
    tier: str | None = None,
    actor: str | None = None,
) -> Account:
    """Open an account with a fresh wallet number and journal it.

    Accounts that hold money owed to someone get "debits must not exceed
    credits". The settlement account gets the mirror flag, because the partner
    bank cannot pay out more than was paid in.
    """
    if kind not in AccountKind.values:
        raise ValueError(
            f"account kind {kind!r} is invalid; use one of {AccountKind.values}"
        )
    if tier is None:
        tier = (
            Tier.REGISTERED
            if member is not None or kind != AccountKind.CITIZEN
            else Tier.UNREGISTERED
        )
    with transaction.atomic():
        for _attempt in range(5):
            number = new_wallet_number()
            if not Account.objects.filter(number=number).exists():
                break
        account = Account.objects.create(
            number=number,
            kind=kind,
            code=code,
            label=label,
            member=member,
            holder=holder,
            tier=tier,
            debits_must_not_exceed_credits=kind in BALANCE_KINDS,
            credits_must_not_exceed_debits=kind == AccountKind.SETTLEMENT,
        )
        journal.append("wallet.account.opened", _account_state(account), actor=actor)
    logger.info("wallet account opened id=%s kind=%s", account.id, kind)
    return account


def system_account(code: str, kind: str, label: str) -> Account:
    """Return the city account with this code, opening it on first use."""
    found = Account.objects.filter(code=code).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return open_account(kind, code=code, label=label, actor="system")
    except IntegrityError:
        return Account.objects.get(code=code)


def settlement_account() -> Account:
    return system_account(SETTLEMENT_CODE, AccountKind.SETTLEMENT, "Settlement")


def fees_account() -> Account:
    return system_account(FEES_CODE, AccountKind.FEES, "Fees")


def revenue_account(levy_type: str) -> Account:
    """Return the city revenue account of one levy type (e.g. `waste_levy`)."""
    return system_account(f"revenue:{levy_type}", AccountKind.REVENUE, levy_type)


def find_account(number: str) -> Account | None:
    return Account.objects.filter(number=number).first()


def wallet_for(user: Any, *, open_if_missing: bool = True) -> Account | None:
    """Return a user's citizen wallet, opening one on first use.

    A user linked to a registry member gets a registered wallet tied to that
    member, taking over a wallet the member already had. Anyone else gets an
    unregistered one, with the lower e-money limits.
    """
    found = Account.objects.filter(holder=user, kind=AccountKind.CITIZEN).first()
    if found is not None or not open_if_missing:
        return found
    from kotacerdas.registry.models import Member

    member = Member.objects.filter(user=user, status=Member.Status.ACTIVE).first()
    try:
        with transaction.atomic():
            if member is not None:
                existing = (
                    Account.objects.select_for_update().filter(member=member).first()
                )
                if existing is not None:
                    Account.objects.filter(pk=existing.pk).update(holder=user)
                    existing.holder = user
                    return existing
            return open_account(
                AccountKind.CITIZEN,
                member=member,
                holder=user,
                tier=Tier.REGISTERED if member is not None else Tier.UNREGISTERED,
                actor=f"user:{user.pk}",
            )
    except IntegrityError:
        # Another request of the same user opened (or took over) the wallet
        # first; the unique constraint on the holder stopped this one.
        found = Account.objects.filter(holder=user, kind=AccountKind.CITIZEN).first()
        if found is None:
            raise
        logger.info("wallet for user %s was opened by a concurrent request", user.pk)
        return found


def merchant_account_for(user: Any) -> Account | None:
    """Return the merchant account a user receives payments into, if any."""
    return Account.objects.filter(holder=user, kind=AccountKind.MERCHANT).first()


def open_merchant(
    user: Any, business_name: str, *, actor: str | None = None
) -> Account:
    """Open a merchant account for a user; the business name is shown to payers."""
    name = business_name.strip()
    if not name:
        raise ValueError("a merchant needs a business name")
    return open_account(AccountKind.MERCHANT, label=name[:80], holder=user, actor=actor)


def change_account(
    account: Account,
    *,
    tier: str | None = None,
    status: str | None = None,
    member: Any = None,
    actor: str | None = None,
) -> Account:
    """Change an account's tier, status or member, and journal the change."""
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        changed = []
        if tier is not None and tier != locked.tier:
            if tier not in Tier.values:
                raise ValueError(f"tier {tier!r} is invalid")
            locked.tier = tier
            changed.append("tier")
        if status is not None and status != locked.status:
            if status not in AccountStatus.values:
                raise ValueError(f"status {status!r} is invalid")
            locked.status = status
            changed.append("status")
        if member is not None and member.pk != locked.member_id:
            locked.member = member
            changed.append("member")
        if not changed:
            return locked
        locked.save(update_fields=changed)
        journal.append(
            "wallet.account.changed",
            AccountChanged(
                **_account_state(locked).model_dump(), changed_fields=changed
            ),
            actor=actor,
        )
    return locked


def _account_state(account: Account) -> AccountOpened:
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


# ---------------------------------------------------------------- transfers


def submit(request: TransferRequest, *, actor: str | None = None) -> Transfer:
    """Carry out one transfer and the fee it bears, or return it if its id was seen.

    The fee, when the city's schedule has one for this transfer today, is
    posted with it as linked transfers; see `wallet.fees`.
    """
    # Imported here because the fee module builds requests of this module.
    from kotacerdas.wallet import fees

    return fees.submit_with_fee(request, actor=actor)


def submit_linked(
    requests: Sequence[TransferRequest],
    *,
    actor: str | None = None,
    events: Sequence[tuple[str, Any]] = (),
) -> list[Transfer]:
    """Carry out transfers that succeed or fail together, in order.

    `events` are journalled after the transfers' own events, in the same
    transaction, and only when the transfers are new.
    Raises TransferRejected for the first request that cannot be carried out;
    then none of them is written.
    """
    if not requests:
        return []
    link_group = requests[0].id if len(requests) > 1 else ""
    for request in requests:
        _check_shape(request)
    _check_unique_ids([r.id for r in requests])
    try:
        with transaction.atomic():
            plan = _lock([n for r in requests for n in (r.debit, r.credit)])
            # Read after the locks: a retry of the same ids waits there until
            # the first attempt commits, and must then find its transfers
            # rather than be checked again against the changed balances.
            stored = _stored(requests, link_group)
            if stored is not None:
                return stored
            now = timezone.now()
            rows = []
            for request in requests:
                rows.append(_plan_transfer(plan, request, link_group, now, actor))
            return _write(plan, rows, actor, events)
    except IntegrityError:
        # Another client committed the same id between our check and insert.
        stored = _stored(requests, link_group)
        if stored is None:
            raise
        return stored


@dataclass(frozen=True)
class BatchResult:
    transfer: Transfer | None
    error: TransferRejected | None


def submit_batch(
    requests: Sequence[TransferRequest], *, actor: str | None = None
) -> list[BatchResult]:
    """Carry out independent transfers in one transaction, each on its own.

    One request's rejection does not stop the others; the result list has one
    entry per request, in order. This is the fast path for bulk work (payouts,
    the demo city, benchmarks): one lock statement for all accounts and one
    journal append for the whole batch.
    """
    results: list[BatchResult | None] = [None] * len(requests)
    todo: list[tuple[int, TransferRequest]] = []
    seen: set[str] = set()
    for position, request in enumerate(requests):
        try:
            _check_shape(request)
        except TransferRejected as error:
            results[position] = BatchResult(None, error)
            continue
        if request.id in seen:
            results[position] = BatchResult(None, _repeated_in_batch(request.id))
            continue
        seen.add(request.id)
        todo.append((position, request))

    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                done = _run_batch(todo, actor)
            break
        except IntegrityError:
            # Another client committed one of these ids after this attempt
            # read them; the next attempt finds it stored.
            if attempt == BATCH_ATTEMPTS:
                raise
            logger.info("wallet batch retried after a concurrent insert")
    for position, result in done.items():
        results[position] = result
    return [r for r in results if r is not None]


def _run_batch(
    todo: list[tuple[int, TransferRequest]], actor: str | None
) -> dict[int, BatchResult]:
    plan = _lock([n for _, r in todo for n in (r.debit, r.credit)])
    # Read after the locks, for the reason given in submit_linked.
    existing = {
        t.client_id: t
        for t in Transfer.objects.filter(client_id__in=[r.id for _, r in todo])
    }
    now = timezone.now()
    done: dict[int, BatchResult] = {}
    rows: list[tuple[int, Transfer]] = []
    for position, request in todo:
        known = existing.get(request.id)
        if known is not None and known.request_hash == request.fingerprint(""):
            done[position] = BatchResult(known, None)
        elif known is not None:
            done[position] = BatchResult(None, _id_conflict(request.id))
        else:
            try:
                rows.append((position, _plan_transfer(plan, request, "", now, actor)))
            except TransferRejected as error:
                done[position] = BatchResult(None, error)
    _write(plan, [row for _, row in rows], actor)
    for position, row in rows:
        done[position] = BatchResult(row, None)
    return done


def _repeated_in_batch(client_id: str) -> TransferRejected:
    return TransferRejected(
        "id_conflict",
        "id",
        _("The transfer id %(id)s appears twice in one batch.") % {"id": client_id},
    )


def top_up(
    account_number: str,
    amount: int,
    *,
    transfer_id: str,
    channel: str = Channel.BANK_VA,
    memo: str = "",
    actor: str | None = None,
) -> Transfer:
    """Credit a wallet with money that arrived at the partner bank or a counter."""
    return submit(
        TransferRequest(
            id=transfer_id,
            debit=settlement_account().number,
            credit=account_number,
            amount=amount,
            kind=TransferKind.TOPUP,
            channel=channel,
            memo=memo,
        ),
        actor=actor,
    )


def post_pending(
    *, id: str, pending_id: str, amount: int | None = None, actor: str | None = None
) -> Transfer:
    """Post a reservation in full, or in part when `amount` is smaller."""
    return _resolve(id, pending_id, Phase.POST, amount, actor)


def void_pending(*, id: str, pending_id: str, actor: str | None = None) -> Transfer:
    """Release a reservation: nothing moves and the held amount is freed."""
    return _resolve(id, pending_id, Phase.VOID, None, actor)


def expire_pending(now: datetime | None = None, limit: int = 500) -> int:
    """Void reservations whose timeout passed; return how many were voided."""
    now = now or timezone.now()
    due = list(
        Transfer.objects.filter(status=TransferStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("client_id", flat=True)[:limit]
    )
    expired = 0
    for pending_id in due:
        try:
            _resolve(
                f"{EXPIRE_PREFIX}{pending_id}",
                pending_id,
                Phase.VOID,
                None,
                "system",
                expire=True,
            )
            expired += 1
        except TransferRejected as error:
            # Posted or voided by a client in the meantime.
            logger.info("reservation %s not expired: %s", pending_id, error.code)
    if expired:
        logger.info("expired %d wallet reservations", expired)
    return expired


# ---------------------------------------------------------------- internals


def _check_client_id(client_id: object) -> None:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise TransferRejected(
            "invalid_id",
            "id",
            _(
                "The transfer id must be 1 to 64 letters, digits or . _ : -, for example a UUID."
            ),
        )
    if client_id.startswith(EXPIRE_PREFIX):
        raise TransferRejected(
            "invalid_id",
            "id",
            _("Transfer ids starting with %(prefix)s are kept for the system.")
            % {"prefix": EXPIRE_PREFIX},
        )


def _check_shape(request: TransferRequest) -> None:
    _check_client_id(request.id)
    try:
        reject_personal_data(request.id, "id")
        reject_personal_data(request.memo, "memo")
    except PersonalDataError as error:
        raise TransferRejected(
            "personal_data",
            error.path,
            _(
                "Transfer ids and notes must not contain a NIK, KK number or other personal data."
            ),
        ) from None
    if (
        isinstance(request.amount, bool)
        or not isinstance(request.amount, int)
        or request.amount <= 0
    ):
        raise TransferRejected(
            "invalid_amount",
            "amount",
            _("The amount must be a whole number of rupiah above zero."),
        )
    if request.amount > MAX_AMOUNT:
        raise TransferRejected(
            "invalid_amount", "amount", _("The amount is too large.")
        )
    if request.kind not in TRANSFER_KINDS:
        raise TransferRejected(
            "invalid_kind",
            "kind",
            _("The kind of transfer %(kind)s is unknown.") % {"kind": request.kind},
        )
    if request.channel not in CHANNELS:
        raise TransferRejected(
            "invalid_channel",
            "channel",
            _("The channel %(channel)s is unknown.") % {"channel": request.channel},
        )
    if len(request.memo) > MEMO_MAX:
        raise TransferRejected(
            "invalid_memo",
            "memo",
            _("The reference note may have at most %(max)d characters.")
            % {"max": MEMO_MAX},
        )
    if request.timeout_s is not None and (
        not request.pending or request.timeout_s <= 0
    ):
        raise TransferRejected(
            "invalid_timeout",
            "timeout_s",
            _("A timeout needs a pending transfer and a number of seconds above zero."),
        )
    if request.debit == request.credit:
        raise TransferRejected(
            "same_account", "credit", _("A transfer needs two different accounts.")
        )


def _check_unique_ids(ids: list[str]) -> None:
    if len(set(ids)) != len(ids):
        raise TransferRejected(
            "id_conflict", "id", _("Linked transfers need a different id each.")
        )


def _id_conflict(client_id: str) -> TransferRejected:
    return TransferRejected(
        "id_conflict",
        "id",
        _(
            "The transfer id %(id)s was already used for a different transfer. "
            "Use a new id for a new transfer."
        )
        % {"id": client_id},
    )


def _known_resolution(client_id: str, fingerprint: str) -> Transfer | None:
    known = Transfer.objects.filter(client_id=client_id).first()
    if known is not None and known.request_hash != fingerprint:
        raise _id_conflict(client_id)
    return known


def _stored(
    requests: Sequence[TransferRequest], link_group: str
) -> list[Transfer] | None:
    """Return the stored transfers if these ids were already submitted."""
    ids = [r.id for r in requests]
    found = {t.client_id: t for t in Transfer.objects.filter(client_id__in=ids)}
    if not found:
        return None
    for request in requests:
        known = found.get(request.id)
        if known is None or known.request_hash != request.fingerprint(link_group):
            raise _id_conflict(request.id)
    return [found[i] for i in ids]


def _lock(numbers: list[str]) -> _Plan:
    accounts = (
        Account.objects.select_for_update()
        .filter(number__in=set(numbers))
        .order_by("id")
    )
    return _Plan(
        accounts={a.number: a for a in accounts}, policy=wallet_policy.current_policy()
    )


def _account(plan: _Plan, number: str, field_name: str) -> Account:
    account = plan.accounts.get(number)
    if account is None:
        raise TransferRejected(
            "account_not_found",
            field_name,
            _("No wallet has the number %(number)s. Check the number and try again.")
            % {"number": number},
        )
    if account.status != AccountStatus.ACTIVE:
        raise TransferRejected(
            "account_not_active",
            field_name,
            _("The wallet %(number)s is %(status)s and cannot be used.")
            % {"number": number, "status": account.get_status_display()},
        )
    return account


def _plan_transfer(
    plan: _Plan,
    request: TransferRequest,
    link_group: str,
    now: datetime,
    actor: str | None,
) -> Transfer:
    """Check one request against the locked accounts and apply it in memory."""
    debit = _account(plan, request.debit, "debit")
    credit = _account(plan, request.credit, "credit")
    policy = plan.policy
    if not policy.allows(request.kind):
        raise TransferRejected(
            "flow_not_allowed",
            "kind",
            _("This city's wallet does not allow %(kind)s.")
            % {"kind": TransferKind(request.kind).label},
        )
    debit_kinds, credit_kinds = wallet_policy.PATHS[request.kind]
    if debit.kind not in debit_kinds or credit.kind not in credit_kinds:
        raise TransferRejected(
            "flow_not_allowed",
            "credit" if debit.kind in debit_kinds else "debit",
            _("A %(kind)s cannot go from a %(from)s account to a %(to)s account.")
            % {
                "kind": TransferKind(request.kind).label,
                "from": debit.get_kind_display(),
                "to": credit.get_kind_display(),
            },
        )
    amount = request.amount
    _check_debit(debit, amount)
    _check_credit(plan, credit, amount, policy, now)

    if request.pending:
        debit.debits_pending += amount
        credit.credits_pending += amount
    else:
        debit.debits_posted += amount
        credit.credits_posted += amount
    if credit.kind in wallet_policy.LIMITED_KINDS:
        plan.months[credit.pk] = plan.months.get(credit.pk, 0) + amount
    plan.touched.update((debit.pk, credit.pk))
    return Transfer(
        client_id=request.id,
        request_hash=request.fingerprint(link_group),
        reference=storage.new_reference(),
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        kind=request.kind,
        channel=request.channel,
        phase=Phase.PENDING if request.pending else Phase.SINGLE,
        status=TransferStatus.PENDING if request.pending else TransferStatus.POSTED,
        link_group=link_group,
        memo=request.memo,
        expires_at=now + timedelta(seconds=request.timeout_s)
        if request.timeout_s
        else None,
        actor=actor or "",
        created_at=now,
    )


def _check_debit(debit: Account, amount: int) -> None:
    if debit.debits_must_not_exceed_credits and (
        debit.debits_posted + debit.debits_pending + amount > debit.credits_posted
    ):
        raise TransferRejected(
            "exceeds_balance",
            "amount",
            _("The balance is not enough: Rp%(available)s is available.")
            % {"available": number_format(debit.available, force_grouping=True)},
        )


def _check_credit(
    plan: _Plan,
    credit: Account,
    amount: int,
    policy: wallet_policy.WalletPolicy,
    now: datetime,
) -> None:
    if credit.credits_must_not_exceed_debits and (
        credit.credits_posted + credit.credits_pending + amount > credit.debits_posted
    ):
        raise TransferRejected(
            "exceeds_float",
            "amount",
            _("The settlement account cannot pay out more than it holds."),
        )
    if credit.kind not in wallet_policy.LIMITED_KINDS:
        return
    limits = policy.limits.get(credit.tier)
    if limits is None:
        return
    after = (
        credit.credits_posted + credit.credits_pending - credit.debits_posted + amount
    )
    tier_label = Tier(credit.tier).label
    if after > limits.balance_max:
        raise TransferRejected(
            "exceeds_balance_cap",
            "amount",
            wallet_policy.MESSAGES["balance_cap"]
            % {
                "limit": number_format(limits.balance_max, force_grouping=True),
                "tier": tier_label.lower(),
            },
        )
    month_total = _month_credits(plan, now).get(credit.pk, 0)
    month_total += plan.months.get(credit.pk, 0)
    if month_total + amount > limits.monthly_in_max:
        raise TransferRejected(
            "exceeds_monthly_cap",
            "amount",
            wallet_policy.MESSAGES["monthly_cap"]
            % {
                "limit": number_format(limits.monthly_in_max, force_grouping=True),
                "tier": tier_label.lower(),
            },
        )


def _month_credits(plan: _Plan, now: datetime) -> dict[int, int]:
    """Return this month's stored credits of the plan's limited accounts."""
    if plan.month_base is None:
        plan.month = wallet_policy.month_of(timezone.localdate(now))
        limited = [
            account.pk
            for account in plan.accounts.values()
            if account.kind in wallet_policy.LIMITED_KINDS
        ]
        rows = AccountMonth.objects.filter(account_id__in=limited, month=plan.month)
        plan.month_base = dict(rows.values_list("account_id", "credits"))
    return plan.month_base


def _write(
    plan: _Plan,
    rows: list[Transfer],
    actor: str | None,
    events: Sequence[tuple[str, Any]] = (),
) -> list[Transfer]:
    """Store the planned totals, the transfers and their journal events."""
    if not rows:
        return []
    storage.store_totals([a for a in plan.accounts.values() if a.pk in plan.touched])
    _store_month_credits(plan, rows[0].created_at)
    entries = journal.append_many(
        [_event(row) for row in rows] + list(events), actor=actor
    )
    for row, entry in zip(rows, entries[: len(rows)], strict=True):
        row.entry_seq = entry.seq
    storage.insert_transfers(rows)
    return rows


def _store_month_credits(plan: _Plan, now: datetime) -> None:
    if not any(plan.months.values()):
        return
    base = _month_credits(plan, now)
    assert plan.month is not None
    storage.store_month_credits(
        plan.month,
        {
            account_id: base.get(account_id, 0) + added
            for account_id, added in plan.months.items()
            if added
        },
    )


def _event(
    row: Transfer, reserved: int | None = None, reason: str = ""
) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {
        "client_id": row.client_id,
        "reference": row.reference,
        "kind": row.kind,
        "channel": row.channel,
        "debit_account_id": row.debit_account_id,
        "credit_account_id": row.credit_account_id,
        "amount": row.amount,
        "link_group": row.link_group,
        "memo": row.memo,
    }
    pending_client_id = row.pending.client_id if row.pending is not None else None
    if row.phase == Phase.PENDING:
        body["expires_at"] = row.expires_at.isoformat() if row.expires_at else None
        return "wallet.transfer.pending", body
    if row.phase == Phase.VOID:
        body["pending_client_id"] = pending_client_id
        body["reason"] = reason or "voided"
        return "wallet.transfer.voided", body
    body["pending_client_id"] = pending_client_id
    body["reserved_amount"] = reserved
    return "wallet.transfer.posted", body


def _resolve(
    client_id: str,
    pending_id: str,
    phase: str,
    amount: int | None,
    actor: str | None,
    *,
    expire: bool = False,
) -> Transfer:
    if not expire:
        _check_client_id(client_id)
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
    ):
        raise TransferRejected(
            "invalid_amount",
            "amount",
            _("The amount must be a whole number of rupiah above zero."),
        )
    fingerprint = hashlib.sha256(
        journal.canonical_json(
            {"phase": str(phase), "pending_id": pending_id, "amount": amount}
        )
    ).hexdigest()
    try:
        with transaction.atomic():
            return _resolve_locked(
                client_id, pending_id, phase, amount, actor, fingerprint, expire
            )
    except IntegrityError:
        known = Transfer.objects.filter(client_id=client_id).first()
        if known is None:
            raise
        if known.request_hash != fingerprint:
            raise _id_conflict(client_id) from None
        return known


def _resolve_locked(
    client_id: str,
    pending_id: str,
    phase: str,
    amount: int | None,
    actor: str | None,
    fingerprint: str,
    expire: bool,
) -> Transfer:
    known = _known_resolution(client_id, fingerprint)
    if known is not None:
        return known
    plan, reservation = _lock_reservation(pending_id)
    now = timezone.now()
    if reservation.status != TransferStatus.PENDING:
        # A retry of this id that waited for the locks finds the first
        # attempt's row here, now committed.
        known = _known_resolution(client_id, fingerprint)
        if known is not None:
            return known
    _check_resolvable(reservation, phase, amount, now)

    # A void's row carries the reserved amount; a post's carries what it takes.
    taken = reservation.amount if amount is None else amount
    debit, credit = _release(plan, reservation, taken if phase == Phase.POST else 0)
    row = Transfer(
        client_id=client_id,
        request_hash=fingerprint,
        reference=storage.new_reference(),
        debit_account=debit,
        credit_account=credit,
        amount=taken,
        kind=reservation.kind,
        channel=reservation.channel,
        phase=phase,
        status=TransferStatus.POSTED if phase == Phase.POST else TransferStatus.VOIDED,
        pending=reservation,
        link_group=reservation.link_group,
        memo=reservation.memo,
        actor=actor or "",
        created_at=now,
    )
    storage.store_totals([debit, credit])
    event_type, body = _event(
        row, reserved=reservation.amount, reason="expired" if expire else "voided"
    )
    row.entry_seq = journal.append(event_type, body, actor=actor).seq
    row.save(force_insert=True)

    if phase == Phase.POST:
        reservation.status = TransferStatus.POSTED
    else:
        reservation.status = TransferStatus.EXPIRED if expire else TransferStatus.VOIDED
    reservation.save(update_fields=["status"])
    return row


def _lock_reservation(pending_id: str) -> tuple[_Plan, Transfer]:
    """Lock a reservation's two accounts, then the reservation itself."""
    reservation = (
        Transfer.objects.filter(client_id=pending_id, phase=Phase.PENDING)
        .select_related("debit_account", "credit_account")
        .first()
    )
    if reservation is None:
        raise TransferRejected(
            "pending_not_found",
            "pending_id",
            _("No pending transfer has the id %(id)s.") % {"id": pending_id},
        )
    plan = _lock([reservation.debit_account.number, reservation.credit_account.number])
    return plan, Transfer.objects.select_for_update().get(pk=reservation.pk)


def _check_resolvable(
    reservation: Transfer, phase: str, amount: int | None, now: datetime
) -> None:
    pending_id = reservation.client_id
    if reservation.status != TransferStatus.PENDING:
        raise TransferRejected(
            "pending_not_pending",
            "pending_id",
            _("The pending transfer %(id)s is already %(status)s.")
            % {"id": pending_id, "status": reservation.get_status_display().lower()},
        )
    if phase != Phase.POST:
        return
    if reservation.expires_at is not None and reservation.expires_at <= now:
        raise TransferRejected(
            "pending_expired",
            "pending_id",
            _(
                "The pending transfer %(id)s timed out and can no longer be posted; "
                "its amount is being released."
            )
            % {"id": pending_id},
        )
    if amount is not None and amount > reservation.amount:
        raise TransferRejected(
            "post_exceeds_pending",
            "amount",
            _("At most Rp%(reserved)s can be posted: that is what was reserved.")
            % {"reserved": number_format(reservation.amount, force_grouping=True)},
        )


def _release(
    plan: _Plan, reservation: Transfer, posted: int
) -> tuple[Account, Account]:
    """Release a reservation's hold on the locked accounts and post `posted` of it.

    The part not posted is also given back to the credited account's monthly
    total of the month the reservation was made in.
    """
    by_id = {account.pk: account for account in plan.accounts.values()}
    debit = by_id[reservation.debit_account_id]
    credit = by_id[reservation.credit_account_id]
    debit.debits_pending -= reservation.amount
    credit.credits_pending -= reservation.amount
    debit.debits_posted += posted
    credit.credits_posted += posted
    released = reservation.amount - posted
    if credit.kind in wallet_policy.LIMITED_KINDS and released:
        month = wallet_policy.month_of(timezone.localdate(reservation.created_at))
        AccountMonth.objects.filter(account=credit, month=month).update(
            credits=F("credits") - released
        )
    return debit, credit
