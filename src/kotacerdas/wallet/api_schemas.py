"""Request and response shapes of the wallet's JSON API, and checks of request values.

Request fields take loosely typed JSON values and the `clean_*` functions
check them, so that a bad value gets a translated message naming its field
(pydantic's own messages are English only). Only a value of the wrong JSON
structure, such as a list where a number belongs, or an unknown field still
gets pydantic's message. Amounts are whole rupiah everywhere.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ConfigDict, Field

from kotacerdas.wallet.numbers import WALLET_LENGTH, InvalidWalletNumber
from kotacerdas.wallet.numbers import clean_wallet_number as _clean_number
from kotacerdas.wallet.services import CLIENT_ID, MAX_AMOUNT, MEMO_MAX

# A JSON scalar; bool comes first so that `true` is not read as the number 1.
Loose = bool | int | float | str | None

MAX_PAGE_SIZE = 200
# Databases take a 64-bit OFFSET; a bound far below it gives 422, not 500.
MAX_OFFSET = 1_000_000_000
DEFAULT_PAGE_SIZE = 50
# A reservation keeps the amount from the payer's use, so it may not wait
# longer than a week.
MAX_TIMEOUT_S = 7 * 24 * 3600
MAX_BATCH_ITEMS = 1000
PIN_DIGITS = 6


class InvalidValue(ValueError):
    """A request value is missing or malformed; the reply is a 422 naming `field`."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


# Responses ---------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class PartyOut(Schema):
    number: str
    kind: str = Field(description="citizen, merchant, revenue, waste_bank, ...")
    name: str = Field(
        description="Masked for another person's citizen wallet; in full for the "
        "caller's own account, for business and city accounts, and for staff."
    )


class TransferOut(Schema):
    reference: str = Field(description="Public receipt code, such as TRX-7F3K9Q2M4P.")
    id: str = Field(description="The client id the transfer was submitted with.")
    kind: str
    channel: str
    status: str = Field(description="posted, pending, voided or expired.")
    phase: str = Field(
        description="single; pending for a reservation; post or void for the step "
        "that resolved a reservation."
    )
    pending_id: str | None = Field(
        description="For a post or void: the client id of its reservation."
    )
    amount: int = Field(description="Whole rupiah.")
    from_: PartyOut = Field(alias="from")
    to: PartyOut
    direction: str | None = Field(
        None,
        description="In the caller's own lists: out when the caller's account paid, "
        "in when it received.",
    )
    memo: str
    created_at: datetime
    expires_at: datetime | None = Field(
        description="For a pending reservation: when it is voided automatically."
    )
    entry_seq: int | None = Field(description="Sequence number of its journal entry.")
    receipt_url: str


class TransferPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TransferOut]


class AccountOut(Schema):
    number: str
    number_display: str = Field(description="The number grouped in fours.")
    name: str
    kind: str
    tier: str = Field(description="unregistered or registered.")
    status: str = Field(description="active, frozen or closed.")
    balance: int = Field(description="Posted credits less posted debits, rupiah.")
    available: int = Field(description="The balance less pending debits, rupiah.")
    pending_out: int = Field(description="Debits reserved and not yet posted.")
    pending_in: int = Field(description="Credits reserved and not yet posted.")
    created_at: datetime


class AccountPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AccountOut]


class LimitsOut(Schema):
    balance_max: int
    monthly_in_max: int


class MonthOut(Schema):
    month: str = Field(description="The calendar month, YYYY-MM.")
    credits_in: int = Field(description="Credits taken in this month, rupiah.")
    credits_left: int | None = Field(
        description="What the monthly limit still allows; null without a limit."
    )


class WalletOut(AccountOut):
    limits: LimitsOut | None = Field(
        description="The e-money limits of the wallet's tier; null without limits."
    )
    month: MonthOut
    has_pin: bool = Field(description="False until a payment PIN is set.")
    step_up_amount: int = Field(
        description="Payments above this amount also need the account password."
    )


class PayeeOut(Schema):
    number: str
    number_display: str
    name: str = Field(description="Masked for a citizen; the business name otherwise.")
    kind: str = Field(description="citizen or merchant.")
    payable: bool = Field(
        description="Whether the caller can pay this wallet now (it is active, it "
        "is not the caller's own, and the city's wallet allows the payment)."
    )


class QrOut(Schema):
    merchant_name: str = Field(
        description="The account's name for our merchants; the name written in "
        "the code for other issuers."
    )
    merchant_number: str | None = Field(description="Our merchant's wallet number.")
    merchant_city: str
    amount: int | None = Field(description="Set by a dynamic code, whole rupiah.")
    dynamic: bool
    external: bool = Field(
        description="True when another issuer's code: this wallet cannot pay it."
    )
    payable: bool
    bill_number: str | None
    currency: str = Field(description="ISO 4217 numeric code; 360 is the rupiah.")
    nmid: str | None = Field(description="National merchant ID (QRIS template 51).")


