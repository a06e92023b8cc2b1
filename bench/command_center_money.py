"""Synthetic wallet and levy events: accounts, transfers, bills and payments.

Part of the benchmark's synthetic window (see command_center_events).
"""

from bisect import bisect
from itertools import accumulate

from command_center_city import HOUSE, MERCHANT_USES
from command_center_registry import RegistryEvents
from command_center_synth import Choice, Context, Day, draw_count, draw_rupiah

# Wallets: the share of people with a citizen wallet at the end of the
# window, and the share of those opened in the launch week.
WALLET_SHARE = 0.25
WALLETS_AT_LAUNCH = 0.3
LAUNCH_DAYS = 7
MERCHANT_SHARE = 0.3  # of shops, shop-houses and market stalls
MERCHANT_OPENING_DAYS = 30
# Settlement, fees, levy revenue and waste-bank payouts.
SYSTEM_ACCOUNTS = ("settlement", "fees", "revenue", "waste_bank")
FREEZES_PER_WALLET_DAY = 0.0001
TRANSFERS_PER_WALLET_WEEK = 3.0
# Waste banks credit members Monday to Saturday.
WASTE_BANK_CREDITS_PER_WALLET_WEEK = 0.02
# (kind, channel, share, lowest and highest rupiah) of wallet transfers
# other than levy payments and waste-bank credits.
TRANSFER_MIX: tuple[tuple[str, str, float, int, int], ...] = (
    ("payment", "qris", 0.45, 5_000, 150_000),
    ("transfer", "app", 0.20, 10_000, 500_000),
    ("topup", "bank_va", 0.14, 50_000, 1_000_000),
    ("topup", "counter", 0.09, 20_000, 500_000),
    ("withdrawal", "counter", 0.05, 50_000, 500_000),
    ("fee", "system", 0.06, 1_000, 2_500),
    ("refund", "app", 0.01, 5_000, 150_000),
)

# Levy: the share of bills ever paid, by payer, and how late.
PAY_SHARE_WITH_WALLET = 0.85
PAY_SHARE_WITHOUT_WALLET = 0.65
PAY_SHARE_BUSINESS = 0.75
PARTIAL_SHARE = 0.08  # pay half first
REST_PAID_SHARE = 0.7  # of partial payers, pay the rest later
REST_DELAY_DAYS = (10, 60)
CANCEL_SHARE = 0.002
CANCEL_DELAY_DAYS = (3, 10)
# ((fewest, most days after the bill), share) of payment delays.
PAYMENT_DELAYS = (((0, 14), 0.55), ((15, 40), 0.25), ((41, 150), 0.20))
# (channel, share) of payers with and without a wallet.
WALLET_CHANNELS = (("app", 0.8), ("counter", 0.2))
OTHER_CHANNELS = (("counter", 0.55), ("bank_va", 0.35), ("qris", 0.10))
BILLING_HOURS = (1, 3)


