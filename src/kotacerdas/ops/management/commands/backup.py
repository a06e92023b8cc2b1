"""`kotacerdas backup DIR`: take one consistent backup of the running city."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.ops.backup import BackupError, take_backup
from kotacerdas.ops.backup_database import DatabaseBackupError
from kotacerdas.ops.backup_keys import BackupKeyError, read_passphrase


class Command(BaseCommand):
    help = (
        "Back up the database, the journal (in the ledger export layout) and the "
        "keys (encrypted with KOTACERDAS_BACKUP_PASSPHRASE) into a new directory, "
        "while the city keeps running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory", type=Path, help="a new or empty directory to write into"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        try:
            passphrase = read_passphrase(for_backup=True)
            manifest = take_backup(directory, passphrase, self.stdout.write)
        except (BackupError, BackupKeyError, DatabaseBackupError) as error:
            raise CommandError(f"backup failed: {error}") from None
        latest = manifest["journal"]["latest_block"]
        block = f"block {latest['height']}" if latest else "no block yet"
        self.stdout.write(
            f"Backup written to {directory}: journal size "
            f"{manifest['journal']['size']}, {block}, {len(manifest['files'])} files."
        )
