"""`kotacerdas levy`: run the monthly waste levy billing and print collection."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.levy import billing, queries
from kotacerdas.levy.months import InvalidMonth, current_month, month_text, parse_month
from kotacerdas.levy.services import LevyError, ensure_tariffs


class Command(BaseCommand):
    help = "Bill the waste levy (retribusi persampahan) for a month, or print its collection."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        bill = verbs.add_parser(
            "bill",
            help="issue the month's bills to every payer not billed yet; "
            "running it again bills nobody twice",
        )
        bill.add_argument(
            "--month",
            default="",
            help="month to bill as YYYY-MM (default: the current month)",
        )
        report = verbs.add_parser(
            "report", help="print billed, collected and arrears per kelurahan"
        )
        report.add_argument(
            "--month",
            default="",
            help="month to report as YYYY-MM (default: the current month)",
        )
        verbs.add_parser(
            "tariffs",
            help="seed tariffs from the city profile and print those in force",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "tariffs":
            self.tariffs()
            return
        try:
            month = (
                parse_month(options["month"]) if options["month"] else current_month()
            )
        except InvalidMonth as error:
            raise CommandError(f"--month: {error.message}") from None
        if verb == "bill":
            self.bill(month_text(month))
        else:
            self.report(month_text(month))

    def bill(self, month: str) -> None:
        started = time.monotonic()
        last_print = [started]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last_print[0] >= 1.0 or done == total:
                last_print[0] = time.monotonic()
                self.stderr.write(f"checked {done} of {total} payers")

        try:
            run = billing.run_billing(month, actor="cli", progress=progress)
        except LevyError as error:
            raise CommandError(f"--{error.field}: {error.message}") from None
        self.stdout.write(
            f"billing {month} (run {run.pk}): "
            f"bills issued: {run.billed_count} (Rp{run.billed_amount}), "
            f"already billed: {run.already_billed_count}, "
            f"no PLN connection recorded: {run.no_va_count}, "
            f"no matching class: {run.no_class_count}, "
            f"exempt (class pays no levy): {run.exempt_count}, "
            f"houses without a household: {run.no_household_count}, "
            f"time: {time.monotonic() - started:.1f} s"
        )

    def report(self, month: str) -> None:
        report = queries.collection_report(parse_month(month))
        self.stdout.write(
            f"{'kelurahan':<24} {'bills':>7} {'billed':>13} {'collected':>13} "
            f"{'rate':>7} {'arrears':>13} {'in arrears':>10}"
        )
        for row in [*report.rows, report.total]:
            rate = "-" if row.rate_percent is None else f"{row.rate_percent}%"
            self.stdout.write(
                f"{row.name[:24]:<24} {row.bill_count:>7} {row.billed:>13} "
                f"{row.collected:>13} {rate:>7} {row.arrears:>13} "
                f"{row.payers_in_arrears:>10}"
            )

    def tariffs(self) -> None:
        created = ensure_tariffs()
        if created:
            self.stdout.write(f"seeded {len(created)} tariffs from the city profile")
        for tariff in queries.current_tariffs():
            self.stdout.write(
                f"{tariff.levy_class:<12} Rp{tariff.monthly_amount:>9} "
                f"from {tariff.valid_from:%Y-%m}"
            )
