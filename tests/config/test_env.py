"""Typed settings helpers read the environment and reject bad values by name."""

from pathlib import Path

import pytest

from kotacerdas.config.env import (
    SettingError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)


def test_unset_variables_use_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KC_TEST_VALUE", raising=False)

    assert env_str("KC_TEST_VALUE", "fallback") == "fallback"
    assert env_bool("KC_TEST_VALUE", True) is True
    assert env_int("KC_TEST_VALUE", 7) == 7
    assert env_float("KC_TEST_VALUE", 1.5) == 1.5
    assert env_list("KC_TEST_VALUE", ["a"]) == ["a"]
    assert env_path("KC_TEST_VALUE", Path("/x")) == Path("/x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("0", False),
        ("off", False),
    ],
)
def test_bool_accepts_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("KC_TEST_FLAG", raw)

    assert env_bool("KC_TEST_FLAG", not expected) is expected


def test_bool_rejects_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KC_TEST_FLAG", "maybe")

    with pytest.raises(SettingError) as raised:
        env_bool("KC_TEST_FLAG", False)

    assert str(raised.value) == "KC_TEST_FLAG='maybe' is invalid; use true or false."


def test_int_rejects_text_and_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KC_TEST_NUMBER", "five")
    with pytest.raises(SettingError) as not_number:
        env_int("KC_TEST_NUMBER", 1)

    monkeypatch.setenv("KC_TEST_NUMBER", "0")
    with pytest.raises(SettingError) as too_small:
        env_int("KC_TEST_NUMBER", 1, minimum=1)

    assert (
        str(not_number.value) == "KC_TEST_NUMBER='five' is invalid; use a whole number."
    )
    assert str(too_small.value) == "KC_TEST_NUMBER=0 is too small; use 1 or more."


def test_file_variant_reads_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    monkeypatch.setenv("KC_TEST_SECRET_FILE", str(secret))

    assert env_str("KC_TEST_SECRET", "") == "s3cret-value"


def test_missing_file_names_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KC_TEST_SECRET_FILE", str(tmp_path / "absent"))

    with pytest.raises(SettingError) as raised:
        env_str("KC_TEST_SECRET", "")

    assert str(raised.value).startswith(
        f"KC_TEST_SECRET_FILE={tmp_path / 'absent'} cannot be read"
    )


def test_list_splits_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KC_TEST_HOSTS", " a.example , b.example,, ")

    assert env_list("KC_TEST_HOSTS", []) == ["a.example", "b.example"]
