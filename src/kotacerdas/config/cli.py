"""The `kotacerdas` console command: Django's management commands under one name.

`kotacerdas run` starts the city, `kotacerdas ledger verify` checks the journal,
and every other Django command (migrate, createsuperuser, ...) works as well.
"""

import os
import sys

from django.core.management import execute_from_command_line

# Django command names are module names, which cannot contain a dash.
ALIASES = {
    "bank-sim": "bank_sim",
    "sensor-sim": "sensor_sim",
    "sensor-intake": "sensor_intake",
    "pii-scan": "pii_scan",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kotacerdas.config.settings")
    args = sys.argv[1:]
    if args and args[0] == "witness":
        # A witness runs on a partner's machine without Django or a database.
        from kotacerdas.witness.cli import main as witness_main

        sys.exit(witness_main(args[1:]))
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    execute_from_command_line(["kotacerdas", *args])


if __name__ == "__main__":
    main()
