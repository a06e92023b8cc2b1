"""Wallet API operations for counters, staff and service integrations.

See `api` for the permissions, idempotency and error replies of every
operation under /api/wallet.
"""

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Status

from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.wallet import display, services
from kotacerdas.wallet.api_common import (
    ERRORS,
    HELD_KINDS,
    OPERATE_COUNTER,
    OTHERS,
    STAFF,
    TRANSFER_RELATED,
    VIEW_ALL,
    Refusal,
    Reply,
    account_out,
    account_with_holder,
    actor_of,
    check_pin_or_stored,
    holder_of,
    replies,
    require,
    router,
    transfer_out,
    transfer_page,
    transfer_reply,
)
from kotacerdas.wallet.api_schemas import (
    MAX_BATCH_ITEMS,
    AccountOut,
    AccountPage,
    AccountsQuery,
    BatchIn,
    BatchItemIn,
    BatchOut,
    CashInIn,
    CashOutIn,
    ErrorOut,
    InvalidValue,
    ReservationIn,
    ResolveIn,
    TransferOut,
    TransferPage,
    TransfersQuery,
    VoidIn,
    clean_amount,
    clean_choice,
    clean_client_id,
    clean_filter,
    clean_optional_amount,
    clean_page,
    clean_pin,
    clean_text,
    clean_timeout,
    clean_wallet_number,
)
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountStatus,
    Channel,
    Tier,
    Transfer,
    TransferKind,
    TransferStatus,
)
from kotacerdas.wallet.numbers import WALLET_LENGTH
from kotacerdas.wallet.services import TransferRequest

# City accounts other than the settlement (revenue, fees, waste bank payouts)
# are moved by their own services, never by a counter or an integration.
DEBIT_WITHOUT_PIN = {AccountKind.SETTLEMENT}

# Counters ---------------------------------------------------------------------------


@router.post(
    "/counter/cash-in",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Credit a wallet with cash taken at the counter",
)
@replies(credit="wallet")
def cash_in(request: HttpRequest, body: CashInIn) -> Reply:
    require(request, OPERATE_COUNTER)
    client_id = clean_client_id(body.id)
    number = clean_wallet_number(body.wallet, "wallet")
    amount = clean_amount(body.amount)
    account = Account.objects.filter(number=number).first()
    if account is not None:
        # A counter serves every area, but only for wallets where the service runs.
        require_at(Service.WALLET, account)
    started = timezone.now()
    transfer = services.top_up(
        number,
        amount,
        transfer_id=client_id,
        channel=Channel.COUNTER,
        actor=actor_of(request),
    )
    return transfer_reply(transfer, OTHERS, started)


@router.post(
    "/counter/cash-out",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Pay out cash from a wallet, with its holder's PIN",
)
@replies(debit="wallet")
def cash_out(request: HttpRequest, body: CashOutIn) -> Reply:
    require(request, OPERATE_COUNTER)
    client_id = clean_client_id(body.id)
    number = clean_wallet_number(body.wallet, "wallet")
    amount = clean_amount(body.amount)
    pin = clean_pin(body.pin)
    account = account_with_holder(number)
    holder = holder_of(account, number, "wallet")
    require_at(Service.WALLET, account)
    transfer_request = TransferRequest(
        id=client_id,
        debit=number,
        credit=services.settlement_account().number,
        amount=amount,
        kind=TransferKind.WITHDRAWAL,
        channel=Channel.COUNTER,
    )
    started = timezone.now()
    transfer = check_pin_or_stored(holder, pin, transfer_request)
    if transfer is None:
        transfer = services.submit(transfer_request, actor=actor_of(request))
    return transfer_reply(transfer, OTHERS, started)


# Staff -----------------------------------------------------------------------------


@router.get(
    "/accounts",
    response={200: AccountPage, ERRORS: ErrorOut},
    summary="List wallet accounts (staff)",
)
@replies()
def list_accounts(request: HttpRequest, query: Query[AccountsQuery]) -> Reply:
    require(request, VIEW_ALL)
    limit, offset = clean_page(query)
    kind = clean_filter(query.kind, "kind", AccountKind.values)
    tier = clean_filter(query.tier, "tier", Tier.values)
    status = clean_filter(query.status, "status", AccountStatus.values)
    typed = clean_text(query.number, "number", 20)
    number = "".join(ch for ch in typed if ch not in " .-")
    if number and not (number.isdecimal() and len(number) <= WALLET_LENGTH):
        raise InvalidValue(
            "number",
            _("Enter up to the %(length)d digits of a wallet number.")
            % {"length": WALLET_LENGTH},
        )

    accounts = Account.objects.select_related("member", "holder")
    if kind:
        accounts = accounts.filter(kind=kind)
    if tier:
        accounts = accounts.filter(tier=tier)
    if status:
        accounts = accounts.filter(status=status)
    if number:
        accounts = accounts.filter(number__startswith=number)

    page = accounts[offset : offset + limit]
    return Status(
        200,
        {
            "count": accounts.count(),
            "limit": limit,
            "offset": offset,
            "items": [
                account_out(account, display.holder_name(account)) for account in page
            ],
        },
    )


