"""`kotacerdas pii-scan PATHS`: look for personal data in logs and the journal."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.ops.pii_scan import Scanner, journal_findings, registry_names

# Enough findings to show the pattern without flooding the terminal.
MAX_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Scan log files (and every file under directories) for NIK/KK-like "
        "numbers, Indonesian mobile numbers and, with --registry, the names of "
        "registry members. Exits with status 1 when anything is found; findings "
        "are printed masked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, help="files or directories")
        parser.add_argument(
            "--registry",
            action="store_true",
            help="also look for the full names of the members in the registry",
        )
        parser.add_argument(
            "--journal",
            action="store_true",
            help="also scan the body of every journal entry in the database",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[Path] = options["paths"]
        if not paths and not options["journal"]:
            raise CommandError(
                "nothing to scan: give file or directory paths, or --journal"
            )
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"path not found: {', '.join(missing)}")

        names = registry_names() if options["registry"] else []
        scanner = Scanner(names)
        findings = list(scanner.scan_paths(paths))
        if options["journal"]:
            findings.extend(journal_findings(scanner))

        for finding in findings[:MAX_SHOWN]:
            self.stdout.write(str(finding))
        if len(findings) > MAX_SHOWN:
            self.stdout.write(f"... and {len(findings) - MAX_SHOWN} more")
        summary = (
            f"{len(findings)} finding(s) in {len(paths)} path(s)"
            f"{' and the journal' if options['journal'] else ''}, "
            f"checked against {len(names)} registry name(s)"
        )
        if findings:
            raise CommandError(summary)
        self.stdout.write(f"No personal data found: {summary}.")
