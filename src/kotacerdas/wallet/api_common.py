"""The wallet API's router and what its operations share.

The operations live in `api` (the caller's wallet, QR codes and merchants)
and in `api_services` (counters, staff views and service integrations). Both
add themselves to `router`. This module contains the permission check, the
conversion of the wallet's errors into replies, and the JSON of accounts and
transfers.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.wallet import display, flows, pins, qris
from kotacerdas.wallet.api_schemas import (
    HistoryQuery,
    InvalidValue,
    clean_filter,
    clean_moment,
    clean_page,
)
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    Transfer,
    TransferKind,
)
from kotacerdas.wallet.numbers import format_wallet_number
from kotacerdas.wallet.services import TransferRejected, TransferRequest

router = Router(auth=API_AUTH, by_alias=True)

USE_WALLET = "wallet.use_wallet"
RECEIVE_PAYMENTS = "wallet.receive_payments"
OPERATE_COUNTER = "wallet.operate_counter"
VIEW_ALL = "wallet.view_all_accounts"

# Accounts a person holds: debiting one needs that person's payment PIN.
HELD_KINDS = (AccountKind.CITIZEN, AccountKind.MERCHANT)
TRANSFER_RELATED = (
    "debit_account__member",
    "debit_account__holder",
    "credit_account__member",
    "credit_account__holder",
    "pending",
)

ERRORS = frozenset({401, 403, 404, 409, 422, 423})
Reply = Status[Any]

# Statuses of the services' rejections that are not 422: a conflict with the
# stored state, or an unknown reservation named in the path.
TRANSFER_STATUS = {
    "id_conflict": 409,
    "pending_not_pending": 409,
    "pending_not_found": 404,
    "pending_expired": 409,
}
PIN_STATUS = {"wrong_pin": 403, "pin_locked": 423, "no_pin": 409}


class Refusal(Exception):
    """An error reply to a request, raised inside a view."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_reply(status: int, code: str, message: str, field: str | None) -> Reply:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    return Status(status, error_body(code, message, field))


def replies(**fields: str) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """Turn the wallet's errors raised by a view into error replies.

    `fields` renames the services' field names ("credit", "debit", "memo", or
    a QR tag such as "54") to the names of this operation's request.
    """

    def decorate(view: Callable[..., Reply]) -> Callable[..., Reply]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Reply:
            try:
                return view(request, *args, **kwargs)
            except Refusal as error:
                return error_reply(error.status, error.code, error.message, error.field)
            except InvalidValue as error:
                return error_reply(422, error.code, error.message, error.field)
            except TransferRejected as error:
                status = TRANSFER_STATUS.get(error.code, 422)
                field = fields.get(error.field, error.field)
                return error_reply(status, error.code, error.message, field)
            except pins.PinError as error:
                status = PIN_STATUS.get(error.code, 422)
                return error_reply(
                    status, error.code, error.message, fields.get("pin", "pin")
                )
            except qris.QrisError as error:
                qr_field = fields.get(error.tag, fields.get("payload"))
                return error_reply(422, error.code, error.message, qr_field)

        return wrapper

    return decorate


def require(request: HttpRequest, permission: str, alternative: str = "") -> None:
    user = request.user
    if user.has_perm(permission) or (alternative and user.has_perm(alternative)):
        return
    if alternative:
        message = _(
            "Your role does not allow this (it needs the %(first)s or %(second)s permission)."
        ) % {"first": permission, "second": alternative}
    else:
        message = _(
            "Your role does not allow this (it needs the %(permission)s permission)."
        ) % {"permission": permission}
    raise Refusal(403, "forbidden", message)


