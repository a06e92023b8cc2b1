"""Wallet policy: e-money limits, the operating mode and the allowed money paths.

Limits and the mode come from the city profile (`[limits.emoney.*]` and
`[wallet]`), so a city or its partner bank changes them without a release.
Every credit to a limited account passes through `check_credit`, which is the
one place the balance cap and the monthly cap are enforced.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import City
from kotacerdas.wallet.models import AccountKind, TransferKind

CLOSED_LOOP = "closed_loop"
EMONEY = "emoney"
MODES = (EMONEY, CLOSED_LOOP)

# The kinds of transfer a closed-loop city credit does not allow: it carries
# levies and waste bank rewards, not person-to-person money or cash-out.
CLOSED_LOOP_BLOCKED = {
    TransferKind.TRANSFER,
    TransferKind.PAYMENT,
    TransferKind.WITHDRAWAL,
}

# The account kinds each kind of transfer may debit and credit.
K = AccountKind
PATHS: dict[str, tuple[set[str], set[str]]] = {
    TransferKind.TOPUP: ({K.SETTLEMENT}, {K.CITIZEN, K.MERCHANT, K.WASTE_BANK}),
    TransferKind.WITHDRAWAL: (
        {K.CITIZEN, K.MERCHANT, K.REVENUE, K.WASTE_BANK, K.FEES},
        {K.SETTLEMENT},
    ),
    TransferKind.PAYMENT: ({K.CITIZEN}, {K.MERCHANT}),
    TransferKind.TRANSFER: ({K.CITIZEN}, {K.CITIZEN}),
    TransferKind.LEVY: ({K.CITIZEN, K.MERCHANT, K.SETTLEMENT}, {K.REVENUE}),
    TransferKind.REFUND: ({K.MERCHANT, K.REVENUE}, {K.CITIZEN, K.MERCHANT}),
    TransferKind.WASTE_BANK_CREDIT: ({K.WASTE_BANK}, {K.CITIZEN}),
    # The city bears a fee from the revenue account the levy was paid into.
    TransferKind.FEE: ({K.CITIZEN, K.MERCHANT, K.REVENUE}, {K.FEES}),
}

# Accounts that are e-money held by a person: Bank Indonesia's balance and
# monthly caps apply to them. A merchant account is a collection account that
# the partner bank settles to the merchant's bank account, so the caps of
# e-money holders do not apply to it.
LIMITED_KINDS = {K.CITIZEN}

# Used when the profile has no `[limits.emoney]`: the figures of PADG
# 24/7/PADG/2022 (in force since 1 July 2022).
DEFAULT_LIMITS = {
    "unregistered": {"balance_max": 2_000_000, "monthly_in_max": 20_000_000},
    "registered": {"balance_max": 20_000_000, "monthly_in_max": 40_000_000},
}


@dataclass(frozen=True)
class TierLimits:
    balance_max: int
    monthly_in_max: int


@dataclass(frozen=True)
class WalletPolicy:
    mode: str
    limits: dict[str, TierLimits]
    pin_max_attempts: int
    pin_lock_minutes: int
    step_up_amount: int
    qris_gui: str
    merchant_city: str
    merchant_postal_code: str

    def allows(self, kind: str) -> bool:
        return not (self.mode == CLOSED_LOOP and kind in CLOSED_LOOP_BLOCKED)


def current_policy(city: City | None = None) -> WalletPolicy:
    """Read the wallet policy of the installation's city profile."""
    city = city or City.objects.order_by("id").first()
    profile: dict[str, Any] = city.settings if city else {}
    wallet = profile.get("wallet", {})
    emoney = profile.get("limits", {}).get("emoney") or DEFAULT_LIMITS
    mode = str(wallet.get("mode", EMONEY))
    if mode not in MODES:
        raise ValueError(
            f"wallet mode {mode!r} in the city profile is invalid; use one of {', '.join(MODES)}"
        )
    return WalletPolicy(
        mode=mode,
        limits={
            tier: TierLimits(int(row["balance_max"]), int(row["monthly_in_max"]))
            for tier, row in emoney.items()
        },
        pin_max_attempts=int(wallet.get("pin_max_attempts", 3)),
        pin_lock_minutes=int(wallet.get("pin_lock_minutes", 30)),
        step_up_amount=int(wallet.get("step_up_amount", 1_000_000)),
        qris_gui=str(wallet.get("qris_gui", "ID.KOTACERDAS.WWW")),
        merchant_city=str(wallet.get("merchant_city", city.name if city else "")),
        merchant_postal_code=str(wallet.get("merchant_postal_code", "")),
    )


def month_of(day: date) -> date:
    return day.replace(day=1)


# Neither message shows the receiving wallet's balance or monthly total: a
# payer must not learn another person's balance by trying amounts.
MESSAGES = {
    "balance_cap": _(
        "The receiving wallet cannot take this amount: it would pass the balance "
        "limit of Rp%(limit)s for %(tier)s wallets. Send a smaller amount."
    ),
    "monthly_cap": _(
        "The receiving wallet cannot take this amount this month: it would pass the "
        "monthly limit of Rp%(limit)s for %(tier)s wallets. Send a smaller amount or "
        "wait until next month."
    ),
}
