"""The waste levy's JSON API: tariffs, billing runs, bills, payments, collection.

Callers authenticate like every router of this API (an API token, or the
session of the city's own pages with CSRF on writes). The revenue officer
(`wallet.manage_levies`) sets tariffs, runs billing and cancels bills;
auditors and administrators (`wallet.view_all_accounts`) read everything;
a cashier (`wallet.operate_counter`) looks bills up by number or plate code
and takes cash for them; a citizen (`wallet.use_wallet`) lists and pays the
bills of her own household, from her wallet, with her payment PIN. Request
bodies take loosely typed values and leave validation to `levy.services`,
so a 422 names the field at fault.
"""

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area
from kotacerdas.levy import billing, queries, services
from kotacerdas.levy.models import Bill, BillingRun, Payment, Tariff
from kotacerdas.levy.months import InvalidMonth, current_month, month_text, parse_month
from kotacerdas.levy.services import FieldError, LevyError
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.wallet import pins
from kotacerdas.wallet.models import Channel

router = Router(auth=API_AUTH)

MANAGE = "wallet.manage_levies"
READ = (MANAGE, "wallet.view_all_accounts")
COUNTER = "wallet.operate_counter"
CITIZEN = "wallet.use_wallet"
MAX_LIMIT = 500
# Databases take a 64-bit OFFSET; a bound far below it gives 422, not 500.
MAX_OFFSET = 1_000_000_000
Loose = str | int | float | None
Reply = Status[Any]
# Errors that conflict with what is stored rather than with the request's form.
CONFLICTS = {"id_conflict", "bill_paid", "bill_cancelled", "bill_has_payments"}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class InvalidOut(Schema):
    error: ErrorDetail
    errors: list[ErrorDetail]


class TariffOut(Schema):
    id: int
    levy_class: str
    label: str
    monthly_amount: int = Field(description="Whole rupiah per month; 0 = not billed.")
    valid_from: str = Field(description="First month it applies to, YYYY-MM.")
    source: str
    in_force: bool = Field(description="Whether it is the class's tariff this month.")
    entry_seq: int | None


class TariffIn(Schema):
    model_config = ConfigDict(extra="forbid")

    levy_class: Loose = None
    monthly_amount: Loose = None
    valid_from: Loose = Field(None, description="YYYY-MM, this month or later.")


class PaymentOut(Schema):
    id: int
    bill_id: int
    amount: int
    channel: str
    transfer_id: str
    receipt_reference: str
    receipt_url: str
    paid_at: datetime
    entry_seq: int | None


class BillOut(Schema):
    id: int
    number: str
    month: str
    kelurahan_code: str
    building_id: int
    plate_code: str
    household_id: int | None
    levy_class: str
    amount: int
    paid_amount: int
    outstanding: int
    status: str
    overdue: bool
    due_date: date
    issued_at: datetime
    entry_seq: int | None


class BillDetailOut(BillOut):
    payments: list[PaymentOut]


class BillPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[BillOut]


class BillFilters(Schema):
    q: str = Field("", description="Bill number or plate code (or a plate's QR text).")
    month: str = Field("", description="YYYY-MM")
    kelurahan: str = Field("", description="Kelurahan code, such as 13.74.02.1002.")
    status: str = Field(
        "", description="open, partly_paid, paid, cancelled, unpaid or arrears."
    )
    household_id: int | None = None
    building_id: int | None = None
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    amount: Loose = Field(None, description="Whole rupiah, at most what is owed.")
    transfer_id: Loose = Field(
        None,
        description="Your id for this payment (1-64 of A-Z a-z 0-9 . _ : -); "
        "sending it again returns the same payment.",
    )
    channel: Loose = Field(
        None,
        description="'counter' (cash at a counter, for cashiers) or 'app' (the "
        "citizen's own wallet). Default: 'counter' for cashiers, else 'app'.",
    )
    pin: Loose = Field(None, description="The citizen's payment PIN, for 'app'.")


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Loose = Field(
        None, description="wrong_class, duplicate, not_liable or other."
    )


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    month: Loose = Field(None, description="YYYY-MM; the current month or earlier.")


class RunOut(Schema):
    id: int
    month: str
    status: str = Field(description="queued, running, finished or failed.")
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    payer_count: int
    checked_count: int
    billed_count: int
    billed_amount: int
    already_billed_count: int
    no_va_count: int
    no_class_count: int
    exempt_count: int
    no_household_count: int
    skipped: list[dict[str, Any]]


