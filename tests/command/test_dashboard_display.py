"""How the dashboard formats figures: rupiah, weights, rates and ages per language."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.command import display
from kotacerdas.command.views_dashboard import rotate_seconds


def grouped(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "Rp1.234.567"), ("en", "Rp1,234,567")],
)
def test_rupiah_grouped_per_language(language, expected):
    with translation.override(language):
        assert display.figure_value("rupiah", 1_234_567) == expected


@given(st.integers(min_value=0, max_value=10**15))
def test_rupiah_keeps_every_digit(amount):
    with translation.override("id"):
        text = display.figure_value("rupiah", amount)

    assert text == "Rp" + grouped(amount, ".")


@given(st.integers(min_value=0, max_value=10**12))
def test_count_grouped_in_english(value):
    with translation.override("en"):
        assert display.figure_value("count", value) == grouped(value, ",")


@pytest.mark.parametrize(
    ("grams", "english", "indonesian"),
    [
        (0, "0.0 kg", "0,0 kg"),
        (50, "0.1 kg", "0,1 kg"),
        (1_249, "1.2 kg", "1,2 kg"),
        (1_250, "1.3 kg", "1,3 kg"),
        (999_949, "999.9 kg", "999,9 kg"),
        (1_000_000, "1.00 t", "1,00 t"),
        (32_266_053, "32.27 t", "32,27 t"),
        (1_234_565_000, "1,234.57 t", "1.234,57 t"),
    ],
)
def test_grams_as_kilograms_or_tonnes(grams, english, indonesian):
    with translation.override("en"):
        assert display.grams(grams) == english
    with translation.override("id"):
        assert display.grams(grams) == indonesian


@given(st.integers(min_value=0, max_value=10**13))
def test_grams_round_half_up(grams):
    with translation.override("en"):
        text = display.grams(grams)

    if grams >= display.GRAMS_PER_TONNE:
        expected = (Decimal(grams) / 10**6).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert text == f"{expected:,} t"
    else:
        expected = (Decimal(grams) / 1000).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert text == f"{expected:,} kg"


@pytest.mark.parametrize(
    ("tenths", "english", "indonesian"),
    [(0, "0.0 %", "0,0 %"), (539, "53.9 %", "53,9 %"), (1000, "100.0 %", "100,0 %")],
)
def test_percent_from_tenths(tenths, english, indonesian):
    with translation.override("en"):
        assert display.figure_value("percent", tenths) == english
    with translation.override("id"):
        assert display.figure_value("percent", tenths) == indonesian


def test_missing_value_is_a_dash():
    for unit in ("count", "rupiah", "grams", "percent"):
        assert display.figure_value(unit, None) == "\u2013"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "0 s"),
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (86399, "23 h"),
        (86400, "1 d"),
        (10 * 86400, "10 d"),
    ],
)
def test_age_in_its_largest_unit(seconds, expected):
    with translation.override("en"):
        assert display.age(seconds) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 20),
        ("", 20),
        ("abc", 20),
        ("1", 2),
        ("2", 2),
        ("45", 45),
        ("600", 600),
        ("100000", 600),
        ("-3", 2),
    ],
)
def test_rotate_seconds_within_bounds(text, expected):
    assert rotate_seconds(text) == expected
