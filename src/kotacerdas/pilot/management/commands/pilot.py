"""`kotacerdas pilot ...`: list, end and report pilots, and set service scopes.

- `pilot list`: every pilot with its dates, services and areas, then each
  service's scope;
- `pilot end SLUG`: end a pilot today, keeping its areas and records;
- `pilot scope SERVICE everywhere|pilot_areas`: set where a service runs;
- `pilot report SLUG [--check]`: a pilot's trial figures on the command line.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.pilot import services_api, switch
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Scope, Service
from kotacerdas.pilot.trial import TrialNotStarted
from kotacerdas.pilot.trial_report import build_trial_report, check


class Command(BaseCommand):
    help = (
        "list: print every pilot and each service's scope. end SLUG: end a"
        " pilot today. scope SERVICE SCOPE: set where a service runs"
        " (everywhere or pilot_areas). report SLUG: print a pilot's trial"
        " figures from the rollups; with --check, recompute them from the"
        " journal and exit with status 1 on a difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["list", "end", "scope", "report"], help="what to do"
        )
        parser.add_argument(
            "slug", nargs="?", help="the pilot's slug, or the service for scope"
        )
        parser.add_argument(
            "scope", nargs="?", choices=Scope.values, help="the scope, for scope"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="recompute the figures by folding the journal and compare",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
            return
        if not options["slug"]:
            raise CommandError(f"pilot {action} needs a pilot slug or a service")
        if action == "scope":
            self._scope(options["slug"], options["scope"])
            return
        pilot = Pilot.objects.filter(slug=options["slug"]).first()
        if pilot is None:
            raise CommandError(f"no pilot has the slug {options['slug']!r}")
        if action == "end":
            self._end(pilot)
            return
        self._report(pilot, options)

    def _list(self) -> None:
        for pilot in Pilot.objects.prefetch_related("areas").order_by("starts_on"):
            ended = " (ended)" if pilot.ended_at else ""
            areas = " ".join(
                services_api.area_key(area).rstrip("/") for area in pilot.areas.all()
            )
            self.stdout.write(
                f"{pilot.slug}\t{pilot.starts_on}..{pilot.ends_on}{ended}\t"
                f"{','.join(pilot.services)}\t{areas}"
            )
        for service in Service.values:
            self.stdout.write(f"scope\t{service}\t{switch.scope_of(service)}")

    def _end(self, pilot: Pilot) -> None:
        try:
            ended = services_api.end_pilot(pilot, actor=None)
        except services_api.PilotInvalid as invalid:
            raise CommandError(str(invalid)) from None
        self.stdout.write(f"Ended pilot {ended.slug}; its last day is {ended.ends_on}.")

    def _scope(self, service: str, scope: str | None) -> None:
        if scope is None:
            raise CommandError("pilot scope needs a scope: everywhere or pilot_areas")
        try:
            services_api.set_scope(service, scope, actor=None)
        except services_api.PilotInvalid as invalid:
            raise CommandError(str(invalid)) from None
        self.stdout.write(f"{service} now runs {scope}.")

    def _report(self, pilot: Pilot, options: dict[str, Any]) -> None:
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