class ReportRowOut(Schema):
    kelurahan_code: str
    kelurahan_name: str
    bill_count: int
    billed: int
    collected: int
    outstanding: int
    collection_rate_percent: float | None = Field(
        description="collected / billed * 100, one decimal; null when nothing billed."
    )
    arrears: int
    households_in_arrears: int
    buildings_in_arrears: int


class ReportOut(Schema):
    month: str
    rows: list[ReportRowOut]
    total: ReportRowOut


# Shared checks -----------------------------------------------------------------------


def _error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    return error_body(code, message, field)


def _forbidden(permission: str) -> Reply:
    return Status(
        403,
        _error_body(
            "forbidden",
            _("Your role does not allow this (it needs the %(permission)s permission).")
            % {"permission": permission},
        ),
    )


def _denied(request: HttpRequest, *permissions: str) -> Reply | None:
    if any(request.user.has_perm(p) for p in permissions):
        return None
    return _forbidden(" or ".join(permissions))


def _invalid(error: LevyError) -> Reply:
    details = [_error_body(e.code, e.message, e.field)["error"] for e in error.errors]
    status = 409 if error.code in CONFLICTS else 422
    return Status(status, {"error": details[0], "errors": details})


def _not_found() -> Reply:
    return Status(404, _error_body("not_found", _("No bill has this id.")))


def _reads_all(request: HttpRequest) -> bool:
    return any(request.user.has_perm(p) for p in READ)


def _visible_bills(request: HttpRequest) -> QuerySet[Bill] | None:
    """Return the bills the caller may see by id, or None for no levy rights."""
    if _reads_all(request) or request.user.has_perm(COUNTER):
        return Bill.objects.all()
    if request.user.has_perm(CITIZEN):
        return queries.bills_of_user(request.user)
    return None


def _tariff_out(tariff: Tariff, in_force: dict[str, Tariff]) -> dict[str, Any]:
    return {
        "id": tariff.pk,
        "levy_class": tariff.levy_class,
        "label": tariff.label,
        "monthly_amount": tariff.monthly_amount,
        "valid_from": month_text(tariff.valid_from),
        "source": tariff.source,
        "in_force": in_force.get(tariff.levy_class) == tariff,
        "entry_seq": tariff.entry_seq,
    }


def _bill_out(bill: Bill) -> dict[str, Any]:
    return {
        "id": bill.pk,
        "number": bill.number,
        "month": month_text(bill.month),
        "kelurahan_code": bill.kelurahan.code,
        "building_id": bill.building_id,
        "plate_code": bill.building.plate_code,
        "household_id": bill.household_id,
        "levy_class": bill.levy_class,
        "amount": bill.amount,
        "paid_amount": bill.paid_amount,
        "outstanding": bill.outstanding,
        "status": bill.status,
        "overdue": bill.overdue,
        "due_date": bill.due_date,
        "issued_at": bill.issued_at,
        "entry_seq": bill.entry_seq,
    }


def _payment_out(payment: Payment) -> dict[str, Any]:
    from kotacerdas.levy.templatetags.levy_tags import receipt_url

    return {
        "id": payment.pk,
        "bill_id": payment.bill_id,
        "amount": payment.amount,
        "channel": payment.channel,
        "transfer_id": payment.transfer.client_id,
        "receipt_reference": payment.transfer.reference,
        "receipt_url": receipt_url(payment.transfer.reference),
        "paid_at": payment.created_at,
        "entry_seq": payment.entry_seq,
    }


def _bill_detail(bill: Bill) -> dict[str, Any]:
    payments = bill.payments.select_related("transfer").order_by("created_at", "id")
    return {**_bill_out(bill), "payments": [_payment_out(p) for p in payments]}


def _row_out(row: queries.ReportRow) -> dict[str, Any]:
    rate = row.rate_percent
    return {
        "kelurahan_code": row.code,
        "kelurahan_name": row.name,
        "bill_count": row.bill_count,
        "billed": row.billed,
        "collected": row.collected,
        "outstanding": row.outstanding,
        "collection_rate_percent": None if rate is None else float(rate),
        "arrears": row.arrears,
        "households_in_arrears": row.households_in_arrears,
        "buildings_in_arrears": row.buildings_in_arrears,
    }


def _run_out(run: BillingRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "month": month_text(run.month),
        "status": run.status,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "payer_count": run.payer_count,
        "checked_count": run.checked_count,
        "billed_count": run.billed_count,
        "billed_amount": run.billed_amount,
        "already_billed_count": run.already_billed_count,
        "no_va_count": run.no_va_count,
        "no_class_count": run.no_class_count,
        "exempt_count": run.exempt_count,
        "no_household_count": run.no_household_count,
        "skipped": run.skipped,
    }


