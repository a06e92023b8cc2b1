"""`kotacerdas demo`: fill an empty registry with the demo city of Padang Panjang."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.demo import services as demo
from kotacerdas.demo.generator import DEFAULT_SEED, SIZES, DemoError
from kotacerdas.journal.keys import create_signing_key


class Command(BaseCommand):
    help = (
        "Create the demo users and build a demo city of invented buildings, "
        "households and people into an empty registry; every row is journalled."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            choices=list(SIZES),
            default="city",
            help=(
                "small: about 400 people, for tests; city: the profile's population "
                "(63,895 for Padang Panjang); large: about 1,000,000, for benchmarks"
            ),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="the same seed builds the same people and buildings",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=demo.BATCH_BUILDINGS,
            help="buildings written per transaction",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "KOTACERDAS_PRODUCTION", False):
            raise CommandError(
                "The demo city is not built with the production settings: it "
                "creates sign-ins with a published password. Use the default "
                "settings on a test machine instead."
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more")
        if not demo.registry_is_empty():
            raise CommandError(
                "The registry already contains buildings, and the demo city is built "
                f"only into an empty registry: {demo.fresh_database_hint()}."
            )
        # The same set-up as `kotacerdas run`, so the worker can seal the
        # demo city's journal entries afterwards.
        create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
        call_command("city", "load", settings.KOTACERDAS_CITY)
        demo.create_demo_city()
        self.stdout.write(f"Building the demo city (size {options['size']}) ...")
        try:
            summary = demo.build_demo_registry(
                options["size"],
                options["seed"],
                batch_size=options["batch_size"],
                progress=self.show_progress,
            )
        except DemoError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(summary.result_line()))
        for line in demo.build_demo_activity(options["seed"], pilot=True):
            self.stdout.write(self.style.SUCCESS(line))

    def show_progress(self, summary: demo.DemoSummary) -> None:
        self.stdout.write(summary.progress_line())
        # Flushed so the progress shows in a log file while the build runs.
        self.stdout.flush()
