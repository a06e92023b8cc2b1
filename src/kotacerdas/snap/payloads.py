"""Reading SNAP virtual-account request bodies, and redacting them for the log.

Field rules follow the SNAP virtual-account specification (services 24 and
25). `partnerServiceId` is 8 characters and `customerNo` up to 20 digits.
`virtualAccountNo` is the two joined (at most 28), and request ids have up to
128 characters. An amount is `{"value": "50000.00", "currency": "IDR"}` with
exactly two decimals. A missing mandatory field gets case 02 and a malformed
one case 01, each naming the field.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from kotacerdas.snap import codes

AMOUNT_VALUE = re.compile(r"^\d{1,16}\.\d{2}$")
CURRENCY = "IDR"
REDACTED = "[redacted]"
# Fields kept in the request log. Anything else (names, e-mail, phone, source
# account, free texts, bill details, additionalInfo) may hold personal data
# and is replaced by REDACTED.
LOGGED_FIELDS = frozenset(
    {
        "partnerServiceId",
        "customerNo",
        "virtualAccountNo",
        "inquiryRequestId",
        "paymentRequestId",
        "trxId",
        "amount",
        "paidAmount",
        "totalAmount",
        "cumulativePaymentAmount",
        "trxDateInit",
        "trxDateTime",
        "referenceNo",
        "journalNum",
        "paymentType",
        "flagAdvise",
        "channelCode",
        "sourceBankCode",
        "subCompany",
        "paidBills",
        "language",
        "grantType",
    }
)


@dataclass(frozen=True)
class VirtualAccount:
    """The account part every VA request carries."""

    partner_service_id: str
    customer_no: str
    virtual_account_no: str


@dataclass(frozen=True)
class Inquiry:
    account: VirtualAccount
    inquiry_request_id: str
    amount: dict[str, str] | None


@dataclass(frozen=True)
class Payment:
    account: VirtualAccount
    payment_request_id: str
    paid_amount: dict[str, str]
    total_amount: Any
    trx_date_time: Any
    reference_no: Any
    flag_advise: str


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    # RecursionError: arrays or objects nested thousands deep.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise codes.bad_request() from None
    if not isinstance(data, dict):
        raise codes.bad_request()
    return data


def redact(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if key in LOGGED_FIELDS else REDACTED for key, value in data.items()
    }


def _present(data: dict[str, Any], name: str) -> bool:
    return data.get(name) not in (None, "")


def _required_string(
    data: dict[str, Any], name: str, max_length: int, path: str = ""
) -> str:
    label = path + name
    if not _present(data, name):
        raise codes.missing_field(label)
    value = data[name]
    if not isinstance(value, str) or len(value) > max_length:
        raise codes.invalid_format(label)
    return value


def _virtual_account(data: dict[str, Any]) -> VirtualAccount:
    service_id = _required_string(data, "partnerServiceId", 8)
    customer_no = _required_string(data, "customerNo", 20)
    va_number = _required_string(data, "virtualAccountNo", 28)
    if len(service_id) != 8:
        raise codes.invalid_format("partnerServiceId")
    if not customer_no.isascii() or not customer_no.isdigit():
        raise codes.invalid_format("customerNo")
    if va_number != service_id + customer_no:
        raise codes.invalid_format("virtualAccountNo")
    return VirtualAccount(service_id, customer_no, va_number)


def _amount(
    data: dict[str, Any], name: str, *, required: bool
) -> dict[str, str] | None:
    if not _present(data, name):
        if required:
            raise codes.missing_field(name)
        return None
    amount = data[name]
    if not isinstance(amount, dict):
        raise codes.invalid_format(name)
    value = _required_string(amount, "value", 19, path=f"{name}.")
    currency = _required_string(amount, "currency", 3, path=f"{name}.")
    if not AMOUNT_VALUE.match(value):
        raise codes.invalid_format(f"{name}.value")
    if currency != CURRENCY:
        raise codes.invalid_format(f"{name}.currency")
    return {"value": value, "currency": currency}


def parse_inquiry(data: dict[str, Any]) -> Inquiry:
    account = _virtual_account(data)
    request_id = _required_string(data, "inquiryRequestId", 128)
    return Inquiry(account, request_id, _amount(data, "amount", required=False))


def parse_payment(data: dict[str, Any]) -> Payment:
    account = _virtual_account(data)
    request_id = _required_string(data, "paymentRequestId", 128)
    paid = _amount(data, "paidAmount", required=True)
    assert paid is not None
    flag_advise = data.get("flagAdvise") or "N"
    if flag_advise not in ("Y", "N"):
        raise codes.invalid_format("flagAdvise")
    for name, max_length in (("virtualAccountName", 255), ("trxDateTime", 25)):
        value = data.get(name)
        if value is not None and (
            not isinstance(value, str) or len(value) > max_length
        ):
            raise codes.invalid_format(name)
    return Payment(
        account=account,
        payment_request_id=request_id,
        paid_amount=paid,
        total_amount=data.get("totalAmount"),
        trx_date_time=data.get("trxDateTime"),
        reference_no=data.get("referenceNo"),
        flag_advise=flag_advise,
    )


def whole_rupiah(amount: dict[str, str]) -> int | None:
    """Return the amount in rupiah, or None if it has sen or is not positive."""
    whole, _separator, cents = amount["value"].partition(".")
    if cents != "00" or int(whole) <= 0:
        return None
    return int(whole)


def format_rupiah(amount: int) -> dict[str, str]:
    return {"value": f"{amount}.00", "currency": CURRENCY}
