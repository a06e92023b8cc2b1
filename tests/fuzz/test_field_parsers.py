"""Hypothesis tests for the parsers of single values that arrive from outside.

The values are amounts, page numbers and dates of the wallet API, billing
months, wallet numbers, the position, weight and scan time of a pickup,
waste-bank weights and report coordinates. Each parser either returns a value
inside its documented range or raises its own error type with a message that
names the field. No other exception escapes.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kotacerdas.levy.months import InvalidMonth, month_text, parse_month
from kotacerdas.wallet import numbers
from kotacerdas.wallet.api_schemas import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    InvalidValue,
    PageQuery,
    clean_amount,
    clean_moment,
    clean_page,
)
from kotacerdas.wallet.services import MAX_AMOUNT
from kotacerdas.waste import pickups
from kotacerdas.waste.bank import services as bank_services
from kotacerdas.waste.pickups import (
    MAX_ACCURACY_M,
    MAX_VOLUME_L,
    MAX_WEIGHT_G,
    PickupInput,
)
from kotacerdas.waste.reports import services as report_services


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# Values a JSON body or a query string can carry, with long digit runs and
# numbers in the forms people type.
digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=5000)
typed_numbers = st.from_regex(
    r"\A\s?-?[0-9]{0,25}([.,][0-9]{0,8})?([eE][-+]?[0-9]{1,6})?\s?\Z"
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    digit_strings,
    typed_numbers,
)


def assert_names_field(error: InvalidValue, field: str) -> None:
    assert error.field == field
    assert str(error.message).strip()


# Wallet amounts ---------------------------------------------------------------


@given(json_scalars)
@example("9" * 5000)
@example("0" * 30 + "5000")
@example(1e300)
def test_amount_is_whole_rupiah_or_invalid(value: Any) -> None:
    try:
        amount = clean_amount(value)
    except InvalidValue as error:
        assert_names_field(error, "amount")
        return
    assert isinstance(amount, int)
    assert 0 < amount <= MAX_AMOUNT


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_amount_round_trips_as_text(amount: int) -> None:
    assert clean_amount(str(amount)) == amount
    assert clean_amount(str(amount).rjust(30, "0")) == amount
    assert clean_amount(amount) == amount


# Wallet pages and dates -------------------------------------------------------


@given(json_scalars, json_scalars)
@example("9" * 5000, None)
@example(None, str(2**63))
def test_page_is_in_range_or_invalid(limit: Any, offset: Any) -> None:
    try:
        page_size, start = clean_page(PageQuery(limit=limit, offset=offset))
    except InvalidValue as error:
        assert error.field in {"limit", "offset"}
        assert str(error.message).strip()
        return
    assert 1 <= page_size <= MAX_PAGE_SIZE
    assert 0 <= start <= MAX_OFFSET


@given(
    st.one_of(
        st.text(max_size=40),
        st.dates().map(str),
        st.datetimes().map(datetime.isoformat),
        st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    ),
    st.booleans(),
)
@example("9999-12-31", True)
@example("0001-01-01", False)
@example("0001-01-01T00:00:00", False)
@example("9999-12-31T23:59:59-12:00", False)
def test_moment_is_storable_or_invalid(text: str, end_of_day: bool) -> None:
    try:
        moment = clean_moment(text, "since", end_of_day=end_of_day)
    except InvalidValue as error:
        assert_names_field(error, "since")
        return
    if moment is None:
        assert not text.strip()
        return
    assert timezone.is_aware(moment)
    # The database compares in UTC, so the moment must convert without overflow.
    moment.astimezone(UTC)


# Billing months ---------------------------------------------------------------


@given(st.one_of(json_scalars, st.from_regex(r"\A\s?[0-9]{1,5}-[0-9]{1,3}\s?\Z")))
@example(2026.12)
@example(["2026-12"])
def test_month_is_first_day_or_invalid(value: Any) -> None:
    try:
        month = parse_month(value)
    except InvalidMonth as error:
        assert "YYYY-MM" in error.message or "2026-12" in error.message
        return
    assert month.day == 1
    assert month.year >= 2000


@given(st.dates(min_value=date(2000, 1, 1)))
def test_month_round_trips_as_text(day: date) -> None:
    month = parse_month(month_text(day))
    assert month == day.replace(day=1)
    assert parse_month(day) == month


# Wallet numbers ---------------------------------------------------------------


@given(st.text(max_size=30) | st.text(alphabet="0123456789 -", max_size=30))
@example("\u0660" * 12)
@example("8800 1234 5674")
def test_wallet_number_is_clean_or_invalid(text: str) -> None:
    try:
        number = numbers.clean_wallet_number(text)
    except numbers.InvalidWalletNumber as error:
        assert str(error).strip()
        return
    assert number.isascii()
    assert number.isdigit()
    assert numbers.clean_wallet_number(numbers.format_wallet_number(number)) == number


@settings(max_examples=50)
@given(st.data())
def test_new_wallet_number_round_trips(data: st.DataObject) -> None:
    number = numbers.new_wallet_number()
    assert numbers.clean_wallet_number(number) == number
    assert numbers.clean_wallet_number(numbers.format_wallet_number(number)) == number


# Pickup position, weight and scan time ------------------------------------------

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
coordinates = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    typed_numbers,
    st.text(max_size=20),
)


def pickup(**fields: Any) -> PickupInput:
    return PickupInput(
        client_id="fuzz-pickup-1", plate="X", outcome="collected", **fields
    )


@given(coordinates, coordinates, coordinates)
@example("1e999999", "0", None)
@example("-0", "180.0000001", "1e-999999")
def test_position_in_range_or_field_errors(lat: Any, lng: Any, accuracy: Any) -> None:
    errors: list[pickups.FieldError] = []

    clean_lat, clean_lng, accuracy_m = pickups._clean_position(
        pickup(scanned_at=NOW, lat=lat, lng=lng, accuracy_m=accuracy), errors
    )

    assert {error.field for error in errors} <= {"lat", "lng", "accuracy_m"}
    assert all(str(error.message).strip() for error in errors)
    if not errors and clean_lat is not None:
        assert clean_lng is not None
        assert Decimal(-90) <= clean_lat <= Decimal(90)
        assert Decimal(-180) <= clean_lng <= Decimal(180)
    if accuracy_m is not None:
        assert 0 <= accuracy_m <= MAX_ACCURACY_M


@given(coordinates, coordinates, st.sampled_from(["collected", "blocked"]))
@example("1e999999", None, "collected")
@example("0.0005", "1.5", "collected")
def test_amounts_in_range_or_field_errors(weight: Any, volume: Any, outcome: str):
    errors: list[pickups.FieldError] = []

    weight_g, volume_l = pickups._clean_amounts(
        pickup(scanned_at=NOW, weight_kg=weight, volume_l=volume), outcome, errors
    )

    assert {error.field for error in errors} <= {"weight_kg", "volume_l"}
    assert all(str(error.message).strip() for error in errors)
    if weight_g is not None:
        assert 0 < weight_g <= MAX_WEIGHT_G
    if volume_l is not None:
        assert 0 < volume_l <= MAX_VOLUME_L


@given(st.integers(min_value=1, max_value=MAX_WEIGHT_G))
def test_weight_round_trips_through_kilograms(grams: int) -> None:
    errors: list[pickups.FieldError] = []
    kilograms = str(Decimal(grams) / 1000)

    weight_g, _volume = pickups._clean_amounts(
        pickup(scanned_at=NOW, weight_kg=kilograms), "collected", errors
    )

    assert errors == []
    assert weight_g == grams


@given(
    st.one_of(
        st.text(max_size=40),
        st.datetimes().map(datetime.isoformat),
        st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
        ),
    )
)
@example("2026-02-30T10:00:00+07:00")
@example("2026-13-01T10:00:00Z")
def test_scan_time_is_recent_or_field_error(text: str) -> None:
    errors: list[pickups.FieldError] = []

    moment = pickups._clean_scanned_at(text, NOW, errors)

    assert {error.field for error in errors} <= {"scanned_at"}
    if not errors:
        assert timezone.is_aware(moment)
        assert NOW - timedelta(days=7) <= moment <= NOW + timedelta(minutes=10)


# Waste-bank weights and citizen report coordinates -------------------------------


@given(
    st.one_of(
        st.text(max_size=20),
        typed_numbers,
        digit_strings,
        st.from_regex(r"\A[0-9]{1,5}([.,][0-9]{1,4})?\Z"),
    ),
    st.sampled_from(["kg", "g"]),
)
@example("9" * 5000, "g")
@example("0" * 20 + "123", "g")
@example("\u0669" * 4, "g")
def test_bank_weight_is_grams_or_field_error(text: str, unit: str) -> None:
    try:
        grams = bank_services.parse_weight_g(text, unit)
    except bank_services.BankError as error:
        assert [problem.field for problem in error.errors] == ["weight"]
        return
    assert 0 < grams <= bank_services.MAX_WEIGHT_G


@given(st.integers(min_value=1, max_value=bank_services.MAX_WEIGHT_G))
def test_bank_weight_round_trips(grams: int) -> None:
    kilograms = str(Decimal(grams) / 1000).replace(".", ",")
    assert bank_services.parse_weight_g(kilograms, "kg") == grams
    assert bank_services.parse_weight_g(str(grams), "g") == grams
    assert bank_services.parse_weight_g(str(grams).rjust(20, "0"), "g") == grams


@given(coordinates, st.sampled_from([90, 180]))
@example("1e999999", 90)
@example("sNaN", 180)
def test_report_coordinate_in_range_or_message(value: Any, limit: int) -> None:
    number, message = report_services.parse_coordinate(value, limit)
    if number is None:
        assert message.strip()
        return
    assert message == ""
    assert -limit <= number <= limit