@router.get(
    "/accounts/{number}",
    response={200: AccountOut, ERRORS: ErrorOut},
    summary="Get one wallet account (staff)",
)
@replies()
def get_account(request: HttpRequest, number: str) -> Reply:
    require(request, VIEW_ALL)
    cleaned = clean_wallet_number(number, "number")
    account = (
        Account.objects.select_related("member", "holder")
        .filter(number=cleaned)
        .first()
    )
    if account is None:
        raise Refusal(
            404,
            "not_found",
            _("No wallet has the number %(number)s. Check the number and try again.")
            % {"number": cleaned},
            "number",
        )
    return Status(200, account_out(account, display.holder_name(account)))


@router.get(
    "/transfers",
    response={200: TransferPage, ERRORS: ErrorOut},
    summary="List transfers, of one account or all (staff)",
)
@replies()
def list_transfers(request: HttpRequest, query: Query[TransfersQuery]) -> Reply:
    require(request, VIEW_ALL)
    transfers = Transfer.objects.all()
    if query.account not in (None, ""):
        number = clean_wallet_number(query.account, "account")
        transfers = transfers.filter(
            Q(debit_account__number=number) | Q(credit_account__number=number)
        )
    status = clean_filter(query.status, "status", TransferStatus.values)
    if status:
        transfers = transfers.filter(status=status)
    return transfer_page(transfers, query, STAFF)


@router.get(
    "/transfers/{reference}",
    response={200: TransferOut, ERRORS: ErrorOut},
    summary="Get one transfer by its receipt reference (staff)",
)
@replies()
def get_transfer(request: HttpRequest, reference: str) -> Reply:
    require(request, VIEW_ALL)
    transfer = (
        Transfer.objects.select_related(*TRANSFER_RELATED)
        .filter(reference=reference.strip().upper())
        .first()
    )
    if transfer is None:
        raise Refusal(
            404,
            "not_found",
            _("No transfer has the reference %(reference)s.")
            % {"reference": reference},
            "reference",
        )
    return Status(200, transfer_out(transfer, STAFF))


# Service integrations ------------------------------------------------------------------


@router.post(
    "/reservations",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Reserve an amount now, to post or void later (two-phase)",
)
@replies(debit="from", credit="to")
def reserve(request: HttpRequest, body: ReservationIn) -> Reply:
    require(request, OPERATE_COUNTER)
    transfer_request = TransferRequest(
        id=clean_client_id(body.id),
        debit=clean_wallet_number(body.from_, "from"),
        credit=clean_wallet_number(body.to, "to"),
        amount=clean_amount(body.amount),
        kind=clean_choice(body.kind, "kind", TransferKind.values),
        channel=clean_choice(body.channel, "channel", Channel.values, default="system"),
        pending=True,
        timeout_s=clean_timeout(body.timeout_s),
        memo=clean_text(body.memo, "memo"),
    )
    started = timezone.now()
    transfer = None
    payer = account_with_holder(transfer_request.debit)
    if payer is not None and payer.kind in HELD_KINDS:
        pin = clean_pin(body.pin)
        holder = holder_of(payer, transfer_request.debit, "from")
        transfer = check_pin_or_stored(holder, pin, transfer_request)
    elif payer is not None and payer.kind not in DEBIT_WITHOUT_PIN:
        raise Refusal(403, "debit_not_allowed", str(CITY_DEBIT), "from")
    if transfer is None:
        transfer = services.submit(transfer_request, actor=actor_of(request))
    return transfer_reply(transfer, OTHERS, started)


@router.post(
    "/reservations/{pending_id}/post",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Post a reservation, in full or for less",
)
@replies()
def post_reservation(request: HttpRequest, pending_id: str, body: ResolveIn) -> Reply:
    require(request, OPERATE_COUNTER)
    require_own_reservation(request, pending_id)
    client_id = clean_client_id(body.id)
    amount = clean_optional_amount(body.amount)
    started = timezone.now()
    transfer = services.post_pending(
        id=client_id, pending_id=pending_id, amount=amount, actor=actor_of(request)
    )
    return transfer_reply(transfer, OTHERS, started)


