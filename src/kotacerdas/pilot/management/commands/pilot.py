"""`kotacerdas pilot report SLUG [--check]`: a pilot's trial figures on the command line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.trial import TrialNotStarted
from kotacerdas.pilot.trial_report import build_trial_report, check


class Command(BaseCommand):
    help = (
        "report SLUG: print a pilot's trial figures from the rollups; with"
        " --check, recompute them from the journal and exit with status 1 on a"
        " difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["report"], help="what to do")
        parser.add_argument("slug", help="the pilot's slug")
        parser.add_argument(
            "--check",
            action="store_true",
            help="recompute the figures by folding the journal and compare",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pilot = Pilot.objects.filter(slug=options["slug"]).first()
        if pilot is None:
            raise CommandError(f"no pilot has the slug {options['slug']!r}")
        try:
            report = build_trial_report(pilot)
        except TrialNotStarted:
            raise CommandError(
                f"pilot {pilot.slug} starts on {pilot.starts_on}; no figures yet"
            ) from None
        position = report.provenance.position
        self.stdout.write(f"Trial figures at journal entry {position - 1}:")
        for table in report.figures.tables:
            area = table.kelurahan_code or "all pilot areas"
            for row in table.rows:
                self.stdout.write(
                    f"{area}\t{row.metric}\tbaseline={row.baseline}"
                    f" ({row.baseline_source})\ttrial={row.trial}\tothers={row.others}"
                )
        if not options["check"]:
            return
        problems = check(report)
        for line in problems:
            self.stdout.write(line)
        if problems:
            raise CommandError(f"{len(problems)} figures differ from the journal")
        self.stdout.write("Every figure matches its recomputation from the journal.")
