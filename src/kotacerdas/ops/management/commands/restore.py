"""`kotacerdas restore DIR`: check a backup and restore it into an empty database."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.ops.backup_database import Database, DatabaseBackupError
from kotacerdas.ops.backup_keys import BackupKeyError, read_passphrase
from kotacerdas.ops.restore import RestoreError, check_backup, restore_backup


class Command(BaseCommand):
    help = (
        "Check a backup made by `kotacerdas backup`, restore it into an empty "
        "database, put its keys at the configured key paths, and run "
        "`ledger verify` on the result. The passphrase comes from "
        "KOTACERDAS_BACKUP_PASSPHRASE or KOTACERDAS_BACKUP_PASSPHRASE_FILE."
    )
    # The target database is empty until the restore, so checks that read it
    # would fail or mislead.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="the backup directory")
        parser.add_argument(
            "--database-url",
            default="",
            help="the empty database to restore into (default: DATABASE_URL)",
        )
        parser.add_argument(
            "--replace-keys",
            action="store_true",
            help=(
                "replace key files that differ from the backup's; each replaced "
                "file is kept beside it as NAME.replaced-TIME"
            ),
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="only check the backup (hashes, passphrase, ledger); write nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        database_url = options["database_url"] or settings.DATABASE_URL
        try:
            passphrase = read_passphrase(for_backup=False)
            backup = check_backup(directory, passphrase, self.stdout.write)
            if options["check"]:
                self.stdout.write(f"Backup {directory} is complete and readable.")
                return
            database = Database.from_url(database_url)
            restore_backup(
                backup,
                database,
                database_url,
                options["replace_keys"],
                self.stdout.write,
            )
        except (RestoreError, BackupKeyError, DatabaseBackupError) as error:
            raise CommandError(f"restore failed: {error}") from None
        self.stdout.write(f"Restored {directory} into the {database.label()}.")