class MerchantOut(Schema):
    account: AccountOut
    qr_payload: str = Field(
        description="The static QR code (no amount): print it at the till."
    )


class MerchantQrOut(Schema):
    payload: str
    dynamic: bool
    amount: int | None
    bill_number: str | None


class BatchResultOut(Schema):
    id: str | None
    ok: bool
    transfer: TransferOut | None
    error: ErrorDetail | None


class BatchOut(Schema):
    results: list[BatchResultOut]


# Requests ----------------------------------------------------------------------


class Body(Schema):
    model_config = ConfigDict(extra="forbid")


class TransferIn(Body):
    id: Loose = Field(None, description="Client id: a new one per transfer, a UUID.")
    to: Loose = Field(None, description="The wallet number to pay.")
    amount: Loose = Field(None, description="Whole rupiah.")
    kind: Loose = Field(
        None, description="transfer (to a citizen) or payment (to a merchant)."
    )
    memo: Loose = Field("", description="A short note without personal data.")
    pin: Loose = Field(None, description="The caller's 6-digit payment PIN.")
    password: Loose = Field(
        None, description="The account password; needed above the step-up amount."
    )


class QrParseIn(Body):
    payload: Loose = Field(None, description="The text of a scanned QR code.")


class QrPayIn(Body):
    id: Loose = None
    payload: Loose = None
    amount: Loose = Field(
        None,
        description="Whole rupiah; needed for a static code, and must match a "
        "dynamic code's amount when sent.",
    )
    pin: Loose = None
    password: Loose = None


class MerchantQrIn(Body):
    amount: Loose = Field(None, description="Whole rupiah; without it, a static code.")
    bill_number: Loose = Field(None, description="Up to 25 characters.")


class CashInIn(Body):
    id: Loose = None
    wallet: Loose = Field(None, description="The citizen's wallet number.")
    amount: Loose = None


class CashOutIn(Body):
    id: Loose = None
    wallet: Loose = None
    amount: Loose = None
    pin: Loose = Field(None, description="The payment PIN of the wallet's holder.")


class ReservationIn(Body):
    id: Loose = None
    from_: Loose = Field(None, alias="from", description="The account paying.")
    to: Loose = None
    amount: Loose = None
    kind: Loose = None
    channel: Loose = Field("system", description="app, counter, bank_va, qris, ...")
    timeout_s: Loose = Field(
        None, description="Void automatically after this many seconds."
    )
    memo: Loose = ""
    pin: Loose = Field(
        None,
        description="The payment PIN of the paying account's holder, needed when "
        "it is a citizen or merchant account.",
    )


class ResolveIn(Body):
    id: Loose = Field(None, description="Client id of this post or void.")
    amount: Loose = Field(
        None, description="Post less than the reserved amount; default all of it."
    )


class VoidIn(Body):
    id: Loose = None


class BatchItemIn(Body):
    id: Loose = None
    from_: Loose = Field(None, alias="from")
    to: Loose = None
    amount: Loose = None
    kind: Loose = None
    channel: Loose = "system"
    memo: Loose = ""


class BatchIn(Body):
    items: list[BatchItemIn] = Field(default_factory=list, max_length=MAX_BATCH_ITEMS)


class PageQuery(Schema):
    limit: Loose = Field(
        DEFAULT_PAGE_SIZE, description=f"At most {MAX_PAGE_SIZE} items a page."
    )
    offset: Loose = 0


class HistoryQuery(PageQuery):
    kind: Loose = Field(None, description="Only transfers of this kind.")
    since: Loose = Field(
        None, description="ISO date or date-time; from the start of a date."
    )
    until: Loose = Field(
        None, description="ISO date or date-time; a date includes that whole day."
    )


class PaymentsQuery(HistoryQuery):
    bill_number: Loose = Field(None, description="Only payments of this bill.")


class AccountsQuery(PageQuery):
    kind: Loose = None
    tier: Loose = None
    status: Loose = None
    number: Loose = Field(
        None, description="Wallet numbers starting with these digits."
    )


class TransfersQuery(HistoryQuery):
    account: Loose = Field(None, description="Only transfers of this wallet number.")
    status: Loose = None


# Checks of request values --------------------------------------------------------


def _present(value: Any) -> bool:
    return value is not None and value != ""


def clean_client_id(value: Any, field: str = "id") -> str:
    if not _present(value):
        raise InvalidValue(
            field, _("The id is missing. Send a new id, such as a UUID, per request.")
        )
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise InvalidValue(
            field,
            _(
                "The transfer id must be 1 to 64 letters, digits or . _ : -, for example a UUID."
            ),
        )
    return value


def clean_wallet_number(value: Any, field: str) -> str:
    if not _present(value):
        raise InvalidValue(field, _("Enter a wallet number."))
    text = (
        str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    )
    if not isinstance(text, str):
        raise InvalidValue(field, _("A wallet number is 12 digits."))
    try:
        return _clean_number(text)
    except InvalidWalletNumber:
        pass
    digits = "".join(ch for ch in text if ch not in " .-")
    if digits.isdecimal() and len(digits) == WALLET_LENGTH:
        raise InvalidValue(
            field,
            _(
                "The wallet number %(number)s has a typo: its last digit does not match. Check the number and try again."
            )
            % {"number": digits},
        )
    raise InvalidValue(
        field,
        _("A wallet number is %(length)d digits. Check the number and try again.")
        % {"length": WALLET_LENGTH},
    )


