"""A window of synthetic journal events for the command center benchmark.

`YearOfEvents(city, days, now, seed).day(index)` returns the events of one
day of the window as `command.fold.Event` objects, for the benchmark to fold
into the rollups the way the worker does. They are never written to the
journal. Each payload carries the fields `command.fold` reads (see its
`needs` and handlers), not every field of the event's schema.

Within a day the events come by area (registry, wallets, levy, waste,
reports), so their `at` times are not in sequence order as the journal's
would be. The fold reads `at` only for the day, and each object's own
events come in the order they happened, which is all the fold relies on.

The last day of the window is today: events later than `now` are left out,
so today's figures are partial, as on the live dashboard. The rates and
shares in the area modules (command_center_registry, _money, _waste) are
invented to give a plausible city of the demo's size, not survey figures.
Django must be set up before this module is imported.
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from command_center_city import DemoCity
from command_center_money import LevyEvents, WalletEvents
from command_center_registry import RegistryEvents
from command_center_synth import DAY_S, Context, Day, Totals
from command_center_waste import ReportEvents, WasteEvents
from kotacerdas.command import projector
from kotacerdas.command.fold import Event, State, apply, needs


class YearOfEvents:
    """The events of a city over `days` days, the last of them today.

    `registry_in_journal` means that the registry's rows and their events
    already exist (the benchmark's --with-registry), so the first day does
    not register buildings, households and plates again. `plate_ids` then
    holds the id of each building's plate, in the city's building order.
    """

    def __init__(
        self,
        city: DemoCity,
        days: int,
        now: datetime,
        seed: int,
        *,
        registry_in_journal: bool = False,
        plate_ids: list[int] | None = None,
    ) -> None:
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.now = now
        today = now.astimezone(self.zone).date()
        self.first_day = today - timedelta(days=days - 1)
        rng = random.Random(f"{seed}:command-bench")
        self.context = Context(city, days, rng, today)
        self.registry = RegistryEvents(self.context, registry_in_journal, plate_ids)
        self.wallets = WalletEvents(self.context)
        self.levy = LevyEvents(self.context, self.registry, self.wallets)
        self.waste = WasteEvents(self.context, self.registry)
        self.reports = ReportEvents(self.context)

    @property
    def totals(self) -> Totals:
        return self.context.totals

    def day(self, index: int) -> list[Event]:
        """Return the events of day `index`; call it for 0, 1, 2 ... in order."""
        on = self.first_day + timedelta(days=index)
        midnight = datetime(on.year, on.month, on.day, tzinfo=self.zone)
        limit_s = float(DAY_S)
        if on == self.context.today:
            limit_s = min(limit_s, (self.now - midnight).total_seconds())
        day = Day(index, on, midnight, limit_s)
        self.context.out = []
        self.registry.day(day)
        self.wallets.day(day)
        self.levy.day(day)
        self.waste.day(day)
        self.reports.day(day)
        return self.context.out


def fold_events(events: list[Event]) -> None:
    """Fold `events` into the stored rollups in one transaction, as the worker does.

    The same steps as `projector.fold_batch`, without reading the journal or
    moving the cursor, because these events are not in the journal.
    """
    with transaction.atomic():
        state = State(loader=projector._load_facts)
        state.preload(key for event in events for key in needs(event))
        for event in events:
            apply(event, state)
        projector.store(state)