def actor_of(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


# Output --------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The reader of a reply: their own account ids, and whether they see full names."""

    own_ids: frozenset[int] = frozenset()
    full_names: bool = False


STAFF = Viewer(full_names=True)
OTHERS = Viewer()


def _party(account: Account, viewer: Viewer) -> dict[str, str]:
    own = account.pk in viewer.own_ids
    name = (
        display.holder_name(account)
        if viewer.full_names or own
        else display.payee_name(account)
    )
    return {"number": account.number, "kind": account.kind, "name": name}


def transfer_out(transfer: Transfer, viewer: Viewer) -> dict[str, Any]:
    direction = None
    if transfer.debit_account_id in viewer.own_ids:
        direction = "out"
    elif transfer.credit_account_id in viewer.own_ids:
        direction = "in"
    return {
        "reference": transfer.reference,
        "id": transfer.client_id,
        "kind": transfer.kind,
        "channel": transfer.channel,
        "status": transfer.status,
        "phase": transfer.phase,
        "pending_id": transfer.pending.client_id if transfer.pending else None,
        "amount": transfer.amount,
        "from": _party(transfer.debit_account, viewer),
        "to": _party(transfer.credit_account, viewer),
        "direction": direction,
        "memo": transfer.memo,
        "created_at": transfer.created_at,
        "expires_at": transfer.expires_at,
        "entry_seq": transfer.entry_seq,
        "receipt_url": flows.receipt_url(transfer.reference),
    }


def transfer_reply(transfer: Transfer, viewer: Viewer, started: datetime) -> Reply:
    """Reply 201 for a transfer made by this request, 200 for a stored one."""
    loaded = Transfer.objects.select_related(*TRANSFER_RELATED).get(pk=transfer.pk)
    # NOTE: a wall clock stepped back during the request would make a new
    # transfer look stored; only the status code would be wrong.
    status = 201 if transfer.created_at >= started else 200
    return Status(status, transfer_out(loaded, viewer))


def account_out(account: Account, name: str) -> dict[str, Any]:
    return {
        "number": account.number,
        "number_display": format_wallet_number(account.number),
        "name": name,
        "kind": account.kind,
        "tier": account.tier,
        "status": account.status,
        "balance": account.balance,
        "available": account.available,
        "pending_out": account.debits_pending,
        "pending_in": account.credits_pending,
        "created_at": account.created_at,
    }


def transfer_page(
    transfers: QuerySet[Transfer], query: HistoryQuery, viewer: Viewer
) -> Reply:
    limit, offset = clean_page(query)
    kind = clean_filter(query.kind, "kind", TransferKind.values)
    since = clean_moment(query.since, "since")
    until = clean_moment(query.until, "until", end_of_day=True)
    if kind:
        transfers = transfers.filter(kind=kind)
    if since:
        transfers = transfers.filter(created_at__gte=since)
    if until:
        transfers = transfers.filter(created_at__lt=until)
    items = transfers.select_related(*TRANSFER_RELATED)[offset : offset + limit]
    return Status(
        200,
        {
            "count": transfers.count(),
            "limit": limit,
            "offset": offset,
            "items": [transfer_out(transfer, viewer) for transfer in items],
        },
    )


def check_pin_or_stored(
    user: Any, pin: str, request: TransferRequest
) -> Transfer | None:
    """Check a PIN before the payment's transaction, so a wrong try counts.

    On the retry of a transfer that went through, a failing PIN (it locked in
    between) gives back the stored transfer instead of the error.
    """
    try:
        pins.check_pin(user, pin)
    except pins.PinError:
        stored = Transfer.objects.filter(
            client_id=request.id, request_hash__in=request.known_hashes()
        ).first()
        if stored is None:
            raise
        return stored
    return None


def holder_of(account: Account | None, number: str, field: str) -> Any:
    """Return the user whose payment PIN authorises debiting an account."""
    if account is None:
        raise InvalidValue(
            field,
            _("No wallet has the number %(number)s. Check the number and try again.")
            % {"number": number},
            "account_not_found",
        )
    if account.holder is None:
        raise InvalidValue(
            field,
            _(
                "The wallet %(number)s has no holder with a payment PIN yet, so it cannot pay from here."
            )
            % {"number": number},
            "no_holder",
        )
    return account.holder


def account_with_holder(number: str) -> Account | None:
    return Account.objects.select_related("holder").filter(number=number).first()
