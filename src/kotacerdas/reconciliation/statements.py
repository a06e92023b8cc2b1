"""Import a bank statement of the settlement account and match it to the ledger.

Each credit row (money in) is matched to a posted bank top-up, and each debit
row (money out) to a posted withdrawal. The row's reference is looked up, in
this order, as the SNAP `paymentRequestId` the bank sent with the top-up, as
a receipt reference (`TRX-...`, also found inside the description), as a
transfer id and as a transfer's reference note. A row whose reference matches
nothing is paired with an unmatched transfer of the same amount on the same
day and marked probable. Bank top-ups of the statement's days that no row
matched are listed as missing from the statement.

A transfer is accounted for by one line at most, across every import, which a
unique constraint on the line table enforces. The same file imported twice is
recognised by its SHA-256 and opens the first report.
"""

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.reconciliation.models import (
    CLAIMING_STATUSES,
    LineStatus,
    StatementImport,
    StatementLine,
)
from kotacerdas.reconciliation.services import MONEY_PHASES, day_bounds
from kotacerdas.reconciliation.statement_csv import (
    Statement,
    StatementRejected,
    StatementRow,
    parse_statement,
)
from kotacerdas.wallet.models import Channel, Phase, Transfer, TransferKind
from kotacerdas.wallet.numbers import CROCKFORD, REFERENCE_LENGTH, REFERENCE_PREFIX

logger = logging.getLogger(__name__)

MAX_STATEMENT_BYTES = 5 * 1024 * 1024
# Values per `IN (...)` query: below SQLite's default limit of 999 parameters
# before version 3.32.
IN_CHUNK = 900
RECEIPT_REFERENCE = re.compile(
    rf"\b{re.escape(REFERENCE_PREFIX)}[{CROCKFORD}]{{{REFERENCE_LENGTH}}}\b",
    re.IGNORECASE,
)
BANK_TOPUPS = Q(kind=TransferKind.TOPUP, channel=Channel.BANK_VA)
# Cash paid out at a counter never passes through the bank account.
BANK_WITHDRAWALS = Q(kind=TransferKind.WITHDRAWAL) & ~Q(channel=Channel.COUNTER)


@dataclass(frozen=True)
class ImportOutcome:
    statement: StatementImport
    created: bool


