"""NIK and KK validation (DOMAIN.md §2), including properties over generated numbers."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.registry.codes import InvalidCode, clean_kk, clean_nik, mask_number

PADANG_PANJANG_KECAMATAN = ("137401", "137402")
PADANG_PANJANG = st.sampled_from(PADANG_PANJANG_KECAMATAN)


@st.composite
def niks(draw, region=PADANG_PANJANG):
    """A format-valid NIK and the facts it encodes."""
    born = draw(st.dates(min_value=date(1931, 1, 1), max_value=date(2024, 12, 31)))
    female = draw(st.booleans())
    serial = draw(st.integers(min_value=1, max_value=9999))
    day = born.day + (40 if female else 0)
    digits = f"{draw(region)}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    return digits, born, "F" if female else "M"


@given(niks())
def test_a_valid_nik_gives_back_sex_and_birth_day(case):
    digits, born, sex = case
    info = clean_nik(digits)
    assert info.nik == digits
    assert info.sex == sex
    assert info.birth_date is not None
    assert (info.birth_date.day, info.birth_date.month) == (born.day, born.month)
    assert info.birth_date.year % 100 == born.year % 100
    assert info.region_known


@given(niks(), st.sampled_from([" ", ".", "-"]))
def test_separators_typed_in_a_nik_are_ignored(case, separator):
    digits, _born, _sex = case
    typed = separator.join([digits[:6], digits[6:12], digits[12:]])
    assert clean_nik(typed).nik == digits


@given(niks(region=st.sampled_from(["139901", "139802", "359901"])))
def test_an_unknown_regency_is_kept_with_a_warning_flag(case):
    digits, _born, _sex = case
    info = clean_nik(digits)
    assert info.nik == digits
    assert not info.region_known


@given(st.text(max_size=30))
def test_any_text_is_either_a_nik_or_a_named_error(text):
    try:
        info = clean_nik(text)
    except InvalidCode as error:
        assert error.field == "nik"
        assert error.message
    else:
        assert len(info.nik) == 16
        assert info.nik.isdigit()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("137402470895000", "16 digits"),
        ("1.37402E+15", "16 digits"),
        ("0074024708950001", "province"),
        ("1374023208950001", "birth date"),
        ("1374021313950001", "birth date"),
        ("1374023102950001", "real date"),
        ("1374024708950000", "0000"),
    ],
)
def test_malformed_niks_are_refused_with_the_reason(value, fragment):
    with pytest.raises(InvalidCode) as caught:
        clean_nik(value)
    assert fragment in caught.value.message


def test_a_two_digit_year_up_to_this_year_is_read_as_this_century():
    assert clean_nik("1374020512150002").birth_date == date(2015, 12, 5)
    assert clean_nik("1374020512450002").birth_date == date(1945, 12, 5)


def test_the_documented_example_nik():
    info = clean_nik("1374024708950001")
    assert (info.sex, info.birth_date) == ("F", date(1995, 8, 7))


@given(
    st.sampled_from(PADANG_PANJANG_KECAMATAN),
    st.dates(min_value=date(1971, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(min_value=1, max_value=9999),
)
def test_a_kk_with_a_real_issue_date_is_valid(region, issued, serial):
    digits = f"{region}{issued:%d%m%y}{serial:04d}"
    assert clean_kk(digits) == digits


@pytest.mark.parametrize(
    "value", ["1374024108950001", "137402010115000", "1374020101150000", "abc"]
)
def test_malformed_kk_numbers_are_refused(value):
    with pytest.raises(InvalidCode) as caught:
        clean_kk(value)
    assert caught.value.field == "kk_number"


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_masking_keeps_only_the_first_and_last_four_digits(digits):
    masked = mask_number(digits)
    assert masked == digits[:4] + "********" + digits[12:]
    assert digits[4:12] not in masked or digits[4:12] == "********"
