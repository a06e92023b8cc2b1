"""Display helpers for accounts: names masked for payers, amounts in rupiah."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.wallet.models import Account, AccountKind


def mask_name(full_name: str) -> str:
    """Keep each word's first letter: "Siti Rahmawati" becomes "S*** R********".

    The masked form lets a payer recognise the payee without learning the name.
    """
    return " ".join(
        word[0] + "*" * (len(word) - 1) for word in full_name.split() if word
    )


def holder_name(account: Account) -> str:
    """Return the account's full display name, for its holder and staff only."""
    if account.kind in (AccountKind.REVENUE, AccountKind.SETTLEMENT, AccountKind.FEES):
        # City accounts carry an internal code as their label.
        return str(account.get_kind_display())
    if account.kind != AccountKind.CITIZEN:
        return account.label or account.get_kind_display()
    if account.member is not None:
        return account.member.full_name
    if account.holder is not None:
        return account.holder.get_full_name() or account.holder.get_username()
    return _("Wallet %(number)s") % {"number": account.number}


def payee_name(account: Account) -> str:
    """Return the name shown to a payer before confirming: masked for citizens."""
    if account.kind == AccountKind.CITIZEN:
        return mask_name(holder_name(account))
    return holder_name(account)


def rupiah(amount: int) -> str:
    """Format whole rupiah with the active language's grouping: Rp7.500."""
    return "Rp" + number_format(amount, force_grouping=True)