def clean_amount(value: Any, field: str = "amount") -> int:
    """Return a whole number of rupiah above zero; a string of digits is accepted."""
    if not _present(value):
        raise InvalidValue(field, _("Enter the amount in whole rupiah."))
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif (
        isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal()
    ):
        # int() rejects more than 4,300 digits; any 20 digits are over the maximum.
        number = int(value.strip().lstrip("0")[:20] or "0")
    if number is None or number <= 0:
        raise InvalidValue(
            field, _("The amount must be a whole number of rupiah above zero.")
        )
    if number > MAX_AMOUNT:
        raise InvalidValue(
            field,
            _("The amount is too large: the maximum is Rp%(max)s.")
            % {"max": number_format(MAX_AMOUNT, force_grouping=True)},
        )
    return number


def clean_optional_amount(value: Any, field: str = "amount") -> int | None:
    return clean_amount(value, field) if _present(value) else None


def clean_choice(
    value: Any, field: str, choices: Sequence[str], *, default: str | None = None
) -> str:
    if not _present(value):
        if default is not None:
            return default
        raise InvalidValue(
            field,
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)},
        )
    if value not in choices:
        raise InvalidValue(
            field,
            _("%(value)s is not allowed here. Choose one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices)},
        )
    return str(value)


def clean_filter(value: Any, field: str, choices: Sequence[str]) -> str | None:
    """Return an optional filter value, which must be one of `choices`."""
    if not _present(value):
        return None
    return clean_choice(value, field, choices)


def clean_text(value: Any, field: str, max_chars: int = MEMO_MAX) -> str:
    if not _present(value):
        return ""
    if not isinstance(value, str):
        raise InvalidValue(field, _("Send this value as text."))
    if len(value) > max_chars:
        raise InvalidValue(
            field,
            _("This text may have at most %(max)d characters.") % {"max": max_chars},
        )
    return value


def clean_pin(value: Any, field: str = "pin") -> str:
    """Check a PIN's form only, so that a typo does not count as a wrong try."""
    if not _present(value):
        raise InvalidValue(field, _("Enter the 6-digit payment PIN."))
    if not (
        isinstance(value, str)
        and value.isascii()
        and value.isdecimal()
        and len(value) == PIN_DIGITS
    ):
        raise InvalidValue(
            field, _("The PIN must be exactly 6 digits, sent as text (a string).")
        )
    return value


def clean_password(value: Any) -> str | None:
    if not _present(value):
        return None
    if not isinstance(value, str):
        raise InvalidValue("password", _("Send the password as text (a string)."))
    return value


def clean_timeout(value: Any) -> int | None:
    if not _present(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue(
            "timeout_s", _("The timeout must be a whole number of seconds above zero.")
        )
    if value > MAX_TIMEOUT_S:
        raise InvalidValue(
            "timeout_s",
            _("The timeout may be at most %(max)d seconds (7 days).")
            % {"max": MAX_TIMEOUT_S},
        )
    return value


def clean_page(query: PageQuery) -> tuple[int, int]:
    limit = _whole(query.limit, "limit", DEFAULT_PAGE_SIZE)
    offset = _whole(query.offset, "offset", 0)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValue(
            "limit",
            _("The page size must be from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE},
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidValue(
            "offset",
            _("The offset must be from 0 to %(max)d.") % {"max": MAX_OFFSET},
        )
    return limit, offset


def _whole(value: Any, field: str, default: int) -> int:
    if not _present(value):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # int() refuses more than 4,300 digits; 18 digits always fit in 64 bits.
    if text.lstrip("-").isdecimal() and len(text) <= 18:
        return int(text)
    raise InvalidValue(field, _("Enter a whole number."))


def clean_moment(
    value: Any, field: str, *, end_of_day: bool = False
) -> datetime | None:
    """Read an ISO date or date-time; a date is the start of that day, or its end.

    A date-time without an offset is in the city's time zone.
    """
    if not _present(value):
        return None
    text = str(value).strip()
    moment: datetime | None = None
    try:
        # Try a plain date first, because parse_datetime also reads "2025-01-31"
        # (as midnight), which would lose the meaning of a date for `until`.
        day = parse_date(text)
        if day is not None:
            moment = datetime.combine(day, time.min)
            if end_of_day:
                moment += timedelta(days=1)
        else:
            moment = parse_datetime(text)
    except (ValueError, OverflowError):
        moment = None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        # The database compares in UTC, and a moment near year 1 or 9999 may
        # not convert.
        if moment is not None:
            moment.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None:
        raise InvalidValue(
            field,
            _("Enter a date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM."),
        )
    return moment
