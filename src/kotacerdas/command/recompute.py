"""Recompute figures from the journal itself, to set beside the rollups.

`recompute()` folds every journal entry the rollups hold into memory
with the same `fold.apply` the worker uses, starting from nothing. `explain()`
returns, for one figure, the events it reads, the fold rules that turn them
into tallies (their source code), and both values.
"""

import inspect
from dataclasses import dataclass

from kotacerdas.command import fold, projector
from kotacerdas.command.figures import (
    FIGURES_BY_KEY,
    FigureDef,
    FoldedTallies,
    Period,
    StoredTallies,
)
from kotacerdas.journal.models import Entry

# Events that place a citizen wallet in its member's household's kelurahan.
_CITIZEN_WALLET_EVENTS: tuple[str, ...] = (
    "registry.building.registered",
    "registry.building.changed",
    "registry.household.registered",
    "registry.household.moved",
    "registry.household.retired",
    "registry.member.added",
    "registry.member.changed",
    "registry.member.removed",
    "wallet.account.opened",
    "wallet.account.changed",
)
_BANK_EVENTS: tuple[str, ...] = (
    "waste.site.saved",
    "wastebank.unit.opened",
    "wastebank.deposit.recorded",
    "wastebank.deposit.posted",
)

# The event types whose fold rules add to each metric, and the facts they read.
METRIC_EVENTS: dict[str, tuple[str, ...]] = {
    "buildings": ("registry.building.registered", "registry.building.changed"),
    "households": (
        "registry.building.registered",
        "registry.building.changed",
        "registry.household.registered",
        "registry.household.moved",
        "registry.household.retired",
    ),
    "plates_issued": (
        "registry.building.registered",
        "registry.building.changed",
        "registry.plate.issued",
        "registry.plate.revoked",
    ),
    "plates_installed": (
        "registry.building.registered",
        "registry.building.changed",
        "registry.plate.issued",
        "registry.plate.installed",
        "registry.plate.revoked",
    ),
    # The city-wide count needs no kelurahan, so it skips the registry events.
    "wallets": ("wallet.account.opened", "wallet.account.changed"),
    "transfers": ("wallet.transfer.posted",),
    "transfer_value": ("wallet.transfer.posted",),
    "levy_billed": ("levy.bill.issued", "levy.bill.cancelled"),
    "levy_collected": (
        "levy.bill.issued",
        "levy.payment.recorded",
        "levy.bill.cancelled",
    ),
    "route_stops": ("waste.route.planned",),
    "route_done": ("waste.route.planned", "waste.pickup.recorded"),
    "pickups": (
        "registry.building.registered",
        "registry.building.changed",
        "waste.container.saved",
        "waste.pickup.recorded",
    ),
    "tonnage_g": (
        "registry.building.registered",
        "registry.building.changed",
        "waste.container.saved",
        "waste.pickup.recorded",
    ),
    "containers_waiting": (
        "waste.container.saved",
        "waste.container.threshold_crossed",
        "waste.pickup.recorded",
    ),
    "pickups_flagged": (
        "registry.building.registered",
        "registry.building.changed",
        "waste.container.saved",
        "waste.pickup.recorded",
        "waste.pickup.reviewed",
    ),
    "reports_filed": ("wastereports.report.filed", "wastereports.report.updated"),
    "reports_closed": ("wastereports.report.filed", "wastereports.report.updated"),
    "report_close_s": ("wastereports.report.filed", "wastereports.report.updated"),
    "building_stops": (
        "registry.building.registered",
        "registry.building.changed",
        "waste.route.planned",
    ),
    "building_stops_served": (
        "registry.building.registered",
        "registry.building.changed",
        "waste.container.saved",
        "waste.route.planned",
        "waste.pickup.recorded",
    ),
    "transfers_citizen": (*_CITIZEN_WALLET_EVENTS, "wallet.transfer.posted"),
    "transfer_value_citizen": (*_CITIZEN_WALLET_EVENTS, "wallet.transfer.posted"),
    "bank_deposit_g": _BANK_EVENTS,
    "bank_deposit_value": _BANK_EVENTS,
}


def event_types(figure: FigureDef) -> tuple[str, ...]:
    """Return the event types a figure's recomputation reads, in fold order."""
    wanted = {kind for metric in figure.metrics for kind in METRIC_EVENTS[metric]}
    return tuple(kind for kind in fold.EVENT_TYPES if kind in wanted)


def recompute(
    size: int | None = None, types: tuple[str, ...] = fold.EVENT_TYPES
) -> tuple[FoldedTallies, int]:
    """Fold the first `size` entries (default: as many as the rollups hold)."""
    size = projector.position() if size is None else size
    state = fold.State()
    for event in projector.entries(0, size, types):
        fold.apply(event, state)
    return FoldedTallies(state), size


@dataclass(frozen=True)
class Explanation:
    figure: FigureDef
    # Entries 0 .. size-1 were read, as many as the rollups held.
    size: int
    events_read: int
    event_types: tuple[str, ...]
    rules: list[tuple[str, str]]  # (event type, source of its fold rule)
    stored: int | None
    recomputed: int | None

    @property
    def agrees(self) -> bool:
        return self.stored == self.recomputed


def explain(key: str, period: Period | None = None) -> Explanation:
    """Recompute one figure from the journal and set it beside the stored one.

    Raises KeyError for an unknown figure key.
    """
    figure = FIGURES_BY_KEY[key]
    period = period or Period.current()
    types = event_types(figure)
    size = projector.position()
    folded, _size = recompute(size, types)
    read = Entry.objects.filter(seq__lt=size, event_type__in=types).count()
    handlers = fold._HANDLERS
    rules = [(kind, inspect.getsource(handlers[kind])) for kind in types]
    return Explanation(
        figure=figure,
        size=size,
        events_read=read,
        event_types=types,
        rules=rules,
        stored=figure.compute(StoredTallies(), period),
        recomputed=figure.compute(folded, period),
    )
