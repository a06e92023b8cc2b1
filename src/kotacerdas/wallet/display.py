"""Display helpers for accounts: names masked for payers, amounts in rupiah."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.registry.models import (
    ERASED_NAME,
    ERASED_USERNAME_PREFIX,
    erased_name_label,
    shown_name,
)
from kotacerdas.wallet.models import Account, AccountKind


def mask_name(full_name: str) -> str:
    """Keep each word's first letter: "Siti Rahmawati" becomes "S*** R********".

    The masked form lets a payer recognise the payee without learning the name.
    An erased member's name becomes the erased placeholder, unmasked.
    """
    if full_name == ERASED_NAME:
        return erased_name_label()
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
        return shown_name(account.member.full_name)
    if account.holder is not None:
        if _holder_erased(account):
            return erased_name_label()
        return account.holder.get_full_name() or account.holder.get_username()
    return _("Wallet %(number)s") % {"number": account.number}


def masked_holder_name(account: Account) -> str:
    """Return the holder's name masked, or the erased placeholder as it is."""
    if account.member is not None:
        return mask_name(account.member.full_name)
    if _holder_erased(account):
        return erased_name_label()
    return mask_name(holder_name(account))


def payee_name(account: Account) -> str:
    """Return the name shown to a payer before confirming: masked for citizens."""
    if account.kind == AccountKind.CITIZEN:
        return masked_holder_name(account)
    return holder_name(account)


def _holder_erased(account: Account) -> bool:
    holder = account.holder
    return (
        holder is not None
        and not holder.is_active
        and holder.get_username().startswith(ERASED_USERNAME_PREFIX)
    )


def rupiah(amount: int) -> str:
    """Format whole rupiah with the active language's grouping: Rp7.500."""
    return "Rp" + number_format(amount, force_grouping=True)
