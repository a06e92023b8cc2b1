"""`kotacerdas messages`: extract the Indonesian messages and compile them."""

import contextlib
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

PACKAGE_DIR = Path(settings.PACKAGE_DIR)
IGNORED = ["migrations/*", "static/*", "*/data/*"]


class Command(BaseCommand):
    help = (
        "Update locale/<language>/LC_MESSAGES/django.po from the source and "
        "templates, then compile every .po file to .mo."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--locale",
            action="append",
            default=None,
            help="language code to update; repeat for several (default: id)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        locales = options["locale"] or ["id"]

        # makemessages scans the current directory, and files outside an app's
        # own locale directory go to the first of LOCALE_PATHS.
        with contextlib.chdir(PACKAGE_DIR):
            call_command(
                "makemessages",
                locale=locales,
                ignore_patterns=IGNORED,
                no_obsolete=True,
                verbosity=options["verbosity"],
            )
            call_command("compilemessages", locale=locales, verbosity=0)

        for locale in locales:
            self.report(locale)

    def report(self, locale: str) -> None:
        path = PACKAGE_DIR / "locale" / locale / "LC_MESSAGES" / "django.po"
        catalog = polib.pofile(str(path))
        missing = len(catalog.untranslated_entries()) + len(catalog.fuzzy_entries())
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    f"{path}: {missing} messages are untranslated or fuzzy; "
                    "translate them and run this command again."
                )
            )
        else:
            self.stdout.write(f"{path}: all {len(catalog)} messages are translated.")
