"""The fee schedule and sharing rules: profile checks, dates and integer splits."""

import shutil
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.city.profiles import BUILT_IN_DIR, ProfileError, read_profile
from kotacerdas.city.services import load_profile
from kotacerdas.sharing import schedule, split
from kotacerdas.sharing.schedule import ScheduleError

MDR = {
    "code": "QRIS-UMI",
    "kind": "qr_mdr",
    "rate_bp": 30,
    "free_up_to": 500_000,
    "bearer": "merchant",
    "valid_from": date(2026, 11, 1),
}
RULE = {"valid_from": date(2026, 11, 1), "city_bp": 4000, "partner_bp": 6000}


def section(fees=(MDR,), sharing=(RULE,)):
    return schedule.read_section({"fees": list(fees), "sharing": list(sharing)})


def error_of(**changes) -> ScheduleError:
    fee = {**MDR, **changes}
    with pytest.raises(ScheduleError) as caught:
        section(fees=[{k: v for k, v in fee.items() if v is not None}])
    return caught.value


# Profile checks -----------------------------------------------------------------


def test_built_in_profile_has_schedule():
    profile = read_profile(BUILT_IN_DIR / "padang-panjang")

    fees = schedule.fees_of(profile.settings)
    rules = schedule.rules_of(profile.settings)
    assert {fee.kind for fee in fees} == set(schedule.FEE_KINDS)
    mdr = schedule.fee_on(fees, schedule.QR_MDR, date(2026, 12, 1))
    assert mdr is not None
    assert (mdr.rate_bp, mdr.free_up_to, mdr.bearer) == (30, 500_000, "merchant")
    assert [(r.city_bp, r.partner_bp, r.remainder_to) for r in rules] == [
        (4000, 6000, "city")
    ]


def test_schedule_is_stored_as_json():
    stored = section()

    assert stored["fees"][0]["valid_from"] == "2026-11-01"
    assert stored["sharing"][0] == {
        "valid_from": "2026-11-01",
        "city_bp": 4000,
        "partner_bp": 6000,
        "remainder_to": "city",
    }
    assert schedule.fees_of(stored)[0].valid_from == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"kind": "tip"}, "fees[0].kind", "use one of qr_mdr, topup"),
        ({"bearer": "payer"}, "fees[0].bearer", "use one of merchant"),
        ({"rate_bp": 10_001}, "fees[0].rate_bp", "from 0 to 10000"),
        ({"rate_bp": 0.3}, "fees[0].rate_bp", "whole number"),
        ({"rate_bp": None}, "fees[0].rate_bp", "whole number"),
        ({"amount": 500}, "fees[0].amount", "set rate_bp"),
        ({"valid_from": "1 Nov"}, "fees[0].valid_from", "such as 2026-11-01"),
        ({"code": " "}, "fees[0].code", "missing or empty"),
        ({"free_up_to": -1}, "fees[0].free_up_to", "from 0"),
        ({"percent": 3}, "fees[0].percent", "unknown field"),
    ],
)
def test_invalid_fee_names_field(changes, field, words):
    error = error_of(**changes)

    assert error.field == field
    assert words in str(error)


def test_flat_fee_rejects_rate():
    fee = {"code": "TOPUP", "kind": "topup", "bearer": "payer", "rate_bp": 10}
    with pytest.raises(ScheduleError) as caught:
        section(fees=[{**fee, "amount": 1000, "valid_from": "2026-11-01"}])

    assert caught.value.field == "fees[0].rate_bp"
    assert "set amount (rupiah)" in str(caught.value)


def test_shares_must_sum_to_whole():
    with pytest.raises(ScheduleError) as caught:
        section(sharing=[{**RULE, "partner_bp": 5000}])

    assert caught.value.field == "sharing[0].partner_bp"
    assert "must sum to 10000" in str(caught.value)


def test_fee_needs_rule_in_force():
    with pytest.raises(ScheduleError) as caught:
        section(sharing=[{**RULE, "valid_from": "2026-12-01"}])

    assert caught.value.field == "fees[0].valid_from"
    assert "no [[sharing]] rule is in force on 2026-11-01" in str(caught.value)


def test_duplicate_codes_and_dates_rejected():
    later = {**MDR, "valid_from": "2027-01-01"}
    with pytest.raises(ScheduleError) as same_code:
        section(fees=[MDR, later])
    with pytest.raises(ScheduleError) as same_day:
        section(fees=[MDR, {**MDR, "code": "QRIS-2"}])

    assert same_code.value.field == "fees[1].code"
    assert same_day.value.field == "fees[1].valid_from"


def test_invalid_profile_names_file_and_field(tmp_path):
    directory = tmp_path / "city"
    shutil.copytree(BUILT_IN_DIR / "padang-panjang", directory)
    toml = directory / "profile.toml"
    toml.write_text(toml.read_text().replace("rate_bp = 30", "rate_bp = -30"))

    with pytest.raises(ProfileError) as caught:
        read_profile(directory)

    assert "profile.toml: fees[0].rate_bp: must be from 0 to 10000" in str(caught.value)


# Dates --------------------------------------------------------------------------


