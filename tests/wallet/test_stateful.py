"""Random sequences of wallet operations checked against a pure-Python model.

The model below is a second, independent statement of the ledger's rules: which
account kinds each kind of transfer may join, the balance and float checks, the
e-money caps, two-phase reservations and idempotent ids. Every rule predicts
the outcome (accepted, or the rejection code) before calling the service, and
after each step the tables must hold what the model holds. Each example runs
in a savepoint that is rolled back at its end, under a fake clock that starts
an hour before a month ends, so monthly caps also cross into a new month.
"""

import copy
import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kotacerdas.city.models import City
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account, AccountMonth, Transfer
from kotacerdas.wallet.services import MAX_AMOUNT, TransferRejected, TransferRequest

# Small caps, so that random amounts reach them within a few steps.
LIMITS = {
    "unregistered": {"balance_max": 150_000, "monthly_in_max": 200_000},
    "registered": {"balance_max": 1_000_000, "monthly_in_max": 1_200_000},
}
# 23:00 in Padang Panjang (UTC+7) on the last day of January.
START = datetime(2025, 1, 31, 16, 0, tzinfo=UTC)

# The model's own statement of which account kinds a transfer may join.
PATHS = {
    "topup": ({"settlement"}, {"citizen", "merchant", "waste_bank"}),
    "withdrawal": (
        {"citizen", "merchant", "revenue", "waste_bank", "fees"},
        {"settlement"},
    ),
    "payment": ({"citizen"}, {"merchant"}),
    "transfer": ({"citizen"}, {"citizen"}),
    "levy": ({"citizen", "merchant", "settlement"}, {"revenue"}),
    "refund": ({"merchant", "revenue"}, {"citizen", "merchant"}),
    "waste_bank_credit": ({"waste_bank"}, {"citizen"}),
    "fee": ({"citizen", "merchant", "revenue"}, {"fees"}),
}
CLOSED_LOOP_BLOCKED = {"transfer", "payment", "withdrawal"}
NEVER_NEGATIVE = {"citizen", "merchant", "revenue", "waste_bank", "fees"}

# Account names in the model: citizens A and B are registered, C and D are not.
CITIZENS = ("A", "B", "C", "D")
OPENED = {
    "A": ("citizen", "registered"),
    "B": ("citizen", "registered"),
    "C": ("citizen", "unregistered"),
    "D": ("citizen", "unregistered"),
    "M": ("merchant", "registered"),
    "W": ("waste_bank", "registered"),
}
GHOST = "889999999990"
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # a well-formed number no account has

AMOUNTS = st.one_of(
    st.integers(1, 120_000),
    st.sampled_from([1, 149_999, 150_000, 150_001, 200_001, 1_000_000]),
)
# (debit, credit, kind) of the two-phase transfers the machine reserves.
RESERVE_FLOWS = [
    ("A", "M", "payment"), ("C", "M", "payment"), ("S", "B", "topup"),
    ("S", "D", "topup"), ("W", "C", "waste_bank_credit"), ("B", "S", "withdrawal"),
    ("A", "D", "transfer"),
]  # fmt: skip
# (debit, credit, kind) of transfers in batches, besides random ones.
BATCH_FLOWS = [
    ("S", "A", "topup"), ("S", "C", "topup"), ("A", "B", "transfer"),
    ("C", "D", "transfer"), ("B", "M", "payment"), ("M", "R", "levy"),
    ("W", "D", "waste_bank_credit"), ("M", "S", "withdrawal"), ("A", "F", "fee"),
]  # fmt: skip
# Requests that fail the shape checks, by what is wrong with them.
MALFORMED = [
    "zero", "negative", "bool", "huge", "empty_id", "long_id", "space_id",
    "expire_id", "kind", "channel", "memo", "nik_memo", "timeout", "same",
]  # fmt: skip
TIMEOUTS = st.sampled_from([None, 60, 3_600])
ANY_ACCOUNT = st.sampled_from([*CITIZENS, "M", "W", "R", "F", "S", "ghost"])


@dataclass
class Book:
    """The model's copy of one account."""

    number: str
    kind: str
    tier: str
    status: str = "active"
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0


