"""Matching bank statement rows to the ledger's top-ups and withdrawals."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from kotacerdas.reconciliation import statements
from kotacerdas.reconciliation.models import LineStatus, StatementImport, StatementLine
from kotacerdas.reconciliation.statement_csv import StatementRejected
from kotacerdas.reconciliation.statements import (
    MAX_STATEMENT_BYTES,
    import_statement,
    status_counts,
)
from kotacerdas.wallet import services as wallet

from .conftest import bank_top_up, new_id, statement_csv, submit

pytestmark = pytest.mark.django_db


def row(transfer_or_day, reference: str, credit: str = "", debit: str = "", **kw):
    """Write one statement row on the day of a transfer (or a given date)."""
    when = getattr(transfer_or_day, "created_at", None)
    local = timezone.localtime(when) if when else None
    day = local.strftime("%d/%m/%Y") if local else transfer_or_day
    clock = kw.get("clock", local.strftime("%H:%M:%S") if local else "")
    description = kw.get("description", "TRF VA")
    return ";".join([day, clock, description, reference, credit, debit])


def lines_by_row(statement: StatementImport) -> dict[int | None, StatementLine]:
    return {line.row_number: line for line in statement.lines.all()}


def test_matches_by_receipt_reference(alice):
    top_up = bank_top_up(alice, 50_000)

    outcome = import_statement(
        statement_csv(row(top_up, top_up.reference, "50.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[2]
    assert outcome.created
    assert line.status == LineStatus.MATCHED
    assert line.transfer == top_up
    assert line.message == "Matched by the transfer's receipt reference."


def test_matches_by_memo_and_transfer_id(alice, bob):
    by_memo = bank_top_up(alice, 20_000, memo="VA-000123")
    by_id = bank_top_up(bob, 30_000)

    outcome = import_statement(
        statement_csv(
            row(by_memo, "VA-000123", "20.000,00"),
            row(by_id, by_id.client_id, "30.000,00"),
        ),
        "jan.csv",
    )

    lines = lines_by_row(outcome.statement)
    assert lines[2].transfer == by_memo
    assert lines[2].message == "Matched by the transfer's reference note."
    assert lines[3].transfer == by_id
    assert lines[3].message == "Matched by the transfer id."
    assert status_counts(outcome.statement)[LineStatus.MATCHED] == 2


def test_reference_found_in_description(alice):
    top_up = bank_top_up(alice, 50_000)
    text = f"TRF KE KOTA CERDAS {top_up.reference.lower()}"

    outcome = import_statement(
        statement_csv(row(top_up, "", "50.000,00", description=text)), "jan.csv"
    )

    assert lines_by_row(outcome.statement)[2].transfer == top_up


def test_amount_and_date_give_probable_match(alice):
    top_up = bank_top_up(alice, 75_000)

    outcome = import_statement(
        statement_csv(row(top_up, "BANK-REF-999", "75.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[2]
    assert line.status == LineStatus.PROBABLE
    assert line.transfer == top_up
    assert top_up.reference in line.message


def test_statement_line_not_in_ledger(alice):
    top_up = bank_top_up(alice, 50_000)

    outcome = import_statement(
        statement_csv(
            row(top_up, top_up.reference, "50.000,00"),
            row(top_up, "PRQ-UNKNOWN", "12.345,00"),
        ),
        "jan.csv",
    )

    line = lines_by_row(outcome.statement)[3]
    assert line.status == LineStatus.NOT_IN_LEDGER
    assert line.transfer is None
    assert line.message == (
        "No bank top-up in the ledger has this reference, or this amount on this day."
    )


def test_ledger_top_up_not_in_statement(alice, bob):
    listed = bank_top_up(alice, 50_000)
    missing = bank_top_up(bob, 60_000)

    outcome = import_statement(
        statement_csv(row(listed, listed.reference, "50.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[None]
    assert line.status == LineStatus.NOT_IN_STATEMENT
    assert line.transfer == missing
    assert line.credit == 60_000
    assert "the statement has no line for it" in line.message


def test_top_up_outside_statement_days_ignored(alice, bob):
    listed = bank_top_up(alice, 50_000)
    bank_top_up(bob, 60_000)
    yesterday = (timezone.localdate() - timedelta(days=1)).strftime("%d/%m/%Y")

    outcome = import_statement(
        statement_csv(row(yesterday, listed.reference, "50.000,00", clock="10:00")),
        "dec.csv",
    )

    assert status_counts(outcome.statement)[LineStatus.NOT_IN_STATEMENT] == 0
    assert lines_by_row(outcome.statement)[2].status == LineStatus.MATCHED


def test_counter_top_up_not_expected_in_statement(alice):
    listed = bank_top_up(alice, 50_000)
    wallet.top_up(alice.number, 10_000, transfer_id=new_id("cash"), channel="counter")

    outcome = import_statement(
        statement_csv(row(listed, listed.reference, "50.000,00")), "jan.csv"
    )

    assert status_counts(outcome.statement)[LineStatus.NOT_IN_STATEMENT] == 0


def test_amount_differs_names_both_amounts(alice):
    top_up = bank_top_up(alice, 50_000)

    outcome = import_statement(
        statement_csv(row(top_up, top_up.reference, "55.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[2]
    assert line.status == LineStatus.AMOUNT_DIFFERS
    assert line.transfer == top_up
    assert line.message == (
        f"The ledger has Rp50,000 for {top_up.reference}, the statement Rp55,000."
    )
    assert status_counts(outcome.statement)[LineStatus.NOT_IN_STATEMENT] == 0


def test_same_transfer_twice_is_duplicate(alice):
    top_up = bank_top_up(alice, 50_000)

    outcome = import_statement(
        statement_csv(
            row(top_up, top_up.reference, "50.000,00"),
            row(top_up, top_up.reference, "50.000,00"),
        ),
        "jan.csv",
    )

    line = lines_by_row(outcome.statement)[3]
    assert line.status == LineStatus.DUPLICATE
    assert line.message == (
        f"{top_up.reference} was already matched by row 2 of the statement jan.csv."
    )


def test_reference_to_payment_is_wrong_kind(alice, shop):
    bank_top_up(alice, 50_000)
    payment = submit(alice, shop, 5_000, "payment", channel="qris")

    outcome = import_statement(
        statement_csv(row(payment, payment.reference, "5.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[2]
    assert line.status == LineStatus.NOT_IN_LEDGER
    assert line.transfer == payment
    assert line.message == (
        f"{payment.reference} is a payment (channel: QR payment), not a bank top-up."
    )


def test_debit_row_matches_withdrawal(alice, settlement):
    bank_top_up(alice, 50_000)
    withdrawal = submit(alice, settlement, 20_000, "withdrawal", channel="app")

    outcome = import_statement(
        statement_csv(
            row(withdrawal, withdrawal.reference, debit="20.000,00"),
            row(withdrawal, "BIAYA ADM", debit="6.500,00"),
        ),
        "jan.csv",
    )

    lines = lines_by_row(outcome.statement)
    assert lines[2].status == LineStatus.MATCHED
    assert lines[2].transfer == withdrawal
    assert lines[3].status == LineStatus.NOT_IN_LEDGER
    assert lines[3].message == "No withdrawal in the ledger has this reference."


def test_bad_rows_listed_with_numbers(alice):
    top_up = bank_top_up(alice, 50_000)

    outcome = import_statement(
        statement_csv(
            row(top_up, top_up.reference, "50.000,00"),
            row(top_up, "PRQ-2", "1.000,50"),
            "32/01/2025;10:00;TRF;PRQ-3;1.000;",
        ),
        "jan.csv",
    )

    lines = lines_by_row(outcome.statement)
    assert lines[3].status == LineStatus.ERROR
    assert lines[3].message == (
        "Kredit: 1.000,50 has a fraction of a rupiah. The wallet counts whole "
        "rupiah, so check this row with the bank."
    )
    assert lines[3].cells[3] == "PRQ-2"
    assert lines[4].status == LineStatus.ERROR
    assert lines[4].message.startswith("Tanggal: 32/01/2025 is not a date.")
    assert outcome.statement.row_count == 3
    assert sorted(n for n in lines if n is not None) == [2, 3, 4]


def test_same_file_twice_counts_once(alice):
    top_up = bank_top_up(alice, 50_000)
    data = statement_csv(row(top_up, top_up.reference, "50.000,00"))

    first = import_statement(data, "jan.csv")
    second = import_statement(data, "jan-copy.csv")

    assert not second.created
    assert second.statement == first.statement
    assert StatementImport.objects.count() == 1
    assert StatementLine.objects.count() == 1


def test_overlapping_statement_reports_duplicate(alice):
    top_up = bank_top_up(alice, 50_000)
    import_statement(statement_csv(row(top_up, top_up.reference, "50.000,00")), "a.csv")

    later = import_statement(
        statement_csv(row(top_up, top_up.reference, "50.000,00", description="x")),
        "b.csv",
    )

    line = lines_by_row(later.statement)[2]
    assert line.status == LineStatus.DUPLICATE
    assert "row 2 of the statement a.csv" in line.message
    assert StatementLine.objects.filter(transfer=top_up).count() == 2
    assert status_counts(later.statement)[LineStatus.NOT_IN_STATEMENT] == 0


def test_unreadable_file_stores_nothing(city):
    with pytest.raises(StatementRejected):
        import_statement(b"Tanggal;Jumlah\n31/01/2025;1.000\n", "bad.csv")

    assert not StatementImport.objects.exists()


def test_oversized_file_rejected(city):
    with pytest.raises(StatementRejected, match="larger than 5 MB"):
        import_statement(b"x" * (MAX_STATEMENT_BYTES + 1), "big.csv")


def test_matches_snap_payment_request_id(snap_top_up):
    transfer = snap_top_up

    outcome = import_statement(
        statement_csv(row(transfer, "PRQ-20250101-0001", "50.000,00")), "jan.csv"
    )

    line = lines_by_row(outcome.statement)[2]
    assert line.status == LineStatus.MATCHED
    assert line.transfer == transfer
    assert line.message == "Matched by the bank's payment request ID."


@pytest.fixture
def snap_top_up(city):
    """Credit a wallet through the SNAP virtual-account payment endpoint."""
    if not apps.is_installed("kotacerdas.snap"):
        pytest.skip("the SNAP app is not installed, so no payment request ids exist")
    from tests.snap.conftest import PAYMENT, Bank, payment_body, register

    from kotacerdas.snap import signatures
    from kotacerdas.wallet.models import AccountKind, Transfer

    key = signatures.new_private_key()
    bank = Bank(register(key, "hmac_sha512"), key)
    bank.login()
    account = wallet.open_account(AccountKind.CITIZEN)
    response = bank.send(PAYMENT, payment_body(account))
    assert response.json()["responseCode"] == "2002500", response.json()
    return Transfer.objects.get(credit_account=account)


def test_lookups_work_in_chunks(monkeypatch, alice, bob):
    monkeypatch.setattr(statements, "IN_CHUNK", 2)
    top_ups = [bank_top_up(alice if n % 2 else bob, 1_000 + n) for n in range(5)]

    outcome = import_statement(
        statement_csv(*(row(t, t.reference, str(t.amount)) for t in top_ups)),
        "jan.csv",
    )

    lines = lines_by_row(outcome.statement)
    assert [lines[n + 2].transfer for n in range(5)] == top_ups
    assert status_counts(outcome.statement)[LineStatus.MATCHED] == 5


def test_statement_command_prints_counts(tmp_path, alice, capsys):
    top_up = bank_top_up(alice, 50_000)
    path = tmp_path / "jan.csv"
    path.write_bytes(
        statement_csv(
            row(top_up, top_up.reference, "50.000,00"), row(top_up, "X", "1,5")
        )
    )

    call_command("reconcile", "statement", str(path))
    call_command("reconcile", "statement", str(path))

    output = capsys.readouterr().out
    assert "matched           1" in output
    assert "error             1" in output
    assert "already imported as statement" in output
    assert StatementImport.objects.count() == 1


def test_statement_command_rejects_bad_file(tmp_path, city):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Tanggal;Jumlah\n31/01/2025;1.000\n")

    with pytest.raises(CommandError, match="No header row was found"):
        call_command("reconcile", "statement", str(path))
    with pytest.raises(CommandError, match="failed to read"):
        call_command("reconcile", "statement", str(tmp_path / "missing.csv"))
