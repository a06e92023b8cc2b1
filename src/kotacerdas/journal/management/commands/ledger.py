import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kotacerdas.journal import cli_extensions, services
from kotacerdas.journal.keys import (
    SigningKeyError,
    create_signing_key,
    node_key_history,
    node_verifier_key,
)
from kotacerdas.journal.models import VerifyRun
from kotacerdas.journal.notes import NoteError, Verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.verify.history import LogKeys


class Command(BaseCommand):
    help = "Work with the journal: verify it, seal waiting entries, create the signing key."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        verify = verbs.add_parser(
            "verify", help="recompute every hash, signature and replay"
        )
        verify.add_argument(
            "--from-block",
            type=int,
            default=0,
            help="verify from this block on, trusting the signed block before it",
        )
        verify.add_argument(
            "--vkey",
            default="",
            help=(
                "verifier key of a node that never rotated its key (name+id+key); "
                "default: the node's key history"
            ),
        )
        verify.add_argument(
            "--no-record",
            action="store_true",
            help="do not store the result for the status page",
        )
        verbs.add_parser("seal", help="seal waiting entries into a block now")
        verbs.add_parser(
            "init-key", help="create the node's signing key if it is missing"
        )
        verbs.add_parser("vkey", help="print the node's verifier key")
        for module in cli_extensions.modules():
            module.add_parsers(verbs)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "verify":
            self.verify(options)
        elif verb == "seal":
            block = services.seal_pending()
            self.stdout.write(
                f"sealed block {block.height} at tree size {block.tree_size}"
                if block
                else "nothing to seal"
            )
        elif verb == "init-key":
            path = Path(settings.KOTACERDAS_SIGNING_KEY_FILE)
            created = create_signing_key(path)
            self.stdout.write(
                f"{'created' if created else 'kept existing'} signing key {path}"
            )
        elif verb == "vkey":
            try:
                self.stdout.write(node_verifier_key())
            except SigningKeyError as error:
                raise CommandError(str(error)) from error
        elif not any(
            module.handle(verb, options, self.stdout)
            for module in cli_extensions.modules()
        ):
            raise CommandError(f"unknown ledger command {verb!r}")

    def _keys(self, vkey: str) -> Verifier | LogKeys:
        try:
            return Verifier.parse(vkey) if vkey else node_key_history(record=True)
        except (NoteError, SigningKeyError) as error:
            raise CommandError(str(error)) from error

    def verify(self, options: dict[str, Any]) -> None:
        keys = self._keys(options["vkey"])
        started = timezone.now()
        clock = time.monotonic()
        last_print = [clock]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last_print[0] >= 1.0 or done == total:
                last_print[0] = time.monotonic()
                self.stderr.write(f"verified {done} of {total} entries")

        result = verify_ledger(keys, options["from_block"], progress=progress)
        reports = [
            report
            for module in cli_extensions.modules()
            for report in module.extra_checks()
        ]
        elapsed_s = time.monotonic() - clock
        problems = result.problems + [
            line for report in reports for line in report.problems
        ]
        if not options["no_record"]:
            VerifyRun.objects.create(
                started_at=started,
                finished_at=timezone.now(),
                from_block=options["from_block"],
                entries_checked=result.entries_checked,
                blocks_checked=result.blocks_checked,
                ok=not problems,
                first_problem=problems[0] if problems else "",
            )
        summary = (
            f"entries checked: {result.entries_checked}, "
            f"blocks checked: {result.blocks_checked}, "
            f"time: {elapsed_s:.1f} s"
        )
        for report in reports:
            self.stdout.write(
                f"{report.name}: {report.checked} checked, "
                f"{len(report.problems)} problems, {len(report.unchecked)} not checked"
            )
            for line in report.unchecked:
                self.stdout.write(f"  not checked: {line}")
            for line in report.problems:
                self.stdout.write(f"  PROBLEM: {line}")
        if not problems:
            self.stdout.write(f"ledger valid: {summary}")
            return
        self.stdout.write(f"ledger INVALID: {problems[0]}")
        self.stdout.write(summary)
        sys.exit(1)
