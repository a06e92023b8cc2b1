"""The `kotacerdas` console command: Django's management commands under one name.

`kotacerdas run` starts the city, `kotacerdas ledger verify` checks the journal,
and every other Django command (migrate, createsuperuser, ...) works as well.
"""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kotacerdas.config.settings")
    execute_from_command_line(["kotacerdas", *sys.argv[1:]])


if __name__ == "__main__":
    main()