def _month_or_error(value: Any) -> Any:
    try:
        return parse_month(str(value or ""))
    except InvalidMonth as error:
        raise LevyError([FieldError("month", error.message)]) from None


def _bill_filters(request: HttpRequest, filters: BillFilters) -> dict[str, Any]:
    """Turn query parameters into `queries.filter_bills` values; raise LevyError."""
    values: dict[str, Any] = {
        "q": filters.q,
        "status": filters.status,
        "household": filters.household_id,
        "building": filters.building_id,
    }
    if filters.month:
        values["month"] = _month_or_error(filters.month)
    if filters.kelurahan:
        try:
            values["kelurahan"] = Area.objects.get(
                code=normalize_code(filters.kelurahan)
            )
        except (InvalidAreaCode, Area.DoesNotExist):
            raise LevyError(
                [
                    FieldError(
                        "kelurahan",
                        _(
                            "No kelurahan has the code %(code)s; use a code such as 13.74.02.1002."
                        )
                        % {"code": filters.kelurahan},
                    )
                ]
            ) from None
    known = {"", queries.STATUS_UNPAID, queries.STATUS_ARREARS, *Bill.Status.values}
    if filters.status not in known:
        raise LevyError(
            [
                FieldError(
                    "status",
                    _("The status must be one of: %(statuses)s.")
                    % {"statuses": ", ".join(sorted(known - {""}))},
                )
            ]
        )
    return values


# Operations --------------------------------------------------------------------------


@router.get(
    "/tariffs",
    response={200: list[TariffOut], 403: ErrorOut},
    summary="List tariffs, with the one in force this month flagged",
)
def list_tariffs(request: HttpRequest) -> Reply:
    if denied := _denied(request, *READ):
        return denied
    services.ensure_tariffs()
    in_force = services.tariffs_for(current_month())
    tariffs = Tariff.objects.order_by("levy_class", "-valid_from", "-id")
    return Status(200, [_tariff_out(t, in_force) for t in tariffs])


@router.post(
    "/tariffs",
    response={201: TariffOut, 403: ErrorOut, 422: InvalidOut},
    summary="Set a class's monthly amount from a month on",
)
def set_tariff(request: HttpRequest, body: TariffIn) -> Reply:
    if denied := _denied(request, MANAGE):
        return denied
    services.ensure_tariffs()
    try:
        tariff = services.set_tariff(
            body.levy_class, body.monthly_amount, body.valid_from, actor=request.user
        )
    except LevyError as error:
        return _invalid(error)
    return Status(201, _tariff_out(tariff, services.tariffs_for(current_month())))


@router.get(
    "/billing-runs",
    response={200: list[RunOut], 403: ErrorOut},
    summary="List the latest billing runs",
)
def list_runs(request: HttpRequest) -> Reply:
    if denied := _denied(request, *READ):
        return denied
    return Status(200, [_run_out(run) for run in BillingRun.objects.all()[:50]])


@router.post(
    "/billing-runs",
    response={202: RunOut, 403: ErrorOut, 422: InvalidOut},
    summary="Queue the billing of a month for the worker",
    description="Payers already billed for the month are not billed again. "
    "Follow the run at /api/levy/billing-runs/{run_id} until its status is "
    "finished or failed. A month already waiting returns that run.",
)
def queue_billing(request: HttpRequest, body: RunIn) -> Reply:
    if denied := _denied(request, MANAGE):
        return denied
    try:
        run = billing.queue_billing(str(body.month or ""), actor=request.user)
    except LevyError as error:
        return _invalid(error)
    return Status(202, _run_out(run))


@router.get(
    "/billing-runs/{run_id}",
    response={200: RunOut, 403: ErrorOut, 404: ErrorOut},
    summary="Get a billing run and its counts",
)
def get_run(request: HttpRequest, run_id: int) -> Reply:
    if denied := _denied(request, *READ):
        return denied
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None:
        return Status(404, _error_body("not_found", _("No billing run has this id.")))
    return Status(200, _run_out(run))


