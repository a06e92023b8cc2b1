"""`kotacerdas snap partner add|list|show`: the banks allowed to top up wallets."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.snap import services, simulator
from kotacerdas.snap.models import SignatureEncoding, SignatureMode, SnapPartner


def add_partner_arguments(add: CommandParser) -> None:
    add.add_argument("partner_id", nargs="?", help="X-PARTNER-ID, up to 36 chars")
    add.add_argument("--demo", action="store_true", help="register the bank simulator")
    add.add_argument("--name", default="", help="the bank's name")
    add.add_argument(
        "--service-id", default="", help="partnerServiceId digits (up to 8)"
    )
    add.add_argument("--channel-id", default="", help="CHANNEL-ID, up to 5 chars")
    add.add_argument(
        "--client-key", default="", help="X-CLIENT-KEY; default: the partner ID"
    )

    add.add_argument(
        "--mode",
        choices=SignatureMode.values,
        default=SignatureMode.HMAC_SHA512,
        help="transaction signature: HMAC-SHA512 with token, or RSA without",
    )
    add.add_argument(
        "--encoding",
        choices=SignatureEncoding.values,
        default=SignatureEncoding.BASE64,
        help="how the bank writes X-SIGNATURE",
    )
    add.add_argument(
        "--public-key", type=Path, help="the bank's RSA public key (PEM file)"
    )
    add.add_argument(
        "--skew-s",
        type=int,
        default=300,
        help="allowed difference between the bank's X-TIMESTAMP and our clock, in seconds",
    )


class Command(BaseCommand):
    help = (
        "Manage SNAP partner banks. `snap partner add ID ...` registers a bank and "
        "prints its client secret once; `snap partner add --demo` registers the "
        "bank simulator; `snap partner list` and `snap partner show ID` print them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subjects = parser.add_subparsers(dest="subject", required=True)
        partner = subjects.add_parser("partner", help="partner banks")
        actions = partner.add_subparsers(dest="action", required=True)
        add_partner_arguments(actions.add_parser("add", help="register a partner bank"))

        actions.add_parser("list", help="list partner banks")
        show = actions.add_parser("show", help="show one partner bank")
        show.add_argument("partner_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add" and options["demo"]:
            self.add_demo(options)
        elif action == "add":
            self.add(options)
        elif action == "list":
            self.list()
        else:
            self.show(options["partner_id"])

    def add(self, options: dict[str, Any]) -> None:
        missing = [
            flag
            for flag, key in (
                ("PARTNER_ID", "partner_id"),
                ("--service-id", "service_id"),
                ("--channel-id", "channel_id"),
                ("--public-key", "public_key"),
            )
            if not options[key]
        ]
        if missing:
            raise CommandError(f"missing {', '.join(missing)}; or use --demo")
        try:
            pem = options["public_key"].read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(
                f"cannot read {options['public_key']}: {error.strerror}"
            ) from None
        try:
            new = services.add_partner(
                services.PartnerSettings(
                    partner_id=options["partner_id"],
                    name=options["name"],
                    service_id=options["service_id"],
                    channel_id=options["channel_id"],
                    client_key=options["client_key"],
                    signature_mode=options["mode"],
                    signature_encoding=options["encoding"],
                    public_key_pem=pem,
                    timestamp_skew_s=options["skew_s"],
                )
            )
        except services.PartnerInvalid as error:
            raise CommandError(str(error)) from None
        self.print_partner(new.partner)
        if new.client_secret:
            self.stderr.write(
                "Client secret below: give it to the bank now; it cannot be shown again."
            )
            self.stdout.write(new.client_secret)

    def add_demo(self, options: dict[str, Any]) -> None:
        try:
            partner, created = simulator.register_demo_partner(
                options["mode"], options["encoding"]
            )
        except services.PartnerInvalid as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{'Registered' if created else 'Updated'} the bank simulator as partner "
            f"{partner.partner_id}; its files are in {simulator.sim_dir()}"
        )
        self.print_partner(partner)

    def list(self) -> None:
        for partner in SnapPartner.objects.all():
            state = "active" if partner.active else "inactive"
            self.stdout.write(
                f"{partner.partner_id:<36}  {partner.partner_service_id!r}  "
                f"{partner.signature_mode:<11}  {state:<8}  {partner.name}"
            )

    def show(self, partner_id: str) -> None:
        partner = SnapPartner.objects.filter(partner_id=partner_id).first()
        if partner is None:
            raise CommandError(f"no partner {partner_id!r}; see `snap partner list`")
        self.print_partner(partner)
        self.stdout.write(partner.public_key_pem.rstrip())

    def print_partner(self, partner: SnapPartner) -> None:
        rows = [
            ("partner ID (X-PARTNER-ID)", partner.partner_id),
            ("client ID (X-CLIENT-KEY)", partner.client_key),
            ("name", partner.name),
            ("partnerServiceId", repr(partner.partner_service_id)),
            ("CHANNEL-ID", partner.channel_id),
            ("signature", partner.signature_mode),
            ("signature encoding", partner.signature_encoding),
            ("allowed clock difference", f"{partner.timestamp_skew_s} s"),
            ("active", "yes" if partner.active else "no"),
        ]
        for label, value in rows:
            self.stdout.write(f"{label:<26} {value}")
