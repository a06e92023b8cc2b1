"""The personal-data key: configured, created on first use, and rejected when wrong."""

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.registry import pii


@pytest.fixture
def configured_key(settings):
    def use(value: str) -> None:
        settings.KOTACERDAS_PII_KEY = value
        pii.clear_key_cache()

    yield use
    pii.clear_key_cache()


def test_a_configured_key_is_used_and_values_round_trip(configured_key):
    configured_key(base64.b64encode(os.urandom(32)).decode())
    sealed = pii.seal("1374024708950001", "member.nik")
    assert pii.open_sealed(sealed, "member.nik") == "1374024708950001"


def test_a_value_sealed_under_another_key_does_not_open(configured_key):
    configured_key(base64.b64encode(b"a" * 32).decode())
    sealed = pii.seal("1374024708950001", "member.nik")
    configured_key(base64.b64encode(b"b" * 32).decode())
    with pytest.raises(pii.PersonalDataKeyError, match="does not open"):
        pii.open_sealed(sealed, "member.nik")


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_setting_says_how_to_make_one(configured_key, value):
    configured_key(value)
    with pytest.raises(pii.PersonalDataKeyError, match="32 random bytes"):
        pii.seal("x", "member.nik")


def test_the_index_depends_on_the_kind_and_the_key(configured_key):
    configured_key(base64.b64encode(b"a" * 32).decode())
    first = pii.blind_index("1374024708950001", "nik")
    assert first != pii.blind_index("1374024708950001", "kk")
    configured_key(base64.b64encode(b"b" * 32).decode())
    assert first != pii.blind_index("1374024708950001", "nik")


@given(st.text(max_size=40))
def test_sealing_never_shows_the_plain_value(value):
    sealed = pii.seal(value, "member.nik")
    assert pii.open_sealed(sealed, "member.nik") == value
    if len(value.encode()) >= 4:
        assert value.encode() not in sealed