def test_latest_entry_on_day_applies():
    later = {**MDR, "code": "QRIS-2027", "rate_bp": 40, "valid_from": "2027-01-01"}
    fees = schedule.fees_of(section(fees=[MDR, later]))

    assert schedule.fee_on(fees, "qr_mdr", date(2026, 10, 31)) is None
    assert schedule.fee_on(fees, "qr_mdr", date(2026, 11, 1)).code == "QRIS-UMI"
    assert schedule.fee_on(fees, "qr_mdr", date(2026, 12, 31)).code == "QRIS-UMI"
    assert schedule.fee_on(fees, "qr_mdr", date(2027, 1, 1)).code == "QRIS-2027"
    assert schedule.fee_on(fees, "topup", date(2027, 1, 1)) is None


def test_amendment_may_add_future_entries():
    stored = section()
    later_rule = {**RULE, "valid_from": "2026-12-06", "city_bp": 5000}
    new = section(sharing=[RULE, {**later_rule, "partner_bp": 5000}])

    schedule.check_amendment(stored, new, today=date(2026, 12, 5))


@pytest.mark.parametrize(
    ("fees", "sharing", "field"),
    [
        ([{**MDR, "rate_bp": 40}], [RULE], "fees[0].valid_from"),
        ([MDR], [RULE, {**RULE, "valid_from": "2026-12-05"}], "sharing[1].valid_from"),
        ([], [RULE], "fees"),
    ],
)
def test_amendment_of_past_rejected(fees, sharing, field):
    stored = section()
    new = section(fees=fees, sharing=sharing)

    with pytest.raises(ScheduleError) as caught:
        schedule.check_amendment(stored, new, today=date(2026, 12, 5))

    assert caught.value.field == field


def test_first_schedule_may_start_in_past():
    stored_before_schedules = {"wallet": {"mode": "emoney"}}

    schedule.check_amendment(stored_before_schedules, section(), date(2026, 12, 5))


def test_reload_changing_past_fee_rejected(db, tmp_path):
    directory = tmp_path / "city"
    shutil.copytree(BUILT_IN_DIR / "padang-panjang", directory)
    load_profile(directory)
    toml = directory / "profile.toml"
    toml.write_text(toml.read_text().replace("amount = 2500", "amount = 3000"))

    with pytest.raises(ProfileError) as caught:
        load_profile(directory)

    assert (
        "fees[2].valid_from: an entry dated 2026-11-01 would change days that "
        "already passed; date the new entry after today"
    ) in str(caught.value)


# Splits ---------------------------------------------------------------------------

rules = st.integers(min_value=0, max_value=10_000).flatmap(
    lambda city_bp: st.builds(
        schedule.SharingRule,
        valid_from=st.just(date(2026, 11, 1)),
        city_bp=st.just(city_bp),
        partner_bp=st.just(10_000 - city_bp),
        remainder_to=st.sampled_from(["city", "partner"]),
    )
)


@given(fee=st.integers(min_value=0, max_value=10**12), rule=rules)
def test_split_parts_sum_to_fee(fee, rule):
    parts = split.split_fee(fee, rule)

    assert parts.city_rupiah + parts.partner_rupiah == fee
    assert parts.city_rupiah >= 0
    assert parts.partner_rupiah >= 0
    if rule.remainder_to == "city":
        assert parts.partner_rupiah == fee * rule.partner_bp // 10_000
    else:
        assert parts.city_rupiah == fee * rule.city_bp // 10_000


@given(fee=st.integers(min_value=0, max_value=10**12), rule=rules)
def test_remainder_is_below_one_rupiah_share(fee, rule):
    parts = split.split_fee(fee, rule)

    # The exact share is fee * bp / 10000; the remainder party gets at most
    # one rupiah less than a whole rupiah above it.
    exact_city = fee * rule.city_bp
    if rule.remainder_to == "city":
        assert 0 <= parts.city_rupiah * 10_000 - exact_city < 10_000
    else:
        assert 0 <= exact_city - parts.city_rupiah * 10_000 < 10_000


def test_split_example_gives_city_remainder():
    rule = schedule.SharingRule(date(2026, 11, 1), 4000, 6000)

    assert split.split_fee(1_501, rule) == split.Split(1_501, 601, 900)
    assert split.split_fee(1, rule) == split.Split(1, 1, 0)


@given(payment=st.integers(min_value=1, max_value=10**12))
def test_rate_fee_rounds_down(payment):
    fee = schedule.Fee("Q", "qr_mdr", date(2026, 11, 1), "merchant", rate_bp=30)

    amount = split.fee_amount(fee, payment)

    assert amount * 10_000 <= payment * 30 < (amount + 1) * 10_000


def test_fee_free_up_to_threshold():
    fee = schedule.Fee(
        "Q", "qr_mdr", date(2026, 11, 1), "merchant", rate_bp=30, free_up_to=500_000
    )
    flat = schedule.Fee("T", "topup", date(2026, 11, 1), "payer", amount=1_000)

    assert split.fee_amount(fee, 500_000) == 0
    assert split.fee_amount(fee, 500_001) == 1_500
    assert split.fee_amount(flat, 1) == 1_000