class WalletEvents:
    """Citizen, merchant and city accounts, and the transfers between them."""

    def __init__(self, context: Context) -> None:
        city = context.city
        self.context = context
        self.final_wallets = round(city.people * WALLET_SHARE)
        self.citizen_ids: list[int] = []
        self.frozen: set[int] = set()
        self.people_through = list(accumulate(city.household_people))
        # The first day index on which a member of the household had a wallet.
        self.household_wallet_day: dict[int, int] = {}
        shops = sum(1 for use in city.building_use if use in MERCHANT_USES)
        self.merchants = round(shops * MERCHANT_SHARE)
        self.mix = Choice(
            [((kind, channel, low, high), share)
             for kind, channel, share, low, high in TRANSFER_MIX]
        )  # fmt: skip

    @property
    def active(self) -> int:
        return len(self.citizen_ids) - len(self.frozen)

    def day(self, day: Day) -> None:
        if day.index == 0:
            for kind in SYSTEM_ACCOUNTS:
                self._open(day, kind, 0.0)
        self._open_merchants(day)
        self._open_citizens(day)
        self._freeze(day)
        self._transfers(day)
        self._waste_bank_credits(day)
        self.context.totals.wallets_active = self.active

    def opened_by(self, index: int) -> int:
        """Citizen wallets open at the end of day `index`: a launch, then growth."""
        launch = WALLETS_AT_LAUNCH * min(1.0, (index + 1) / LAUNCH_DAYS)
        growth = (1 - WALLETS_AT_LAUNCH) * (index + 1) / self.context.days
        return round(self.final_wallets * (launch + growth))

    def _open(self, day: Day, kind: str, seconds: float) -> int:
        account_id = self.context.new_id("account")
        self.context.emit(
            "wallet.account.opened",
            day.at(seconds),
            # Synthetic wallets belong to no registry member.
            {
                "account_id": account_id,
                "kind": kind,
                "status": "active",
                "member_id": None,
            },
        )
        return account_id

    def _open_merchants(self, day: Day) -> None:
        days = min(MERCHANT_OPENING_DAYS, self.context.days)
        if day.index >= days:
            return
        start = self.merchants * day.index // days
        for _ in range(start, self.merchants * (day.index + 1) // days):
            seconds = day.draw(self.context.rng, 9, 17)
            if seconds is not None:
                self._open(day, "merchant", seconds)

    def _open_citizens(self, day: Day) -> None:
        rng, people = self.context.rng, self.people_through
        for _ in range(len(self.citizen_ids), self.opened_by(day.index)):
            seconds = day.draw(rng, 7, 22)
            if seconds is None:
                break
            self.citizen_ids.append(self._open(day, "citizen", seconds))
            household = bisect(people, rng.random() * people[-1])
            self.household_wallet_day.setdefault(household, day.index)

    def _freeze(self, day: Day) -> None:
        rng = self.context.rng
        for _ in range(draw_count(rng, self.active * FREEZES_PER_WALLET_DAY)):
            account_id = rng.choice(self.citizen_ids)
            seconds = day.draw(rng, 8, 16)
            if seconds is None or account_id in self.frozen:
                continue
            self.frozen.add(account_id)
            self.context.emit(
                "wallet.account.changed",
                day.at(seconds),
                {
                    "account_id": account_id,
                    "kind": "citizen",
                    "status": "frozen",
                    "member_id": None,
                },
            )

    def transfer(
        self, day: Day, seconds: float, kind: str, channel: str, amount: int
    ) -> None:
        """Post one transfer; the fold reads its kind, amount and accounts.

        The accounts are ids no wallet was opened under, so the transfer counts
        city-wide but in no kelurahan, as a system transfer would.
        """
        context = self.context
        context.emit(
            "wallet.transfer.posted",
            day.at(seconds),
            {
                "kind": kind,
                "channel": channel,
                "amount": amount,
                "debit_account_id": 0,
                "credit_account_id": -1,
            },
        )
        if day.date == context.today:
            context.totals.transfers_today += 1
            context.totals.transfer_value_today += amount

    def _transfers(self, day: Day) -> None:
        rng, pick, limit_s = self.context.rng, self.mix.pick, day.limit_s
        expected = self.active * TRANSFERS_PER_WALLET_WEEK / 7
        for _ in range(draw_count(rng, expected)):
            seconds = rng.uniform(6 * 3600, 22 * 3600)
            if seconds > limit_s:
                continue
            kind, channel, low, high = pick(rng)
            self.transfer(day, seconds, kind, channel, draw_rupiah(rng, low, high))

    def _waste_bank_credits(self, day: Day) -> None:
        rng = self.context.rng
        if day.date.weekday() == 6:
            return
        expected = self.active * WASTE_BANK_CREDITS_PER_WALLET_WEEK / 6
        for _ in range(draw_count(rng, expected)):
            seconds = day.draw(rng, 8, 14)
            if seconds is not None:
                amount = draw_rupiah(rng, 2_000, 60_000, step=100)
                self.transfer(day, seconds, "waste_bank_credit", "system", amount)


class LevyEvents:
    """Monthly bills on the first of each month, then payments and cancellations.

    Houses bill each active household; other buildings bill once, as the
    levy's billing run does. Each payment also posts a wallet transfer.
    """

    def __init__(
        self, context: Context, registry: RegistryEvents, wallets: WalletEvents
    ) -> None:
        self.context = context
        self.registry = registry
        self.wallets = wallets
        self.delays = Choice(PAYMENT_DELAYS)
        self.wallet_channels = Choice(WALLET_CHANNELS)
        self.other_channels = Choice(OTHER_CHANNELS)

    def day(self, day: Day) -> None:
        if day.date.day == 1:
            self._bill_month(day)
        for bill_id, amount, current in self.context.due("cancel", day):
            self._cancel(day, bill_id, amount, current)
        for item in self.context.due("payment", day):
            self._pay(day, *item)

    def payers(self) -> list[tuple[int, int | None]]:
        """(building position, household index or None) of each bill to issue."""
        city, registry = self.context.city, self.registry
        payers: list[tuple[int, int | None]] = []
        for index, position in enumerate(city.household_building):
            if (
                registry.household_active[index]
                and registry.building_active[position]
                and city.building_use[position] == HOUSE
                and city.building_levy[position]
            ):
                payers.append((position, index))
        for position, use in enumerate(city.building_use):
            if (
                use != HOUSE
                and registry.building_active[position]
                and city.building_levy[position]
            ):
                payers.append((position, None))
        return payers

    def _bill_month(self, day: Day) -> None:
        context, city = self.context, self.context.city
        month = f"{day.date:%Y-%m}"
        current = context.is_current_month(day.date)
        payers = self.payers()
        start_s, end_s = BILLING_HOURS[0] * 3600, BILLING_HOURS[1] * 3600
        for number, (position, household) in enumerate(payers):
            seconds = start_s + (end_s - start_s) * number / len(payers)
            if seconds > day.limit_s:
                break
            bill_id, amount = context.new_id("bill"), city.building_levy[position]
            kelurahan = city.kelurahan_codes[city.building_kelurahan[position]]
            context.emit(
                "levy.bill.issued",
                day.at(seconds),
                {
                    "bill_id": bill_id,
                    "kelurahan_code": kelurahan,
                    "month": month,
                    "amount": amount,
                },
            )
            if current:
                context.totals.levy_billed_month += amount
            self._decide(day, bill_id, amount, household, current)

    def _decide(
        self,
        day: Day,
        bill_id: int,
        amount: int,
        household: int | None,
        current: bool,
    ) -> None:
        """Schedule what happens to a bill: cancelled, paid (maybe in parts) or not."""
        context, rng = self.context, self.context.rng
        if rng.random() < CANCEL_SHARE:
            cancel_day = day.index + rng.randint(*CANCEL_DELAY_DAYS)
            context.schedule("cancel", cancel_day, (bill_id, amount, current))
            return
        has_wallet = False
        if household is not None:
            wallet_day = self.wallets.household_wallet_day.get(household, day.index + 1)
            has_wallet = wallet_day <= day.index
        share = PAY_SHARE_BUSINESS
        if household is not None:
            share = PAY_SHARE_WITH_WALLET if has_wallet else PAY_SHARE_WITHOUT_WALLET
        if rng.random() >= share:
            return
        channels = self.wallet_channels if has_wallet else self.other_channels
        channel = channels.pick(rng)
        pay_day = day.index + rng.randint(*self.delays.pick(rng))
        if rng.random() < PARTIAL_SHARE:
            first = amount // 2
            context.schedule(
                "payment", pay_day, (bill_id, first, first, channel, current)
            )
            if rng.random() < REST_PAID_SHARE:
                rest_day = pay_day + rng.randint(*REST_DELAY_DAYS)
                rest = (bill_id, amount - first, amount, channel, current)
                context.schedule("payment", rest_day, rest)
        else:
            context.schedule(
                "payment", pay_day, (bill_id, amount, amount, channel, current)
            )

    def _pay(
        self,
        day: Day,
        bill_id: int,
        amount: int,
        paid_total: int,
        channel: str,
        current: bool,
    ) -> None:
        seconds = day.draw(self.context.rng, 7, 21)
        if seconds is None:
            return
        self.context.emit(
            "levy.payment.recorded",
            day.at(seconds),
            {
                "bill_id": bill_id,
                "amount": amount,
                "paid_amount": paid_total,
                "channel": channel,
            },
        )
        self.wallets.transfer(day, seconds, "levy", channel, amount)
        if current:
            self.context.totals.levy_collected_month += amount

    def _cancel(self, day: Day, bill_id: int, amount: int, current: bool) -> None:
        seconds = day.draw(self.context.rng, 9, 15)
        if seconds is None:
            return
        self.context.emit("levy.bill.cancelled", day.at(seconds), {"bill_id": bill_id})
        if current:
            self.context.totals.levy_billed_month -= amount
