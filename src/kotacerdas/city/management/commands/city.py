"""`kotacerdas city load PROFILE`: store a city profile and its areas."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.city.profiles import ProfileError, built_in_slugs
from kotacerdas.city.services import load_profile


class Command(BaseCommand):
    help = "Manage the city profile (the city, its kecamatan and kelurahan)."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        load = verbs.add_parser(
            "load",
            help="load a city profile; loading the same files again changes nothing",
        )
        load.add_argument(
            "profile",
            help=(
                "a built-in profile slug "
                f"({', '.join(built_in_slugs())}) or a directory with profile.toml"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_profile(options["profile"])
        except ProfileError as error:
            raise CommandError(str(error)) from error

        if result.changed:
            self.stdout.write(
                f"Loaded {result.city.name} ({result.city.code}) "
                f"with {result.area_count} areas."
            )
        else:
            self.stdout.write(
                f"{result.city.name} ({result.city.code}) is already loaded "
                "from these files; nothing changed."
            )