@router.get(
    "/bills",
    response={200: BillPage, 403: ErrorOut, 422: InvalidOut},
    summary="List and filter bills",
)
def list_bills(request: HttpRequest, filters: Query[BillFilters]) -> Reply:
    bills = _visible_bills(request)
    if bills is None:
        return _forbidden(" or ".join((*READ, COUNTER, CITIZEN)))
    try:
        values = _bill_filters(request, filters)
    except LevyError as error:
        return _invalid(error)
    if not _reads_all(request) and request.user.has_perm(COUNTER) and not filters.q:
        # A counter looks up the bills of the payer in front of it, not the city's.
        return _invalid(
            LevyError([FieldError("q", _("Give a bill number or a plate code."))])
        )
    bills = queries.filter_bills(queries.with_payer(bills), values)
    bills = bills.order_by("-month", "number")
    page = bills[filters.offset : filters.offset + filters.limit]
    return Status(
        200,
        {
            "count": bills.count(),
            "limit": filters.limit,
            "offset": filters.offset,
            "items": [_bill_out(bill) for bill in page],
        },
    )


@router.get(
    "/bills/{bill_id}",
    response={200: BillDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="Get a bill with its payments",
)
def get_bill(request: HttpRequest, bill_id: int) -> Reply:
    bills = _visible_bills(request)
    if bills is None:
        return _forbidden(" or ".join((*READ, COUNTER, CITIZEN)))
    bill = queries.with_payer(bills).filter(pk=bill_id).first()
    if bill is None:
        return _not_found()
    return Status(200, _bill_detail(bill))


@router.post(
    "/bills/{bill_id}/payments",
    response={
        200: PaymentOut,
        201: PaymentOut,
        403: ErrorOut,
        404: ErrorOut,
        409: InvalidOut,
        422: InvalidOut,
    },
    summary="Pay all or part of a bill (201; 200 when the transfer id was seen)",
)
def pay_bill(request: HttpRequest, bill_id: int, body: PaymentIn) -> Reply:
    channel = body.channel or (
        Channel.COUNTER if request.user.has_perm(COUNTER) else Channel.APP
    )
    if channel == Channel.COUNTER:
        if denied := _denied(request, COUNTER):
            return denied
        bill = Bill.objects.filter(pk=bill_id).first()
    elif channel == Channel.APP:
        if denied := _denied(request, CITIZEN):
            return denied
        bill = queries.bills_of_user(request.user).filter(pk=bill_id).first()
    else:
        return _invalid(
            LevyError(
                [FieldError("channel", _("The channel must be 'counter' or 'app'."))]
            )
        )
    if bill is None:
        return _not_found()
    if channel == Channel.APP:
        require_at(Service.LEVY_WALLET, bill)
    transfer_id = str(body.transfer_id or "")
    seen = Payment.objects.filter(transfer__client_id=transfer_id).exists()
    try:
        if channel == Channel.COUNTER:
            payment = services.pay_at_counter(
                bill, amount=body.amount, transfer_id=transfer_id, actor=request.user
            )
        else:
            _check_pin(request, body.pin)
            payment = services.pay_from_wallet(
                bill, request.user, amount=body.amount, transfer_id=transfer_id
            )
    except LevyError as error:
        return _invalid(error)
    return Status(200 if seen else 201, _payment_out(payment))


def _check_pin(request: HttpRequest, pin: Any) -> None:
    try:
        pins.check_pin(request.user, str(pin or ""))
    except pins.PinError as error:
        raise LevyError([FieldError("pin", error.message, error.code)]) from None


@router.post(
    "/bills/{bill_id}/cancel",
    response={
        200: BillOut,
        403: ErrorOut,
        404: ErrorOut,
        409: InvalidOut,
        422: InvalidOut,
    },
    summary="Cancel a bill nothing was paid on",
)
def cancel_bill(request: HttpRequest, bill_id: int, body: CancelIn) -> Reply:
    if denied := _denied(request, MANAGE):
        return denied
    bill = Bill.objects.filter(pk=bill_id).first()
    if bill is None:
        return _not_found()
    try:
        services.cancel_bill(bill, body.reason, actor=request.user)
    except LevyError as error:
        return _invalid(error)
    bill = queries.with_payer(Bill.objects.filter(pk=bill_id)).get()
    return Status(200, _bill_out(bill))


@router.get(
    "/report",
    response={200: ReportOut, 403: ErrorOut, 422: InvalidOut},
    summary="Billed, collected, rate and arrears per kelurahan for a month",
)
def collection_report(request: HttpRequest, month: str = "") -> Reply:
    if denied := _denied(request, *READ):
        return denied
    try:
        wanted = _month_or_error(month) if month else current_month()
    except LevyError as error:
        return _invalid(error)
    report = queries.collection_report(wanted)
    return Status(
        200,
        {
            "month": month_text(report.month),
            "rows": [_row_out(row) for row in report.rows],
            "total": _row_out(report.total),
        },
    )
