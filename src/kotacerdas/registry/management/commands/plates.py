from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.ops import keys_plates
from kotacerdas.ops.keyring import RotationError
from kotacerdas.registry.plates import PlateKeyError


class Command(BaseCommand):
    help = (
        "Manage the keys that sign building and container plates: list them, "
        "rotate to a new key, revoke a compromised one, list plates to re-print."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        verbs.add_parser("keys", help="list the plate keys and their active plates")
        rotate = verbs.add_parser(
            "rotate-key",
            help="create a new plate key for new plates; old plates keep scanning",
        )
        rotate.add_argument(
            "--revoke-old",
            action="store_true",
            help="mark the old key compromised: its plates scan as re-print needed",
        )
        revoke = verbs.add_parser(
            "revoke-key", help="mark an earlier plate key compromised"
        )
        revoke.add_argument("key_id", help="the key id, as `plates keys` lists it")
        verbs.add_parser(
            "reprint-list",
            help="print the code and kelurahan of each plate a revoked key signed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lines = self.run(options)
        except (RotationError, PlateKeyError) as error:
            raise CommandError(str(error)) from error
        for line in lines:
            self.stdout.write(line)

    def run(self, options: dict[str, Any]) -> list[str]:
        verb = options["verb"]
        if verb == "keys":
            return keys_plates.describe_plate_keys()
        if verb == "reprint-list":
            return [
                f"{code} {kelurahan}"
                for code, kelurahan in keys_plates.plates_to_reprint()
            ]
        if verb == "revoke-key":
            count = keys_plates.revoke_plate_key(options["key_id"])
            return [
                f"plate key {options['key_id']} revoked; {count} active plates "
                "need re-printing (`kotacerdas plates reprint-list`)"
            ]
        rotation = keys_plates.rotate_plate_key(revoke=options["revoke_old"])
        state = "revoked" if rotation.revoked else "retired"
        consequence = (
            "need re-printing (`kotacerdas plates reprint-list`)"
            if rotation.revoked
            else "keep scanning as genuine"
        )
        return [
            f"new plate key {rotation.new_key_id} signs new plates",
            f"old key {rotation.old_key_id} {state}: its "
            f"{rotation.plates_signed_by_old_key} active plates {consequence}",
            f"the old private key is kept in {rotation.retired_file}; delete it "
            "or move it offline",
            "copy the plate key file and its .keys.json file to every app server",
        ]
