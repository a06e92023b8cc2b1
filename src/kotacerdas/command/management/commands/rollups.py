"""`kotacerdas rollups`: the command center's rollups folded from the journal."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.command import figures, projector, recompute
from kotacerdas.journal.services import journal_size


class Command(BaseCommand):
    help = (
        "Show, update, rebuild or check the command center's rollups. "
        "check recomputes every figure from the journal and compares."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            choices=["status", "update", "rebuild", "check"],
            help=(
                "status: how far the rollups have folded; update: fold new entries; "
                "rebuild: drop the rollups and fold the whole journal again; "
                "check: recompute every figure from the journal and compare"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "update":
            read = projector.catch_up()
            self.stdout.write(f"Folded {read} entries.")
        elif action == "rebuild":
            read = projector.rebuild()
            self.stdout.write(f"Rebuilt the rollups from {read} entries.")
        elif action == "check":
            self._check()
            return
        self.stdout.write(
            f"Rollups hold {projector.position()} of {journal_size()} journal entries."
        )

    def _check(self) -> None:
        folded, size = recompute.recompute()
        stored = figures.StoredTallies()
        period = figures.Period.current()
        differ = []
        for definition in figures.FIGURES:
            kept = definition.compute(stored, period)
            again = definition.compute(folded, period)
            mark = "ok" if kept == again else "DIFFERS"
            self.stdout.write(f"{definition.key:28} {kept!s:>16} {again!s:>16}  {mark}")
            if kept != again:
                differ.append(definition.key)
        if differ:
            raise CommandError(
                f"{len(differ)} figures differ from the first {size} journal entries: "
                f"{', '.join(differ)}; run `kotacerdas rollups rebuild`"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"All {len(figures.FIGURES)} figures equal the first {size} journal entries."
            )
        )
