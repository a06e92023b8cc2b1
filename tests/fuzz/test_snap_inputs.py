"""Hypothesis tests for SNAP request bodies and headers, as a bank sends them.

Every malformed body or header must end in a SnapError, which the views turn
into a SNAP response code naming the field. No other exception may escape.
"""

import json
from datetime import datetime
from typing import Any

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kotacerdas.snap import payloads
from kotacerdas.snap.authentication import (
    _parse_timestamp,
    authenticate_token_request,
    authenticate_transaction,
)
from kotacerdas.snap.codes import SnapError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=20,
)
amounts = st.fixed_dictionaries(
    {
        "value": st.from_regex(r"\A[0-9]{1,16}\.[0-9]{2}\Z") | st.text(max_size=20),
        "currency": st.sampled_from(["IDR", "USD", ""]) | st.text(max_size=4),
    }
)
service_ids = st.from_regex(r"\A[ 0-9]{8}\Z") | st.text(max_size=10)
customer_numbers = st.from_regex(r"\A[0-9]{1,20}\Z") | st.text(max_size=22)


@st.composite
def va_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Return an inquiry or payment body, valid or close to valid."""
    service_id = draw(service_ids)
    customer_no = draw(customer_numbers)
    body: dict[str, Any] = {
        "partnerServiceId": service_id,
        "customerNo": customer_no,
        "virtualAccountNo": draw(
            st.just(service_id + customer_no) | st.text(max_size=30)
        ),
        "inquiryRequestId": draw(st.text(max_size=130)),
        "paymentRequestId": draw(st.text(max_size=130)),
        "amount": draw(amounts | json_values),
        "paidAmount": draw(amounts | json_values),
        "flagAdvise": draw(st.sampled_from(["Y", "N", "", "x"]) | json_values),
        "trxDateTime": draw(st.text(max_size=30) | json_values),
        "virtualAccountName": draw(st.text(max_size=30) | json_values),
    }
    dropped = draw(st.sets(st.sampled_from(sorted(body))))
    return {key: value for key, value in body.items() if key not in dropped}


def assert_names_a_field(error: SnapError) -> None:
    assert error.http_status in {400, 401, 404, 409}
    assert error.message.strip()


@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
@example(b"[" * 100_000)
@example(b'{"a": ' * 50_000)
@example(b"1" * 5000)
def test_body_is_object_or_bad_request(raw: bytes) -> None:
    try:
        data = payloads.parse_json_object(raw)
    except SnapError as error:
        assert error.http_status == 400
        assert error.message == "Bad Request"
        return
    assert isinstance(data, dict)


@given(va_bodies() | json_values.filter(lambda v: isinstance(v, dict)))
def test_inquiry_parsed_or_field_named(data: dict[str, Any]) -> None:
    try:
        inquiry = payloads.parse_inquiry(data)
    except SnapError as error:
        assert_names_a_field(error)
        assert error.message.startswith(
            ("Invalid Field Format ", "Invalid Mandatory Field ")
        )
        return
    account = inquiry.account
    assert (
        account.virtual_account_no == account.partner_service_id + account.customer_no
    )
    assert len(account.partner_service_id) == 8
    assert account.customer_no.isdigit()


@given(va_bodies() | json_values.filter(lambda v: isinstance(v, dict)))
def test_payment_parsed_or_field_named(data: dict[str, Any]) -> None:
    try:
        payment = payloads.parse_payment(data)
    except SnapError as error:
        assert_names_a_field(error)
        assert error.message.startswith(
            ("Invalid Field Format ", "Invalid Mandatory Field ")
        )
        return
    assert payment.flag_advise in {"Y", "N"}
    assert payment.paid_amount["currency"] == "IDR"
    amount = payloads.whole_rupiah(payment.paid_amount)
    assert amount is None or amount > 0


@given(st.integers(min_value=1, max_value=10**15))
def test_rupiah_amount_round_trips(amount: int) -> None:
    assert payloads.whole_rupiah(payloads.format_rupiah(amount)) == amount


@given(st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_redacted_body_keeps_only_logged_fields(data: dict[str, Any]) -> None:
    redacted = payloads.redact(data)
    assert set(redacted) == set(data)
    for key, value in redacted.items():
        assert value == (data[key] if key in payloads.LOGGED_FIELDS else "[redacted]")


timestamps = st.one_of(
    st.text(max_size=40),
    st.datetimes().map(datetime.isoformat),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
    ),
)


@given(timestamps)
@example("2026-02-30T10:00:00+07:00")
@example("2026-01-01T10:00:00.123456789+07:00")
@example("0001-01-01T00:00:00+14:00")
def test_timestamp_header_parsed_or_invalid(text: str) -> None:
    request = RequestFactory().post("/", headers={"X-TIMESTAMP": text})
    try:
        raw, moment = _parse_timestamp(request)
    except SnapError as error:
        assert error.message in {
            "Invalid Field Format X-TIMESTAMP",
            "Invalid Mandatory Field X-TIMESTAMP",
        }
        return
    assert raw == text.strip()
    assert moment.tzinfo is not None


header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60
)
transaction_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain"])
        | header_values,
        "X-TIMESTAMP": timestamps.filter(lambda t: t.isprintable() and t.isascii()),
        "X-SIGNATURE": header_values,
        "X-PARTNER-ID": header_values,
        "X-EXTERNAL-ID": st.from_regex(r"\A[0-9]{1,40}\Z") | header_values,
        "CHANNEL-ID": header_values,
        "X-CLIENT-KEY": header_values,
        "Authorization": header_values.map(lambda token: f"Bearer {token}"),
    },
)


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(headers=transaction_headers, body=st.binary(max_size=100))
def test_transaction_headers_rejected_with_snap_error(
    headers: dict[str, str], body: bytes
) -> None:
    request = RequestFactory().post(
        "/snap/v1.0/transfer-va/inquiry",
        body,
        content_type=headers.pop("Content-Type", ""),
        headers=headers,
    )
    with pytest.raises(SnapError) as raised:
        authenticate_transaction(request)
    assert raised.value.message.strip()


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(headers=transaction_headers)
def test_token_headers_rejected_with_snap_error(headers: dict[str, str]) -> None:
    request = RequestFactory().post(
        "/snap/v1.0/access-token/b2b",
        b"{}",
        content_type=headers.pop("Content-Type", ""),
        headers=headers,
    )
    with pytest.raises(SnapError) as raised:
        authenticate_token_request(request)
    assert raised.value.message.strip()
