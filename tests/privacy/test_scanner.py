"""The personal-data scanner behind `kotacerdas pii-scan` and the session check."""

import hashlib
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.ops.pii_scan import Scanner

from .conftest import HEAD_NAME

sixteen_digits = st.text(alphabet="0123456789", min_size=16, max_size=16)
words = st.text(alphabet="abcdefghij ", max_size=30)


def kinds(line: str, names: tuple[str, ...] = ()) -> list[str]:
    return [finding.kind for finding in Scanner(names).scan_line(line, "test", 1)]


@given(number=sixteen_digits, before=words, after=words)
def test_sixteen_digits_always_found(number, before, after):
    assert kinds(f"{before} {number} {after}") == ["NIK/KK-like number"]


@pytest.mark.parametrize(
    "written",
    [
        "1374024708950001",
        "1374 0247 0895 0001",
        "137402-470895-0001",
        "13.74.02.470895.0001",
    ],
)
def test_grouped_nik_forms_found(written):
    assert kinds(f"member {written} saved") == ["NIK/KK-like number"]


@given(data=st.binary(min_size=1, max_size=64))
def test_hex_hashes_not_flagged(data):
    assert kinds(f"details_hash={hashlib.sha256(data).hexdigest()}") == []


@given(value=st.uuids())
def test_uuids_not_flagged(value: uuid.UUID):
    assert kinds(f"transfer {value} posted") == []


def test_nik_after_other_keys_found():
    assert kinds('{"nik": "1374024708950001"}') == ["NIK/KK-like number"]
    assert kinds("member 1374024708950001") == ["NIK/KK-like number"]


@pytest.mark.parametrize(
    "phone", ["081234567890", "+6281234567890", "+62 812-3456-7890", "6281234567890"]
)
def test_mobile_numbers_found(phone):
    assert kinds(f"sms to {phone} failed") == ["phone number"]


@pytest.mark.parametrize(
    "line",
    [
        "2026-08-12 14:04:24,123 INFO kotacerdas.wallet posted 12000",
        "amount 100000 rupiah, seq 8123456",
        "plate PPB-0812-3456 installed",
        "time 1796480843578468",
        '{"sealed_at": 1796480843578468}',
    ],
)
def test_ordinary_log_lines_pass(line):
    assert kinds(line) == []


def test_registry_names_found_in_any_case():
    assert kinds(f"paid by {HEAD_NAME.upper()} today", (HEAD_NAME,)) == [
        "registry name"
    ]
    assert kinds("paid by Siti today", (HEAD_NAME,)) == []


def test_finding_masks_the_value():
    finding = Scanner().scan_line("nik 1374024708950001", "app.log", 7)[0]

    assert str(finding) == "app.log:7: NIK/KK-like number: 13**************"


def test_command_reports_findings_masked(tmp_path):
    (tmp_path / "clean.log").write_text("started worker 3\n")
    (tmp_path / "leak.log").write_text("ok\ncalled 081234567890\n")
    output = io.StringIO()

    with pytest.raises(CommandError, match="1 finding"):
        call_command("pii_scan", str(tmp_path), stdout=output)

    assert "leak.log:2: phone number: 08**********" in output.getvalue()
    assert "081234567890" not in output.getvalue()


def test_command_passes_clean_files(tmp_path):
    (tmp_path / "clean.log").write_text("started worker 3\n")
    output = io.StringIO()

    call_command("pii_scan", str(tmp_path / "clean.log"), stdout=output)

    assert "No personal data found" in output.getvalue()


def test_command_rejects_missing_path(tmp_path):
    with pytest.raises(CommandError, match="path not found"):
        call_command("pii_scan", str(tmp_path / "absent.log"))


def test_command_checks_registry_names(household, tmp_path):
    (tmp_path / "app.log").write_text(f"welcome {HEAD_NAME}\n")

    with pytest.raises(CommandError, match="1 finding"):
        call_command("pii_scan", str(tmp_path), "--registry", stdout=io.StringIO())


def test_command_scans_the_journal(household):
    output = io.StringIO()

    call_command("pii_scan", "--journal", "--registry", stdout=output)

    assert "No personal data found" in output.getvalue()
    assert "2 registry name(s)" in output.getvalue()