def import_statement(data: bytes, file_name: str, *, user: Any = None) -> ImportOutcome:
    """Store a statement with one line per row and per missing top-up.

    Returns the earlier import unchanged when the same bytes were imported
    before. Raises StatementRejected when the file cannot be read as a
    statement; then nothing is stored.
    """
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementRejected(
            _("The file is larger than %(max)s MB; split the statement by month.")
            % {"max": MAX_STATEMENT_BYTES // (1024 * 1024)}
        )
    digest = hashlib.sha256(data).hexdigest()
    earlier = StatementImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        return ImportOutcome(earlier, created=False)
    parsed = parse_statement(data)

    try:
        with transaction.atomic(durable=True):
            statement = _create_import(digest, file_name, parsed, user)
            lines = _Matcher(statement, parsed.rows).run()
            StatementLine.objects.bulk_create(lines, batch_size=1000)
    except IntegrityError:
        earlier = StatementImport.objects.filter(sha256=digest).first()
        if earlier is not None:
            return ImportOutcome(earlier, created=False)
        logger.warning("statement import %s collided with another import", digest)
        raise StatementRejected(
            _(
                "Another statement was imported at the same moment and matched "
                "some of the same transfers. Upload this file again."
            )
        ) from None
    logger.info(
        "imported statement id=%s rows=%s lines=%s",
        statement.pk,
        statement.row_count,
        len(lines),
    )
    return ImportOutcome(statement, created=True)


def _create_import(
    digest: str, file_name: str, parsed: Statement, user: Any
) -> StatementImport:
    read = [row for row in parsed.rows if not row.error_code]
    dates = [row.booked_on for row in read if row.booked_on is not None]
    return StatementImport.objects.create(
        sha256=digest,
        file_name=file_name[:200],
        uploaded_by=user if getattr(user, "pk", None) else None,
        uploaded_at=timezone.now(),
        read_as=parsed.read_as,
        header_row=parsed.header_row,
        row_count=len(parsed.rows),
        blank_rows=parsed.blank_rows,
        first_date=min(dates, default=None),
        last_date=max(dates, default=None),
        credit_total=sum(row.credit for row in read),
        debit_total=sum(row.debit for row in read),
    )


class _Matcher:
    """Match the rows of one statement; each transfer is claimed once."""

    def __init__(self, statement: StatementImport, rows: list[StatementRow]) -> None:
        self.statement = statement
        self.rows = rows
        # transfer id -> (file name, row number) of the line that claimed it
        self.claims: dict[int, tuple[str, int | None]] = {}
        self.lines: dict[int, StatementLine] = {}

    def run(self) -> list[StatementLine]:
        readable = [row for row in self.rows if not row.error_code]
        references = {_reference(row) for row in readable} - {""}
        found = _find_by_reference(references)
        pools = self._pools()
        self._load_claims(
            [t.pk for ts in found.values() for t, _how in ts]
            + [t.pk for pool in pools.values() for ts in pool.values() for t in ts]
        )

        # Exact references first, so that a probable pairing never takes a
        # transfer that a later row names exactly.
        unmatched = []
        for row in readable:
            candidates = found.get(_reference(row), [])
            if candidates:
                self.lines[row.row_number] = self._by_reference(row, candidates)
            else:
                unmatched.append(row)
        for row in unmatched:
            self.lines[row.row_number] = self._by_amount(row, pools)
        for row in self.rows:
            if row.error_code:
                self.lines[row.row_number] = self._error_line(row)

        ordered = [self.lines[row.row_number] for row in self.rows]
        return ordered + self._missing_top_ups(pools["credit"])

    def _pools(self) -> dict[str, dict[tuple[date, int], list[Transfer]]]:
        """Group the statement days' bank transfers by (day, amount)."""
        pools: dict[str, dict[tuple[date, int], list[Transfer]]] = {
            "credit": defaultdict(list),
            "debit": defaultdict(list),
        }
        first, last = self.statement.first_date, self.statement.last_date
        if first is None or last is None:
            return pools
        start, _end = day_bounds(first)
        _start, end = day_bounds(last)
        in_range = _money().filter(created_at__gte=start, created_at__lt=end)
        for side, condition in (("credit", BANK_TOPUPS), ("debit", BANK_WITHDRAWALS)):
            for transfer in in_range.filter(condition).order_by("created_at", "id"):
                key = (timezone.localdate(transfer.created_at), transfer.amount)
                pools[side][key].append(transfer)
        return pools

    def _load_claims(self, transfer_ids: Iterable[int]) -> None:
        claiming = StatementLine.objects.filter(status__in=CLAIMING_STATUSES)
        claimed = claiming.values_list(
            "transfer_id", "statement__file_name", "row_number"
        )
        for transfer_id, file_name, row_number in _filter_in(
            claimed, "transfer_id", set(transfer_ids)
        ):
            self.claims[transfer_id] = (file_name, row_number)

    def _claim(self, transfer: Transfer, row: StatementRow) -> None:
        self.claims[transfer.pk] = (self.statement.file_name, row.row_number)

    def _by_reference(
        self, row: StatementRow, candidates: list[tuple[Transfer, str]]
    ) -> StatementLine:
        amount = row.credit or row.debit
        fitting = [(t, how) for t, how in candidates if _problem(t, row) is None]
        open_ = [(t, how) for t, how in fitting if t.pk not in self.claims]
        ranked = (
            [c for c in open_ if c[0].amount == amount]
            or open_
            or fitting
            or candidates
        )
        transfer, how = ranked[0]

        problem = _problem(transfer, row)
        if problem is not None:
            code, params = problem
            return self._line(row, LineStatus.NOT_IN_LEDGER, transfer, code, params)
        if transfer.pk in self.claims:
            file_name, row_number = self.claims[transfer.pk]
            params = {
                "transfer": transfer.reference,
                "row": row_number,
                "file": file_name,
            }
            return self._line(row, LineStatus.DUPLICATE, transfer, "duplicate", params)
        self._claim(transfer, row)
        if transfer.amount != amount:
            params = {
                "transfer": transfer.reference,
                "ledger": transfer.amount,
                "statement": amount,
            }
            return self._line(
                row, LineStatus.AMOUNT_DIFFERS, transfer, "amount_differs", params
            )
        return self._line(row, LineStatus.MATCHED, transfer, f"matched_{how}", {})

    def _by_amount(
        self,
        row: StatementRow,
        pools: dict[str, dict[tuple[date, int], list[Transfer]]],
    ) -> StatementLine:
        side = "credit" if row.credit else "debit"
        assert row.booked_on is not None
        key = (row.booked_on, row.credit or row.debit)
        choices = [t for t in pools[side].get(key, []) if t.pk not in self.claims]
        if not choices:
            code = "not_in_ledger_credit" if row.credit else "not_in_ledger_debit"
            return self._line(row, LineStatus.NOT_IN_LEDGER, None, code, {})
        if row.booked_at is not None:
            booked_at = row.booked_at
            choices.sort(key=lambda t: abs((t.created_at - booked_at).total_seconds()))
        transfer = choices[0]
        self._claim(transfer, row)
        params = {"transfer": transfer.reference}
        return self._line(row, LineStatus.PROBABLE, transfer, "probable", params)

    def _missing_top_ups(
        self, pool: dict[tuple[date, int], list[Transfer]]
    ) -> list[StatementLine]:
        missing = [
            t
            for transfers in pool.values()
            for t in transfers
            if t.pk not in self.claims
        ]
        missing.sort(key=lambda t: (t.created_at, t.pk))
        return [
            StatementLine(
                statement=self.statement,
                status=LineStatus.NOT_IN_STATEMENT,
                booked_on=timezone.localdate(t.created_at),
                booked_at=t.created_at,
                reference=t.reference,
                credit=t.amount,
                transfer=t,
                message_code="not_in_statement",
                message_params={
                    "time": timezone.localtime(t.created_at).strftime("%Y-%m-%d %H:%M")
                },
            )
            for t in missing
        ]

    def _line(
        self,
        row: StatementRow,
        status: str,
        transfer: Transfer | None,
        code: str,
        params: dict[str, Any],
    ) -> StatementLine:
        return StatementLine(
            statement=self.statement,
            row_number=row.row_number,
            status=status,
            booked_on=row.booked_on,
            booked_at=row.booked_at,
            description=row.description,
            reference=row.reference,
            credit=row.credit,
            debit=row.debit,
            transfer=transfer,
            message_code=code,
            message_params=params,
        )

    def _error_line(self, row: StatementRow) -> StatementLine:
        return StatementLine(
            statement=self.statement,
            row_number=row.row_number,
            status=LineStatus.ERROR,
            message_code=row.error_code,
            message_params=row.error_params,
            cells=list(row.cells),
        )


def _money() -> QuerySet[Transfer]:
    return Transfer.objects.filter(phase__in=MONEY_PHASES)


def _reference(row: StatementRow) -> str:
    """Return the row's reference, or a receipt reference in its description."""
    if row.reference:
        return row.reference
    found = RECEIPT_REFERENCE.search(row.description)
    return found.group(0).upper() if found else ""


def _find_by_reference(references: set[str]) -> dict[str, list[tuple[Transfer, str]]]:
    """Look references up as payment request ids, receipt references, ids, notes."""
    found: dict[str, list[tuple[Transfer, str]]] = defaultdict(list)
    if not references:
        return found
    paid = _snap_payments(references)
    by_client_id = {
        t.client_id: t
        for t in _filter_in(Transfer.objects.all(), "client_id", paid.values())
    }
    for reference, client_id in paid.items():
        if client_id in by_client_id:
            found[reference].append((by_client_id[client_id], "request_id"))
    receipts = {
        ref.upper(): ref for ref in references if RECEIPT_REFERENCE.fullmatch(ref)
    }
    lookups = (
        ("reference", "reference", receipts),
        ("client_id", "transfer_id", {ref: ref for ref in references}),
        ("memo", "memo", {ref: ref for ref in references}),
    )
    for field, how, keys in lookups:
        if not keys:
            continue
        rows = Transfer.objects.order_by("created_at", "id")
        if field == "memo":
            rows = rows.filter(kind__in=[TransferKind.TOPUP, TransferKind.WITHDRAWAL])
        for transfer in _filter_in(rows, field, keys):
            reference = keys[getattr(transfer, field)]
            # A stronger kind of match for the same reference wins.
            if reference not in found or how in {h for _t, h in found[reference]}:
                found[reference].append((transfer, how))
    return {ref: [(_posting(t), how) for t, how in ts] for ref, ts in found.items()}


def _snap_payments(references: set[str]) -> dict[str, str]:
    """Map each paymentRequestId that SNAP recorded to its transfer id."""
    if not apps.is_installed("kotacerdas.snap"):
        return {}
    payment = apps.get_model("snap", "SnapPayment")
    rows = payment.objects.values_list("payment_request_id", "transfer_id")
    # NOTE: two partner banks may reuse one paymentRequestId; the last one
    # read wins, and its amount check then flags the row if it was the wrong one.
    return dict(_filter_in(rows, "payment_request_id", references))


def _filter_in(
    rows: QuerySet[Any, Any], field: str, values: Iterable[Any]
) -> list[Any]:
    """Run `field__in` in chunks, because SQLite limits a query's parameters."""
    wanted = list(values)
    found: list[Any] = []
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found.extend(rows.filter(**{f"{field}__in": chunk}))
    return found


def _posting(transfer: Transfer) -> Transfer:
    """Return the post row of a posted reservation, which is where money moved."""
    if transfer.phase != Phase.PENDING:
        return transfer
    post = transfer.resolutions.filter(phase=Phase.POST).first()
    return post if post is not None else transfer


def _problem(
    transfer: Transfer, row: StatementRow
) -> tuple[str, dict[str, Any]] | None:
    """Say why a transfer cannot explain this row, or return None if it can."""
    if transfer.phase not in MONEY_PHASES:
        return "not_posted", {"transfer": transfer.reference, "status": transfer.status}
    expected = "bank_topup" if row.credit else "withdrawal"
    fits = (
        transfer.kind == TransferKind.TOPUP and transfer.channel == Channel.BANK_VA
        if row.credit
        else transfer.kind == TransferKind.WITHDRAWAL
        and transfer.channel != Channel.COUNTER
    )
    if fits:
        return None
    return "wrong_kind", {
        "transfer": transfer.reference,
        "kind": transfer.kind,
        "channel": transfer.channel,
        "expected": expected,
    }


def mismatches(statement: StatementImport) -> QuerySet[StatementLine]:
    """Return every line that needs a person to look at it, in row order."""
    return (
        statement.lines.exclude(status=LineStatus.MATCHED)
        .select_related("transfer")
        .order_by("row_number", "id")
    )


def status_counts(statement: StatementImport) -> dict[str, int]:
    """Return how many lines of the import have each status, zeros included."""
    counts = dict.fromkeys(LineStatus.values, 0)
    grouped = statement.lines.values("status").order_by().annotate(count=Count("id"))
    for row in grouped:
        counts[row["status"]] = row["count"]
    return counts
