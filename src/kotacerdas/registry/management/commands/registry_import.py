import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.accounts.models import User
from kotacerdas.registry.import_files import ZIP_MAGIC, FileRejected, detect_format
from kotacerdas.registry.importer import Outcome, Progress, process_file


class Command(BaseCommand):
    help = (
        "Import buildings and households from a CSV or XLSX file in the layout of "
        "the registry import template. Every row is checked first; without "
        "--only-valid nothing is imported while any row has an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .csv or .xlsx file")
        parser.add_argument(
            "--only-valid",
            action="store_true",
            help="import the valid rows even when other rows have errors",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report, but import nothing",
        )
        parser.add_argument(
            "--user",
            default="",
            help="username recorded as the actor in the journal; a kelurahan "
            "officer's file may hold only her kelurahan",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            with path.open("rb") as file:
                file_format = detect_format(path.name, file.read(len(ZIP_MAGIC)))
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        except FileRejected as rejected:
            raise CommandError(rejected.message) from None
        user = self._user(options["user"])
        scope = user.kelurahan if user else None

        with tempfile.TemporaryDirectory(prefix="kotacerdas-import-") as directory:
            kept = Path(directory) / "rows.jsonl"
            try:
                if options["dry_run"] or not options["only_valid"]:
                    self._check(path, file_format, scope, kept, options["dry_run"])
                    if options["dry_run"]:
                        return
                    if kept.exists():
                        path, file_format = kept, "rows"
                imported = process_file(
                    path,
                    file_format,
                    scope=scope,
                    write=True,
                    actor=user,
                    progress=self._progress("importing"),
                )
            except FileRejected as rejected:
                raise CommandError(rejected.message) from None
        if options["only_valid"]:
            self._report(imported)
        self.stdout.write(
            f"imported {imported.new_rows} rows: {imported.buildings_created} "
            f"buildings and {imported.households_created} households registered; "
            f"{imported.present_rows} rows already registered, "
            f"{imported.error_rows} rows with errors not imported"
        )

    def _check(
        self, path: Path, file_format: str, scope: Any, kept: Path, dry_run: bool
    ) -> None:
        """Check every row and report; raise CommandError when a row has an error."""
        checked = process_file(
            path,
            file_format,
            scope=scope,
            progress=self._progress("checking"),
            keep_rows_at=kept,
        )
        self._report(checked)
        if dry_run:
            self.stdout.write(f"{checked.new_rows} rows would be imported")
            if checked.error_rows:
                raise CommandError(f"{checked.error_rows} rows have errors")
        elif checked.error_rows:
            raise CommandError(
                f"{checked.error_rows} rows have errors, so nothing was "
                "imported; fix them, or import the others with --only-valid"
            )

    def _user(self, username: str) -> User | None:
        if not username:
            return None
        user = (
            User.objects.select_related("kelurahan").filter(username=username).first()
        )
        if user is None:
            raise CommandError(f"no user is named {username!r}")
        if not user.has_perm("registry.import_registry"):
            raise CommandError(f"user {username!r} may not import registry data")
        return user

    def _progress(self, step: str) -> Progress:
        def show(rows_done: int, rows_estimated: int | None) -> None:
            about = f" of about {rows_estimated:,}" if rows_estimated else ""
            self.stderr.write(f"{step}: {rows_done:,}{about} rows done")

        return show

    def _report(self, outcome: Outcome) -> None:
        self.stdout.write(f"read as {outcome.read_as}")
        if outcome.unknown_columns:
            columns = ", ".join(outcome.unknown_columns)
            self.stdout.write(f"ignored columns not in the template: {columns}")
        for problem in outcome.problems:
            self.stdout.write(
                f"row {problem.row}, column {problem.column}: "
                f"{problem.level}: {problem.message}"
            )
        if outcome.problems_omitted:
            self.stdout.write(f"... and {outcome.problems_omitted} more problems")
        self.stdout.write(
            f"{outcome.rows} rows: {outcome.error_rows} with errors, "
            f"{outcome.new_rows} to import, {outcome.present_rows} already registered"
        )
