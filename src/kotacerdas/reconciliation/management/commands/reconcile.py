"""`kotacerdas reconcile`: the daily float check and bank statement imports."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kotacerdas.reconciliation import services, statements
from kotacerdas.reconciliation.models import LineStatus
from kotacerdas.reconciliation.statement_csv import StatementRejected


class Command(BaseCommand):
    help = "Reconcile the wallet ledger: the daily float check, bank statements."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        daily = verbs.add_parser(
            "daily", help="compute a day's report again (the worker does it hourly)"
        )
        daily.add_argument(
            "--date",
            default="",
            help="day to compute, as YYYY-MM-DD in the city's time zone; default today",
        )
        statement = verbs.add_parser(
            "statement", help="import a bank statement CSV and match it"
        )
        statement.add_argument("file", type=Path, help="the statement file (.csv)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "daily":
            self.daily(options["date"])
        else:
            self.statement(options["file"])

    def daily(self, text: str) -> None:
        try:
            day = date.fromisoformat(text) if text else timezone.localdate()
        except ValueError:
            raise CommandError(
                f"--date {text!r} is invalid; write the day as YYYY-MM-DD"
            ) from None
        try:
            report = services.compute_day(day)
        except services.ReconciliationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{day:%Y-%m-%d}: balances Rp{report.balances_total}, "
            f"float Rp{report.float_total}, difference Rp{report.difference}"
        )
        for row in report.accounts_off:
            self.stdout.write(
                f"  account {row['number']} ({row['kind']}): {row['field']} is "
                f"{row['stored']}, its transfers give {row['from_transfers']}"
            )
        if not report.ok:
            raise CommandError(
                "the ledger does not balance; run `kotacerdas ledger verify` to "
                "find the entry or account that no longer matches"
            )
        self.stdout.write("balanced")

    def statement(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"failed to read {path}: {error.strerror}") from error
        try:
            outcome = statements.import_statement(data, path.name)
        except StatementRejected as error:
            raise CommandError(f"{path}: {error.message}") from error
        statement = outcome.statement
        if not outcome.created:
            self.stdout.write(
                f"{path} was already imported as statement {statement.pk}; "
                "nothing was counted twice"
            )
        counts = statements.status_counts(statement)
        self.stdout.write(f"statement {statement.pk}: {statement.row_count} rows")
        for status in LineStatus:
            self.stdout.write(f"  {status.value:<17} {counts[status.value]}")
