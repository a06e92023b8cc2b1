"""`kotacerdas bank-sim topup`: play a partner bank topping up a wallet."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.snap import simulator
from kotacerdas.snap.client import NotLocal, Reply, SnapClient


class Command(BaseCommand):
    help = (
        "Play a partner bank against a running Kota Cerdas server on this machine. "
        "`bank-sim topup --wallet NUMBER --amount RUPIAH` sends the SNAP access "
        "token (HMAC mode), VA inquiry and VA payment requests and prints each "
        "response code. Register the simulator first: `snap partner add --demo`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        topup = actions.add_parser("topup", help="top up a wallet through its VA")
        topup.add_argument("--wallet", required=True, help="wallet number (customerNo)")
        topup.add_argument(
            "--amount", required=True, type=int, help="amount in whole rupiah"
        )
        topup.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="the server to call; only 127.0.0.1 or localhost",
        )
        topup.add_argument(
            "--partner",
            default=simulator.DEMO_PARTNER_ID,
            help="which registration of the simulator to sign as",
        )
        topup.add_argument(
            "--repeat",
            type=int,
            default=0,
            help="send the same payment this many more times, as a bank's retry",
        )
        topup.add_argument(
            "--pretty",
            action="store_true",
            help="send indented JSON bodies (the signature covers them minified)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["amount"] <= 0:
            raise CommandError("--amount must be whole rupiah above zero")
        if options["repeat"] < 0:
            raise CommandError("--repeat must be 0 or more")
        try:
            profile = simulator.load_profile(options["partner"])
            client = SnapClient(
                options["url"],
                profile,
                simulator.load_or_create_key(),
                pretty=options["pretty"],
            )
        except (FileNotFoundError, NotLocal) as error:
            raise CommandError(str(error)) from None

        top_up = simulator.TopUp(
            options["wallet"], options["amount"], options["repeat"]
        )
        try:
            simulator.run_top_up(client, top_up, self.report)
        except simulator.SimulationFailed as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(
                f"cannot reach {client.base_url} ({error}); is `kotacerdas run` running?"
            ) from None

    def report(self, step: str, reply: Reply) -> None:
        line = f"{step:<13} HTTP {reply.status}  {reply.code}  {reply.message}"
        data = reply.body.get("virtualAccountData") or {}
        if data.get("virtualAccountName"):
            line += f"  name {data['virtualAccountName']}"
        reference = (reply.body.get("additionalInfo") or {}).get("transferReference")
        if reference:
            line += f"  transfer {reference}"
        self.stdout.write(line)
