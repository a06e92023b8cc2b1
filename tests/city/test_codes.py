import pytest

from kotacerdas.city.codes import InvalidAreaCode, compact_code, normalize_code


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("13.74.02.1006", "13.74.02.1006"),
        ("1374021006", "13.74.02.1006"),
        (" 1374021006 ", "13.74.02.1006"),
        ("137402", "13.74.02"),
        ("13.74", "13.74"),
        ("1374", "13.74"),
        ("13", "13"),
    ],
)
def test_normalize_code_accepts_both_forms(given, expected):
    assert normalize_code(given) == expected


@pytest.mark.parametrize(
    "given",
    ["", "13.74.2.1006", "13740210060", "13.74.02.10O6", "13-74-02-1006", "١٣٧٤"],
)
def test_normalize_code_rejects_malformed(given):
    with pytest.raises(InvalidAreaCode) as raised:
        normalize_code(given)

    assert str(raised.value) == (
        f"area code {given!r} is invalid; write it dotted like 13.74.02.1006 "
        "or compact like 1374021006"
    )


def test_compact_code_strips_dots():
    assert compact_code("13.74.02.1006") == "1374021006"
    assert compact_code("1374021006") == "1374021006"
