"""`kotacerdas token`: create, list and revoke API tokens for integrations."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.accounts.api_auth import create_api_token, revoke_api_token
from kotacerdas.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Manage API tokens. `token create USER NAME` prints a new token once; "
        "`token list [USER]` shows tokens without their secrets; "
        "`token revoke PREFIX` stops a token from working."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token for a user")
        create.add_argument("user", help="username the token acts as")
        create.add_argument("name", help="what the token is for, such as 'dukcapil'")
        listing = actions.add_parser("list", help="list tokens")
        listing.add_argument("user", nargs="?", help="only this user's tokens")
        revoke = actions.add_parser("revoke", help="revoke a token")
        revoke.add_argument("prefix", help="the token's prefix, as `list` shows it")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options["user"], options["name"])
        elif action == "list":
            self.list(options.get("user"))
        else:
            self.revoke(options["prefix"])

    def create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user {username!r} not found; check the username")
        try:
            new = create_api_token(user, name)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Created token {new.token.prefix} for {username}. "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(new.secret)

    def list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            state = (
                f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            )
            used = (
                f"{token.last_used_at:%Y-%m-%d %H:%M}"
                if token.last_used_at
                else "never"
            )
            self.stdout.write(
                f"{token.prefix}  {token.user.get_username()}  {token.name}  "
                f"{state}  last used {used}"
            )

    def revoke(self, prefix: str) -> None:
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix!r}; see `token list`")
        if revoke_api_token(token):
            self.stdout.write(f"Revoked token {prefix}.")
        else:
            self.stdout.write(f"Token {prefix} was already revoked.")