@router.post(
    "/reservations/{pending_id}/void",
    response={200: TransferOut, 201: TransferOut, ERRORS: ErrorOut},
    summary="Void a reservation: the held amount is released",
)
@replies()
def void_reservation(request: HttpRequest, pending_id: str, body: VoidIn) -> Reply:
    require(request, OPERATE_COUNTER)
    require_own_reservation(request, pending_id)
    client_id = clean_client_id(body.id)
    started = timezone.now()
    transfer = services.void_pending(
        id=client_id, pending_id=pending_id, actor=actor_of(request)
    )
    return transfer_reply(transfer, OTHERS, started)


def require_own_reservation(request: HttpRequest, pending_id: str) -> None:
    """Refuse to post or void a reservation another user or service made.

    Every cashier and service account has the counter permission, so the
    permission alone would let one counter release another's held money.
    """
    pending = Transfer.objects.filter(client_id=pending_id).only("actor").first()
    if pending is not None and pending.actor != actor_of(request):
        raise Refusal(
            403, "reservation_not_yours", str(NOT_YOUR_RESERVATION), "pending_id"
        )


def _batch_request(item: BatchItemIn) -> TransferRequest:
    return TransferRequest(
        id=clean_client_id(item.id),
        debit=clean_wallet_number(item.from_, "from"),
        credit=clean_wallet_number(item.to, "to"),
        amount=clean_amount(item.amount),
        kind=clean_choice(item.kind, "kind", TransferKind.values),
        channel=clean_choice(item.channel, "channel", Channel.values, default="system"),
        memo=clean_text(item.memo, "memo"),
    )


BATCH_HELD_DEBIT = gettext_lazy(
    "A batch cannot debit a citizen or merchant account, because that needs its "
    "holder's PIN. Send this transfer on its own."
)
NOT_YOUR_RESERVATION = gettext_lazy(
    "This reservation was made by another user or service. Only the one that "
    "made a reservation can post or void it."
)
CITY_DEBIT = gettext_lazy(
    "Only the settlement account, or a wallet with its holder's PIN, can pay "
    "through this operation. The city's revenue, fee and waste bank accounts "
    "are paid out by their own services."
)


def _batch_error(
    item: BatchItemIn, code: str, message: str, field: str
) -> dict[str, Any]:
    client_id = item.id if isinstance(item.id, str) else None
    error = {"code": code, "message": message, "field": field}
    return {"id": client_id, "ok": False, "transfer": None, "error": error}


@router.post(
    "/batch",
    response={200: BatchOut, ERRORS: ErrorOut},
    summary=f"Carry out up to {MAX_BATCH_ITEMS} independent transfers at once",
)
@replies()
def batch(request: HttpRequest, body: BatchIn) -> Reply:
    require(request, OPERATE_COUNTER)
    if not body.items:
        raise InvalidValue("items", _("Send at least one transfer in items."))
    results: list[dict[str, Any] | None] = [None] * len(body.items)
    checked: list[tuple[int, TransferRequest]] = []
    for position, item in enumerate(body.items):
        try:
            checked.append((position, _batch_request(item)))
        except InvalidValue as error:
            results[position] = _batch_error(
                item, error.code, error.message, error.field
            )

    kinds = _debit_kinds([r.debit for _, r in checked])
    todo = []
    for position, transfer_request in checked:
        # An unknown number goes on to the ledger, which rejects it as not found.
        kind = kinds.get(transfer_request.debit)
        if kind in HELD_KINDS:
            results[position] = _batch_error(
                body.items[position], "pin_required", str(BATCH_HELD_DEBIT), "from"
            )
        elif kind is not None and kind not in DEBIT_WITHOUT_PIN:
            results[position] = _batch_error(
                body.items[position], "debit_not_allowed", str(CITY_DEBIT), "from"
            )
        else:
            todo.append((position, transfer_request))

    done = services.submit_batch([r for _, r in todo], actor=actor_of(request))
    loaded = Transfer.objects.select_related(*TRANSFER_RELATED).in_bulk(
        [r.transfer.pk for r in done if r.transfer is not None]
    )
    for (position, transfer_request), result in zip(todo, done, strict=True):
        results[position] = _batch_result(
            body.items[position], transfer_request, result, loaded
        )
    return Status(200, {"results": results})


def _debit_kinds(numbers: list[str]) -> dict[str, str]:
    """Return the kind of each existing account; the ledger rejects the others."""
    rows = Account.objects.filter(number__in=set(numbers)).values_list("number", "kind")
    return dict(rows)


def _batch_result(
    item: BatchItemIn,
    transfer_request: TransferRequest,
    result: services.BatchResult,
    loaded: dict[int, Transfer],
) -> dict[str, Any]:
    if result.error is not None:
        field = {"debit": "from", "credit": "to"}.get(
            result.error.field, result.error.field
        )
        return _batch_error(item, result.error.code, result.error.message, field)
    assert result.transfer is not None
    return {
        "id": transfer_request.id,
        "ok": True,
        "transfer": transfer_out(loaded[result.transfer.pk], OTHERS),
        "error": None,
    }