@dataclass
class Books:
    accounts: dict[str, Book]  # by wallet number
    months: dict[tuple[str, date], int] = field(default_factory=dict)


@dataclass
class Reservation:
    id: str
    debit: str
    credit: str
    amount: int
    month: date
    expires_at: datetime | None
    status: str = "pending"


@dataclass(frozen=True)
class Done:
    """An accepted call, kept so that a later rule can retry it."""

    call: str  # "submit", "batch", "linked", "post" or "void"
    requests: tuple[TransferRequest, ...] = ()
    id: str = ""
    pending_id: str = ""
    amount: int | None = None
    pks: tuple[int, ...] = ()


def local_month(moment: datetime) -> date:
    return timezone.localdate(moment).replace(day=1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = START
        self._clock_patch = mock.patch(
            "django.utils.timezone.now", side_effect=lambda: self.clock
        )
        self._clock_patch.start()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self.open_accounts()
        except BaseException:
            self.undo()
            raise

    def open_accounts(self) -> None:
        self.ids = itertools.count(1)
        city = City.objects.order_by("id").first()
        assert city is not None, "the city fixture should have loaded a profile"
        city.settings.setdefault("limits", {})["emoney"] = LIMITS
        city.settings.setdefault("wallet", {})["mode"] = "emoney"
        city.save()
        self.mode = "emoney"

        opened = {
            "S": services.settlement_account(),
            "F": services.fees_account(),
            "R": services.revenue_account("waste_levy"),
        }
        for name, (kind, tier) in OPENED.items():
            opened[name] = services.open_account(kind, tier=tier, label=name)
        self.numbers = {name: account.number for name, account in opened.items()}
        self.numbers["ghost"] = GHOST
        self.books = Books(
            {
                account.number: Book(account.number, account.kind, account.tier)
                for account in opened.values()
            }
        )
        # client id -> what makes a retry "the same request"
        self.fingerprints: dict[str, tuple[Any, ...]] = {}
        self.statuses: dict[str, str] = {}
        self.reservations: dict[str, Reservation] = {}
        self.done: list[Done] = []

    def teardown(self) -> None:
        try:
            report = verify_ledger(node_verifier())
            assert report.ok, report.problems
        finally:
            self.undo()

    def undo(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        self._clock_patch.stop()

    # ------------------------------------------------------------ the model

    def new_id(self, prefix: str = "s") -> str:
        return f"{prefix}-{next(self.ids)}"

    def request(
        self, debit: str, credit: str, amount: int, kind: str, **extra: Any
    ) -> TransferRequest:
        return TransferRequest(
            id=extra.pop("id", None) or self.new_id(),
            debit=self.numbers[debit],
            credit=self.numbers[credit],
            amount=amount,
            kind=kind,
            **extra,
        )

    @staticmethod
    def shape_error(request: TransferRequest) -> str | None:
        if not CLIENT_ID.fullmatch(request.id) or request.id.startswith("expire:"):
            return "invalid_id"
        try:
            reject_personal_data([request.id, request.memo])
        except PersonalDataError:
            return "personal_data"
        amount = request.amount
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return "invalid_amount"
        if amount > MAX_AMOUNT:
            return "invalid_amount"
        if request.kind not in PATHS:
            return "invalid_kind"
        if request.channel not in ("app", "counter", "bank_va", "qris", "system"):
            return "invalid_channel"
        if len(request.memo) > 64:
            return "invalid_memo"
        if request.timeout_s is not None and not request.pending:
            return "invalid_timeout"
        if request.debit == request.credit:
            return "same_account"
        return None

    def apply(self, books: Books, request: TransferRequest) -> str | None:
        """Check one request against the model's books and apply it there."""
        debit = books.accounts.get(request.debit)
        credit = books.accounts.get(request.credit)
        for book in (debit, credit):
            if book is None:
                return "account_not_found"
            if book.status != "active":
                return "account_not_active"
        assert debit is not None and credit is not None
        if self.mode == "closed_loop" and request.kind in CLOSED_LOOP_BLOCKED:
            return "flow_not_allowed"
        debit_kinds, credit_kinds = PATHS[request.kind]
        if debit.kind not in debit_kinds or credit.kind not in credit_kinds:
            return "flow_not_allowed"

        amount = request.amount
        if debit.kind in NEVER_NEGATIVE and (
            debit.debits_posted + debit.debits_pending + amount > debit.credits_posted
        ):
            return "exceeds_balance"
        if credit.kind == "settlement" and (
            credit.credits_posted + credit.credits_pending + amount
            > credit.debits_posted
        ):
            return "exceeds_float"
        month = (credit.number, local_month(self.clock))
        if credit.kind == "citizen":
            error = self.cap_error(books, credit, amount)
            if error:
                return error
            books.months[month] = books.months.get(month, 0) + amount

        if request.pending:
            debit.debits_pending += amount
            credit.credits_pending += amount
        else:
            debit.debits_posted += amount
            credit.credits_posted += amount
        return None

    def cap_error(self, books: Books, credit: Book, amount: int) -> str | None:
        limits = LIMITS[credit.tier]
        credits_in = credit.credits_posted + credit.credits_pending
        if credits_in - credit.debits_posted + amount > limits["balance_max"]:
            return "exceeds_balance_cap"
        month = (credit.number, local_month(self.clock))
        if books.months.get(month, 0) + amount > limits["monthly_in_max"]:
            return "exceeds_monthly_cap"
        return None

    def record(self, request: TransferRequest, link_group: str = "") -> None:
        self.fingerprints[request.id] = ("request", replace(request, id=""), link_group)
        if request.pending:
            self.statuses[request.id] = "pending"
            expires_at = (
                self.clock + timedelta(seconds=request.timeout_s)
                if request.timeout_s
                else None
            )
            self.reservations[request.id] = Reservation(
                request.id,
                request.debit,
                request.credit,
                request.amount,
                local_month(self.clock),
                expires_at,
            )
        else:
            self.statuses[request.id] = "posted"

    def predict_linked(
        self, requests: list[TransferRequest], link_group: str
    ) -> tuple[str | None, Books | None]:
        """Return (rejection code, None), ("stored", None) or (None, new books)."""
        for request in requests:
            error = self.shape_error(request)
            if error:
                return error, None
        if len({r.id for r in requests}) != len(requests):
            return "id_conflict", None
        if any(r.id in self.fingerprints for r in requests):
            for request in requests:
                expected = ("request", replace(request, id=""), link_group)
                if self.fingerprints.get(request.id) != expected:
                    return "id_conflict", None
            return "stored", None
        books = copy.deepcopy(self.books)
        for request in requests:
            error = self.apply(books, request)
            if error:
                return error, None
        return None, books

    def submit(self, requests: list[TransferRequest]) -> None:
        """Submit one request or a linked group, as the model predicts."""
        link_group = requests[0].id if len(requests) > 1 else ""
        expected, books = self.predict_linked(requests, link_group)
        call = "submit" if len(requests) == 1 else "linked"
        pending = " pending" if requests[0].pending else ""
        event(f"{call}{pending}: {expected or 'accepted'}")
        try:
            if call == "submit":
                transfers = [services.submit(requests[0], actor="test")]
            else:
                transfers = services.submit_linked(requests, actor="test")
        except TransferRejected as error:
            assert error.code == expected, (
                f"expected {expected or 'acceptance'}, got {error.code}: {error.message}"
            )
            return
        assert expected in (None, "stored"), f"expected {expected}, but it was accepted"
        assert [t.client_id for t in transfers] == [r.id for r in requests]
        if expected == "stored":
            return
        assert books is not None
        self.books = books
        for request in requests:
            self.record(request, link_group)
        self.done.append(
            Done(call, tuple(requests), pks=tuple(t.pk for t in transfers))
        )

    def predict_resolve(
        self, client_id: str, pending_id: str, phase: str, amount: int | None
    ) -> str | None:
        if not client_id or client_id.startswith("expire:"):
            return "invalid_id"
        if amount is not None and amount <= 0:
            return "invalid_amount"
        if client_id in self.fingerprints:
            same = self.fingerprints[client_id] == (phase, pending_id, amount)
            return "stored" if same else "id_conflict"
        reservation = self.reservations.get(pending_id)
        if reservation is None:
            return "pending_not_found"
        if reservation.status != "pending":
            return "pending_not_pending"
        expires_at = reservation.expires_at
        if phase == "post" and expires_at is not None and expires_at <= self.clock:
            return "pending_expired"
        if phase == "post" and (amount or 0) > reservation.amount:
            return "post_exceeds_pending"
        return None

    def settle(
        self, client_id: str, reservation: Reservation, phase: str, posted_amount: int
    ) -> None:
        """Release a reservation in the model and post `posted_amount` of it."""
        debit = self.books.accounts[reservation.debit]
        credit = self.books.accounts[reservation.credit]
        debit.debits_pending -= reservation.amount
        credit.credits_pending -= reservation.amount
        if phase == "post":
            debit.debits_posted += posted_amount
            credit.credits_posted += posted_amount
        released = reservation.amount - posted_amount
        month = (credit.number, reservation.month)
        if credit.kind == "citizen" and released:
            self.books.months[month] -= released
        reservation.status = {"post": "posted", "void": "voided"}.get(phase, "expired")
        self.statuses[reservation.id] = reservation.status
        self.statuses[client_id] = "posted" if phase == "post" else "voided"

    def resolve(
        self, client_id: str, pending_id: str, phase: str, amount: int | None
    ) -> None:
        expected = self.predict_resolve(client_id, pending_id, phase, amount)
        event(f"{phase}: {expected or 'accepted'}")
        try:
            if phase == "post":
                row = services.post_pending(
                    id=client_id, pending_id=pending_id, amount=amount, actor="test"
                )
            else:
                row = services.void_pending(
                    id=client_id, pending_id=pending_id, actor="test"
                )
        except TransferRejected as error:
            assert error.code == expected, (
                f"expected {expected or 'acceptance'}, got {error.code}: {error.message}"
            )
            return
        assert expected in (None, "stored"), f"expected {expected}, but it was accepted"
        assert row.client_id == client_id
        if expected == "stored":
            return
        reservation = self.reservations[pending_id]
        posted_amount = 0
        if phase == "post":
            posted_amount = reservation.amount if amount is None else amount
        self.settle(client_id, reservation, phase, posted_amount)
        self.fingerprints[client_id] = (phase, pending_id, amount)
        self.done.append(
            Done(
                phase, id=client_id, pending_id=pending_id, amount=amount, pks=(row.pk,)
            )
        )

    # ------------------------------------------------------------ the rules

    @initialize(
        amounts=st.lists(st.integers(0, 150_000), min_size=6, max_size=6),
    )
    def fund(self, amounts: list[int]) -> None:
        for payee, amount in zip([*CITIZENS, "M", "W"], amounts, strict=True):
            if amount:
                self.top_up(payee, amount)

    @rule(payee=st.sampled_from([*CITIZENS, "M", "W"]), amount=AMOUNTS)
    def top_up(self, payee: str, amount: int) -> None:
        request = self.request("S", payee, amount, "topup", channel="bank_va")
        expected, books = self.predict_linked([request], "")
        event(f"top-up: {expected or 'accepted'}")
        try:
            transfer = services.top_up(
                request.credit, amount, transfer_id=request.id, channel="bank_va"
            )
        except TransferRejected as error:
            assert error.code == expected, error.message
            return
        assert expected is None, f"expected {expected}, but the top-up was accepted"
        assert books is not None
        self.books = books
        self.record(request)
        self.done.append(Done("submit", (request,), pks=(transfer.pk,)))

    @rule(
        payer=st.sampled_from(CITIZENS), payee=st.sampled_from(CITIZENS), amount=AMOUNTS
    )
    def transfer(self, payer: str, payee: str, amount: int) -> None:
        self.submit([self.request(payer, payee, amount, "transfer")])

    @rule(payer=st.sampled_from(CITIZENS), amount=AMOUNTS)
    def payment(self, payer: str, amount: int) -> None:
        self.submit([self.request(payer, "M", amount, "payment", channel="qris")])

    @rule(payer=st.sampled_from(["A", "C", "M", "S"]), amount=AMOUNTS)
    def levy(self, payer: str, amount: int) -> None:
        self.submit([self.request(payer, "R", amount, "levy", memo="LEVY-2025-01")])

    @rule(payer=st.sampled_from(["A", "C", "M"]), amount=st.integers(1, 5_000))
    def fee(self, payer: str, amount: int) -> None:
        self.submit([self.request(payer, "F", amount, "fee")])

    @rule(payer=st.sampled_from(["A", "C", "M", "R", "F", "W"]), amount=AMOUNTS)
    def withdrawal(self, payer: str, amount: int) -> None:
        self.submit([self.request(payer, "S", amount, "withdrawal", channel="counter")])

    @rule(citizen=st.sampled_from(CITIZENS), amount=AMOUNTS)
    def cash_out_and_in(self, citizen: str, amount: int) -> None:
        """Turn money over, so that monthly caps are reached before balance caps."""
        book = self.books.accounts[self.numbers[citizen]]
        available = book.credits_posted - book.debits_posted - book.debits_pending
        cash_out = max(1, min(amount, available))
        self.submit([self.request(citizen, "S", cash_out, "withdrawal")])
        self.top_up(citizen, amount)

    @rule(payee=st.sampled_from(CITIZENS), amount=AMOUNTS)
    def waste_bank_credit(self, payee: str, amount: int) -> None:
        self.submit([self.request("W", payee, amount, "waste_bank_credit")])

    @rule(
        payer=st.sampled_from(["M", "R"]),
        payee=st.sampled_from(CITIZENS),
        amount=AMOUNTS,
    )
    def refund(self, payer: str, payee: str, amount: int) -> None:
        self.submit([self.request(payer, payee, amount, "refund")])

    @rule(
        debit=ANY_ACCOUNT,
        credit=ANY_ACCOUNT,
        kind=st.sampled_from(sorted(PATHS)),
        amount=AMOUNTS,
    )
    def any_flow(self, debit: str, credit: str, kind: str, amount: int) -> None:
        self.submit([self.request(debit, credit, amount, kind)])

    @rule(
        payer=st.sampled_from(CITIZENS),
        payee=st.sampled_from(["M", *CITIZENS]),
        amount=AMOUNTS,
        fee=st.integers(1, 5_000),
    )
    def linked_pair(self, payer: str, payee: str, amount: int, fee: int) -> None:
        kind = "payment" if payee == "M" else "transfer"
        self.submit(
            [
                self.request(payer, payee, amount, kind),
                self.request(payer, "F", fee, "fee"),
            ]
        )

    @rule(
        flow=st.sampled_from(RESERVE_FLOWS),
        amount=AMOUNTS,
        timeout_s=TIMEOUTS,
    )
    def reserve(
        self, flow: tuple[str, str, str], amount: int, timeout_s: int | None
    ) -> None:
        debit, credit, kind = flow
        self.submit(
            [
                self.request(
                    debit, credit, amount, kind, pending=True, timeout_s=timeout_s
                )
            ]
        )

    def pick_reservation(self, data: st.DataObject) -> str:
        """Draw a reservation id, most often one that is still pending."""
        pending = sorted(
            i for i, r in self.reservations.items() if r.status == "pending"
        )
        if pending and data.draw(st.integers(0, 4)):
            return data.draw(st.sampled_from(pending))
        return data.draw(st.sampled_from(sorted(self.reservations)))

    @precondition(lambda self: self.reservations)
    @rule(data=st.data(), partial=st.booleans(), extra=st.integers(0, 2))
    def post(self, data: st.DataObject, partial: bool, extra: int) -> None:
        pending_id = self.pick_reservation(data)
        reserved = self.reservations[pending_id].amount
        amount = None
        if partial:
            # Mostly at most the reservation; sometimes a rupiah or two above it.
            amount = (
                data.draw(st.integers(1, reserved)) if extra == 0 else reserved + extra
            )
        self.resolve(self.new_id("post"), pending_id, "post", amount)

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        pending_id = self.pick_reservation(data)
        self.resolve(self.new_id("void"), pending_id, "void", None)

    @rule(seconds=st.sampled_from([1, 59, 61, 3_599, 3_601, 10 * 86_400]))
    def advance_clock(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)

    @rule()
    def expire(self) -> None:
        due = [
            r
            for r in self.reservations.values()
            if r.status == "pending" and r.expires_at and r.expires_at <= self.clock
        ]
        assert services.expire_pending(self.clock) == len(due)
        for reservation in due:
            client_id = f"expire:{reservation.id}"
            self.settle(client_id, reservation, "expire", 0)
            self.fingerprints[client_id] = ("void", reservation.id, None)

    @precondition(lambda self: self.done)
    @rule(data=st.data(), as_batch=st.booleans())
    def retry_same(self, data: st.DataObject, as_batch: bool) -> None:
        done = data.draw(st.sampled_from(self.done))
        before = copy.deepcopy(self.books)
        if done.call in ("submit", "batch") and as_batch:
            [result] = services.submit_batch(list(done.requests))
            assert result.error is None, result.error.code
            pks: tuple[int, ...] = (result.transfer.pk,)
        elif done.call in ("submit", "batch"):
            pks = (services.submit(done.requests[0]).pk,)
        elif done.call == "linked":
            pks = tuple(t.pk for t in services.submit_linked(list(done.requests)))
        elif done.call == "post":
            pks = (
                services.post_pending(
                    id=done.id, pending_id=done.pending_id, amount=done.amount
                ).pk,
            )
        else:
            pks = (services.void_pending(id=done.id, pending_id=done.pending_id).pk,)
        assert pks == done.pks, "a retry should return the stored transfer"
        assert self.books == before

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def retry_different(self, data: st.DataObject) -> None:
        done = data.draw(st.sampled_from(self.done))
        with pytest.raises(TransferRejected) as caught:
            if done.call in ("submit", "batch"):
                first = done.requests[0]
                services.submit(replace(first, amount=first.amount + 1))
            elif done.call == "linked":
                first, second = done.requests
                services.submit_linked(
                    [first, replace(second, amount=second.amount + 1)]
                )
            elif done.call == "post":
                services.post_pending(
                    id=done.id,
                    pending_id=done.pending_id,
                    amount=(done.amount or 0) + 1,
                )
            else:
                services.post_pending(id=done.id, pending_id=done.pending_id)
        assert caught.value.code == "id_conflict", caught.value.message
        assert caught.value.field == "id"

    @rule(
        flows=st.lists(
            st.one_of(
                st.tuples(*(st.just(part) for part in flow), AMOUNTS)
                for flow in BATCH_FLOWS
            )
            | st.tuples(
                ANY_ACCOUNT, ANY_ACCOUNT, st.sampled_from(sorted(PATHS)), AMOUNTS
            ),
            min_size=1,
            max_size=6,
        ),
        repeat_inside=st.booleans(),
        data=st.data(),
    )
    def batch(
        self,
        flows: list[tuple[str, str, str, int]],
        repeat_inside: bool,
        data: st.DataObject,
    ) -> None:
        requests = [self.request(d, c, amount, kind) for d, c, kind, amount in flows]
        if repeat_inside:
            requests.append(requests[0])
        if self.done and data.draw(st.booleans()):
            earlier = data.draw(st.sampled_from(self.done))
            if earlier.requests:
                requests.append(earlier.requests[0])
        expected = self.predict_batch(requests)

        results = services.submit_batch(requests, actor="test")

        codes = [r.error.code if r.error else None for r in results]
        for code in codes:
            event(f"batch: {code or 'accepted'}")
        assert codes == [code for code, _ in expected]
        for request, (_, written), result in zip(
            requests, expected, results, strict=True
        ):
            if result.transfer is not None:
                assert result.transfer.client_id == request.id
            if written:
                assert result.transfer is not None
                self.done.append(Done("batch", (request,), pks=(result.transfer.pk,)))

    def predict_batch(
        self, requests: list[TransferRequest]
    ) -> list[tuple[str | None, bool]]:
        """Predict each result as (rejection code, newly written) and apply the model."""
        outcomes: list[tuple[str | None, bool]] = []
        seen: set[str] = set()
        books = copy.deepcopy(self.books)
        accepted = []
        for request in requests:
            error = self.shape_error(request)
            if error is None and request.id in seen:
                error = "id_conflict"
            if error:
                outcomes.append((error, False))
                continue
            seen.add(request.id)
            if request.id in self.fingerprints:
                same = self.fingerprints[request.id] == (
                    "request",
                    replace(request, id=""),
                    "",
                )
                outcomes.append((None if same else "id_conflict", False))
                continue
            error = self.apply(books, request)
            outcomes.append((error, error is None))
            if error is None:
                accepted.append(request)
        self.books = books
        for request in accepted:
            self.record(request)
        return outcomes

    @rule()
    def toggle_mode(self) -> None:
        self.mode = "closed_loop" if self.mode == "emoney" else "emoney"
        city = City.objects.order_by("id").first()
        assert city is not None
        city.settings["wallet"]["mode"] = self.mode
        city.save()

    @rule(name=st.sampled_from(["C", "M"]))
    def toggle_frozen(self, name: str) -> None:
        book = self.books.accounts[self.numbers[name]]
        book.status = "frozen" if book.status == "active" else "active"
        account = Account.objects.get(number=book.number)
        services.change_account(account, status=book.status, actor="test")

    @rule(
        case=st.sampled_from(MALFORMED),
    )
    def malformed(self, case: str) -> None:
        base = self.request("A", "B", 1_000, "transfer")
        changes: dict[str, Any] = {
            "zero": {"amount": 0},
            "negative": {"amount": -5},
            "bool": {"amount": True},
            "huge": {"amount": MAX_AMOUNT + 1},
            "empty_id": {"id": ""},
            "long_id": {"id": "x" * 65},
            "space_id": {"id": "has space"},
            "expire_id": {"id": f"expire:{next(iter(self.reservations), 's-1')}"},
            "kind": {"kind": "gift"},
            "channel": {"channel": "pos"},
            "memo": {"memo": "m" * 65},
            "nik_memo": {"memo": "1374015501900001"},
            "timeout": {"timeout_s": 60},
            "same": {"credit": base.debit},
        }[case]
        self.submit([replace(base, **changes)])

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def client_takes_expire_id(self, data: st.DataObject) -> None:
        pending_id = data.draw(st.sampled_from(sorted(self.reservations)))
        self.resolve(f"expire:{pending_id}", pending_id, "void", None)

    # ------------------------------------------------------------ invariants

    @invariant()
    def tables_match_model(self) -> None:
        fields = ("number", "status", "debits_pending", "debits_posted")
        fields += ("credits_pending", "credits_posted")
        rows = {row["number"]: row for row in Account.objects.values(*fields)}
        assert set(rows) == set(self.books.accounts)
        for number, book in self.books.accounts.items():
            row = rows[number]
            expected = {name: getattr(book, name) for name in fields}
            assert row == expected, f"account {book.kind} {number}"

    @invariant()
    def months_match_model(self) -> None:
        stored = {
            (number, month): credits
            for number, month, credits in AccountMonth.objects.values_list(
                "account__number", "month", "credits"
            )
            if credits
        }
        assert stored == {
            key: value for key, value in self.books.months.items() if value
        }

    @invariant()
    def debits_equal_credits(self) -> None:
        sums = Account.objects.aggregate(
            debits_posted=Sum("debits_posted"),
            credits_posted=Sum("credits_posted"),
            debits_pending=Sum("debits_pending"),
            credits_pending=Sum("credits_pending"),
        )
        assert sums["debits_posted"] == sums["credits_posted"]
        assert sums["debits_pending"] == sums["credits_pending"]

    @invariant()
    def balances_within_rules(self) -> None:
        for account in Account.objects.all():
            if account.kind in NEVER_NEGATIVE:
                assert account.balance >= 0, f"{account.kind} {account.number}"
                assert account.available >= 0, f"{account.kind} {account.number}"
            if account.kind == "citizen":
                credits_in = account.credits_posted + account.credits_pending
                cap = LIMITS[account.tier]["balance_max"]
                assert credits_in - account.debits_posted <= cap, account.number
        for month in AccountMonth.objects.select_related("account"):
            cap = LIMITS[month.account.tier]["monthly_in_max"]
            assert month.credits <= cap, f"{month.account.number} {month.month}"

    @invariant()
    def transfers_match_model(self) -> None:
        stored = dict(Transfer.objects.values_list("client_id", "status"))
        assert stored == self.statuses
        events = Entry.objects.filter(event_type__startswith="wallet.transfer.")
        assert events.count() == len(self.statuses)


@pytest.mark.django_db
def test_ledger_matches_model(city) -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
