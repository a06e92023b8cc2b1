"""`kotacerdas ledger witnesses ...`, and the cosignature check of `ledger verify`."""

from argparse import _SubParsersAction
from typing import Any, TextIO

from django.core.management.base import CommandError

from kotacerdas.journal import witnessing
from kotacerdas.journal.cli_extensions import CheckReport
from kotacerdas.journal.models import Cosignature, Witness
from kotacerdas.journal.notes import NoteError


def add_parsers(verbs: "_SubParsersAction[Any]") -> None:
    witnesses = verbs.add_parser(
        "witnesses",
        help="list, add, update or remove the witnesses this node pushes to",
    )
    actions = witnesses.add_subparsers(dest="witness_action", required=True)
    add = actions.add_parser("add", help="register a witness, or update its URL")
    add.add_argument("name", help="the witness's name, as in its verifier key")
    add.add_argument("url", help="submission URL prefix, such as http://host:8701")
    add.add_argument("vkey", help="output of `kotacerdas witness vkey` on its host")
    add.add_argument(
        "--chain-address", default="", help="the witness's 0x address on the chain"
    )
    update = actions.add_parser(
        "update", help="give a witness the new key its partner rotated to"
    )
    update.add_argument("name", help="the witness's name")
    update.add_argument(
        "--vkey",
        required=True,
        help="output of `kotacerdas witness rotate-key` or `witness vkey` on its host",
    )
    actions.add_parser("list", help="list the witnesses and their state")
    remove = actions.add_parser("remove", help="stop pushing to a witness")
    remove.add_argument("name", help="the witness's name")


def handle(verb: str, options: dict[str, Any], stdout: TextIO) -> bool:
    if verb != "witnesses":
        return False
    action = options["witness_action"]
    if action == "add":
        try:
            witness = witnessing.add_witness(
                options["name"],
                options["url"],
                options["vkey"],
                options["chain_address"],
            )
        except witnessing.WitnessError as error:
            raise CommandError(str(error)) from error
        stdout.write(f"witness {witness.name} pushes to {witness.url}\n")
    elif action == "update":
        try:
            retired = witnessing.replace_witness_key(options["name"], options["vkey"])
        except witnessing.WitnessError as error:
            raise CommandError(str(error)) from error
        stdout.write(
            f"witness {options['name']} now uses the new key; its old key's "
            f"cosignatures stay valid up to tree size {retired.last_size}\n"
        )
    elif action == "remove":
        if not witnessing.deactivate_witness(options["name"]):
            raise CommandError(
                f"witness {options['name']!r} not found; "
                "see `kotacerdas ledger witnesses list`"
            )
        stdout.write(f"witness {options['name']} deactivated\n")
    else:
        write_list(stdout)
    return True


def write_list(stdout: TextIO) -> None:
    stdout.write(f"quorum: {witnessing.quorum()}\n")
    for witness in Witness.objects.all():
        state = "active" if witness.active else "inactive"
        stdout.write(
            f"{witness.name} {state} {witness.url} last size {witness.last_size}, "
            f"{witness.failures} failures in a row"
            + (f", last error: {witness.last_error}" if witness.last_error else "")
            + "\n"
        )


def extra_checks() -> list[CheckReport]:
    """Verify every stored cosignature against its witness's key and its block."""
    report = CheckReport("cosignatures")
    cosignatures = (
        Cosignature.objects.select_related("block", "witness")
        .prefetch_related("witness__retired_keys")
        .order_by("block__height", "witness__name")
    )
    for cosignature in cosignatures.iterator(chunk_size=1000):
        report.checked += 1
        where = (
            f"cosignature by {cosignature.witness.name} "
            f"on block {cosignature.block.height}"
        )
        try:
            timestamp = witnessing.check_cosignature(cosignature)
        except NoteError as error:
            report.problems.append(f"{where} does not verify: {error}")
            continue
        if timestamp != cosignature.timestamp:
            report.problems.append(
                f"{where} carries time {timestamp}, but {cosignature.timestamp} is stored"
            )
    return [report]
