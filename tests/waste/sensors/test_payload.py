"""Checking one sensor message: accepted forms, reason codes, random input."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kotacerdas.waste.sensors_payload import (
    MAX_MESSAGE_BYTES,
    SensorPayloadError,
    decode_message,
    parse_reading,
)

NOW = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
AT = "2025-03-01T08:00:00+07:00"


def test_full_reading_parsed():
    reading = parse_reading(
        {
            "fillingLevel": 0.8234,
            "temperature": 31.26,
            "batteryLevel": 0.5,
            "status": "lidOpen",
            "dateObserved": AT,
            "gatewayRssi": -71,
        },
        NOW,
    )

    assert reading.fill_level == Decimal("0.823")
    assert reading.temperature_c == Decimal("31.3")
    assert reading.battery == Decimal("0.500")
    assert reading.status == "lidOpen"
    assert reading.observed_at == datetime(2025, 3, 1, 1, 0, tzinfo=UTC)


def test_minimal_reading_parsed():
    reading = parse_reading(
        {"fillingLevel": 1, "dateObserved": "2025-03-01T00:59Z"}, NOW
    )

    assert reading.fill_level == Decimal("1.000")
    assert reading.temperature_c is None
    assert reading.battery is None
    assert reading.status is None


def test_unknown_battery_stored_as_none():
    reading = parse_reading(
        {"fillingLevel": 0.1, "batteryLevel": -1, "dateObserved": AT}, NOW
    )

    assert reading.battery is None


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ([0.5], "not_object", None),
        ("0.5", "not_object", None),
        ({"dateObserved": AT}, "fill_missing", "fillingLevel"),
        ({"fillingLevel": "0.5", "dateObserved": AT}, "fill_not_number", "fillingLevel"),
        ({"fillingLevel": True, "dateObserved": AT}, "fill_not_number", "fillingLevel"),
        ({"fillingLevel": float("nan"), "dateObserved": AT}, "fill_not_number", "fillingLevel"),
        ({"fillingLevel": float("inf"), "dateObserved": AT}, "fill_not_number", "fillingLevel"),
        ({"fillingLevel": 42, "dateObserved": AT}, "fill_out_of_range", "fillingLevel"),
        ({"fillingLevel": -0.01, "dateObserved": AT}, "fill_out_of_range", "fillingLevel"),
        ({"fillingLevel": 0.5, "temperature": 300, "dateObserved": AT}, "temperature_out_of_range", "temperature"),
        ({"fillingLevel": 0.5, "temperature": "hot", "dateObserved": AT}, "temperature_not_number", "temperature"),
        ({"fillingLevel": 0.5, "batteryLevel": 87, "dateObserved": AT}, "battery_out_of_range", "batteryLevel"),
        ({"fillingLevel": 0.5, "status": "full", "dateObserved": AT}, "status_unknown", "status"),
        ({"fillingLevel": 0.5}, "date_missing", "dateObserved"),
        ({"fillingLevel": 0.5, "dateObserved": 1740790800}, "date_invalid", "dateObserved"),
        ({"fillingLevel": 0.5, "dateObserved": "yesterday"}, "date_invalid", "dateObserved"),
        ({"fillingLevel": 0.5, "dateObserved": "2025-03-01T08:00:00"}, "date_no_zone", "dateObserved"),
        ({"fillingLevel": 0.5, "dateObserved": "2025-03-01T09:00:00+07:00"}, "date_in_future", "dateObserved"),
        ({"fillingLevel": 0.5, "dateObserved": "1970-01-01T00:00:00Z"}, "date_too_old", "dateObserved"),
    ],
)  # fmt: skip
def test_bad_reading_rejected_with_code(payload, code, field):
    with pytest.raises(SensorPayloadError) as caught:
        parse_reading(payload, NOW)

    assert caught.value.code == code
    assert caught.value.field == field
    assert caught.value.message


def test_fill_error_names_fraction():
    with pytest.raises(
        SensorPayloadError, match=r"fraction from 0 to 1 \(0.42, not 42\)"
    ):
        parse_reading({"fillingLevel": 42, "dateObserved": AT}, NOW)


def test_clock_skew_of_minutes_accepted():
    ahead = (NOW + timedelta(minutes=4)).isoformat()

    reading = parse_reading({"fillingLevel": 0.3, "dateObserved": ahead}, NOW)

    assert reading.observed_at == NOW + timedelta(minutes=4)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xff\xfe", "not_json"),
        (b"{fillingLevel: 0.5}", "not_json"),
        (b"", "not_json"),
        (b" " * (MAX_MESSAGE_BYTES + 1), "too_large"),
    ],
)
def test_garbage_bytes_rejected(raw, code):
    with pytest.raises(SensorPayloadError) as caught:
        decode_message(raw)

    assert caught.value.code == code


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = {
    "fillingLevel": st.floats(allow_nan=True)
    | st.integers()
    | st.text(max_size=5)
    | st.none(),
    "temperature": st.floats() | st.integers(-1000, 1000) | st.none(),
    "batteryLevel": st.floats() | st.integers(-2, 2) | st.none(),
    "status": st.sampled_from(["ok", "burning", "full", "", None]),
    "dateObserved": st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.text(max_size=30)
    | st.none(),
}
near_valid = st.fixed_dictionaries({}, optional=field_values)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, near_valid))
def test_random_payload_parsed_or_rejected(payload):
    try:
        reading = parse_reading(payload, NOW)
    except SensorPayloadError as error:
        assert error.code
        assert error.message
        return

    assert Decimal(0) <= reading.fill_level <= Decimal(1)
    assert reading.observed_at <= NOW + timedelta(minutes=5)
    assert reading.observed_at.utcoffset() is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_random_bytes_decoded_or_rejected(raw):
    try:
        decode_message(raw)
    except SensorPayloadError as error:
        assert error.code in {"not_json", "too_large"}
