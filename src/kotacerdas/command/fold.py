"""The fold: how each journal event changes the command center's tallies.

`apply(event, state)` is the only place that turns events into figures. The
worker's projector runs it over new entries and stores the result. The "how is
this computed" page runs it again, into memory, over the journal from its first
entry.
Both use this module, so they can only differ if stored rollups were lost or
changed, which is what the comparison is there to show.

Tallies are keyed by (metric, local day, kelurahan code, key). Metrics:

| metric | day | key | one event adds |
|---|---|---|---|
| buildings | change | | +1 registered, -1 demolished or moved away |
| households | change | | +1 registered or moved in, -1 retired or moved away |
| plates_issued | issue | | +1 issued, -1 revoked |
| plates_installed | install | | +1 installed, -1 revoked after install |
| wallets | change | account kind | +1 opened active, -1 frozen or closed |
| transfers | posting | transfer kind | +1 per posted transfer |
| transfer_value | posting | transfer kind | rupiah of each posted transfer |
| levy_billed | bill month | | bill amount, minus it when cancelled |
| levy_collected | bill month | | rupiah paid on the month's bills |
| levy_payments | payment | channel | rupiah paid that day |
| route_stops | plan date | plan id | stops of the latest revision |
| route_done | plan date | plan id | +1 per pickup counted on the plan |
| pickups | scan | outcome | +1 per pickup that is not a repeat scan |
| tonnage_g | scan | sorting group | grams collected (volume times density if not weighed) |
| tonnage_est_g | scan | sorting group | the part of tonnage_g estimated from volume |
| pickups_flagged | scan, review | | +1 flagged for review, -1 reviewed |
| containers_waiting | crossing, pickup | | +1 crossed its threshold, -1 emptied |
| reports_filed | filing | report kind | +1 per citizen report |
| reports_closed | closing | report kind | +1 resolved, rejected or duplicate |
| report_close_s | closing | report kind | seconds from filing to closing; minus them when reopened |
| building_stops | plan date | | building stops of the plan's latest revision |
| building_stops_served | plan date | outcome | +1 per building pickup on the plan, scanned on its date |
| transfers_citizen | posting | transfer kind | +1 per posted transfer to or from a citizen wallet |
| transfer_value_citizen | posting | transfer kind | rupiah of those transfers |
| bank_deposit_g | posting | | grams accepted when a waste-bank deposit is posted |
| bank_deposit_value | posting | | rupiah credited for those grams |

Most tallies carry a kelurahan code. A building's comes from its registration,
a household's from its building, a citizen wallet's from the household of its
registry member when it is opened, a waste bank's from its site. A transfer is
counted in the kelurahan of the citizen wallet it debits, or else of the one it
credits. `wallets` of other kinds, `transfers`, `transfer_value`,
`route_stops` and `route_done` have no kelurahan.

Days are local dates in the city's time zone. Cumulative figures (buildings,
plates, wallets) are the sum of their deltas up to a day.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from kotacerdas.waste.statistics import pickup_grams

# Raise this whenever a rule below changes what it adds. The projector then
# rebuilds the rollups from the first entry, because old tallies followed the
# old rules.
FOLD_VERSION = 2

TallyKey = tuple[str, date, str, str]
FactKey = tuple[str, str]

OPEN_REPORT_STATUSES = frozenset({"new", "triaged", "assigned", "in_progress"})

# Event types the fold reads, in the order a reader should meet them.
EVENT_TYPES: tuple[str, ...] = (
    "registry.building.registered",
    "registry.building.changed",
    "registry.household.registered",
    "registry.household.moved",
    "registry.household.retired",
    "registry.member.added",
    "registry.member.changed",
    "registry.member.removed",
    "registry.plate.issued",
    "registry.plate.installed",
    "registry.plate.revoked",
    "wallet.account.opened",
    "wallet.account.changed",
    "wallet.transfer.posted",
    "levy.bill.issued",
    "levy.payment.recorded",
    "levy.bill.cancelled",
    "waste.site.saved",
    "waste.container.saved",
    "waste.container.threshold_crossed",
    "waste.route.planned",
    "waste.pickup.recorded",
    "waste.pickup.reviewed",
    "wastereports.report.filed",
    "wastereports.report.updated",
    "wastebank.unit.opened",
    "wastebank.deposit.recorded",
    "wastebank.deposit.posted",
)


@dataclass(frozen=True)
class Event:
    """One journal entry, decoded: its sequence number, type, time and payload."""

    seq: int
    type: str
    at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class OpenReportRow:
    report_id: int
    kind: str
    kelurahan_code: str
    filed_at: datetime
    sla_due_at: datetime


FactLoader = Callable[[str, set[str]], dict[str, dict[str, Any]]]


def _no_facts(kind: str, refs: set[str]) -> dict[str, dict[str, Any]]:
    return {}


@dataclass
class State:
    """The working set of a fold: facts read and changed, tally deltas, open reports.

    `loader` fetches facts that earlier folds stored. A fold from the first
    entry needs none.
    """

    loader: FactLoader = _no_facts
    facts: dict[FactKey, dict[str, Any] | None] = field(default_factory=dict)
    dirty: set[FactKey] = field(default_factory=set)
    deltas: defaultdict[TallyKey, int] = field(default_factory=lambda: defaultdict(int))
    opened_reports: dict[int, OpenReportRow] = field(default_factory=dict)
    closed_reports: set[int] = field(default_factory=set)

    def preload(self, keys: Iterable[FactKey]) -> None:
        """Fetch the facts not yet in memory, one query per kind."""
        wanted: defaultdict[str, set[str]] = defaultdict(set)
        for key in keys:
            if key not in self.facts:
                wanted[key[0]].add(key[1])
        for kind, refs in wanted.items():
            found = self.loader(kind, refs)
            for ref in refs:
                self.facts[(kind, ref)] = found.get(ref)

    def fact(self, kind: str, ref: object) -> dict[str, Any] | None:
        key = (kind, str(ref))
        if key not in self.facts:
            self.preload([key])
        return self.facts[key]

    def set_fact(self, kind: str, ref: object, data: dict[str, Any]) -> None:
        key = (kind, str(ref))
        self.facts[key] = data
        self.dirty.add(key)

    def add(self, metric: str, day: date, kelurahan: str, key: str, n: int) -> None:
        if n:
            self.deltas[(metric, day, kelurahan, key)] += n

    def open_report(self, row: OpenReportRow) -> None:
        self.closed_reports.discard(row.report_id)
        self.opened_reports[row.report_id] = row

    def close_report(self, report_id: int) -> None:
        self.opened_reports.pop(report_id, None)
        self.closed_reports.add(report_id)


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def month_day(month: str) -> date:
    """Return the first day of a "YYYY-MM" month."""
    return date.fromisoformat(f"{month[:7]}-01")


def needs(event: Event) -> list[FactKey]:
    """The facts `apply` will read for this event, so a batch loads them at once."""
    p = event.payload
    kind = event.type
    keys: list[tuple[str, object]] = []
    if kind.startswith("registry.building."):
        keys.append(("building", p["building_id"]))
    elif kind.startswith("registry.household."):
        keys += [("household", p["household_id"]), ("building", p["building_id"])]
    elif kind.startswith("registry.member."):
        keys += [("member", p["member_id"]), ("household", p["household_id"])]
    elif kind.startswith("registry.plate."):
        keys.append(("plate", p["plate_id"]))
        if "building_id" in p:
            keys.append(("building", p["building_id"]))
    elif kind.startswith("wallet.account."):
        keys.append(("account", p["account_id"]))
        if p.get("member_id") is not None:
            keys.append(("member", p["member_id"]))
    elif kind == "wallet.transfer.posted":
        keys += [
            ("account", p["debit_account_id"]),
            ("account", p["credit_account_id"]),
        ]
    elif kind.startswith("levy."):
        keys.append(("bill", p["bill_id"]))
    elif kind == "waste.site.saved":
        keys.append(("site", p["site_id"]))
    elif kind.startswith("waste.container."):
        keys.append(("container", p["container_id"]))
    elif kind == "waste.route.planned":
        keys.append(("plan", p["plan_id"]))
        keys += [("building", stop[2:]) for stop in p["stops"] if stop[:2] == "b:"]
    elif kind == "waste.pickup.recorded":
        if p["building_id"] is not None:
            keys.append(("building", p["building_id"]))
        if p["container_id"] is not None:
            keys.append(("container", p["container_id"]))
        if p["plan_id"] is not None:
            keys.append(("plan", p["plan_id"]))
    elif kind == "waste.pickup.reviewed":
        keys.append(("pickup", p["pickup_id"]))
    elif kind.startswith("wastereports.report."):
        keys.append(("report", p["report_id"]))
    elif kind == "wastebank.unit.opened":
        keys.append(("site", p["site_id"]))
    elif kind == "wastebank.deposit.recorded":
        keys.append(("unit", p["unit_id"]))
    elif kind == "wastebank.deposit.posted":
        keys.append(("deposit", p["deposit_id"]))
    return [(fact_kind, str(ref)) for fact_kind, ref in keys]


def apply(event: Event, state: State) -> None:
    """Fold one event into `state`; events of other types change nothing."""
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(event, state)


def _move(
    state: State,
    metric: str,
    day: date,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    key: str = "",
) -> None:
    """Count an object out of its old place and into its new one.

    A state counts when its "on" flag is set; "k" is its kelurahan code and
    "g" (when present) overrides `key`.
    """
    if old and old.get("on"):
        state.add(metric, day, old["k"], old.get("g", key), -1)
    if new and new.get("on"):
        state.add(metric, day, new["k"], new.get("g", key), +1)


def _building(event: Event, state: State) -> None:
    p = event.payload
    old = state.fact("building", p["building_id"])
    new = {"k": p["kelurahan_code"], "on": p["status"] != "demolished"}
    _move(state, "buildings", local_day(event.at), old, new)
    state.set_fact("building", p["building_id"], new)


def _household(event: Event, state: State) -> None:
    p = event.payload
    old = state.fact("household", p["household_id"])
    building = state.fact("building", p["building_id"]) or {"k": ""}
    new = {"k": building["k"], "on": p["status"] == "active"}
    _move(state, "households", local_day(event.at), old, new)
    state.set_fact("household", p["household_id"], new)


def _member(event: Event, state: State) -> None:
    # A member's kelurahan is its household's when the member event is folded.
    # It places the member's citizen wallet (see `_account`).
    p = event.payload
    household = state.fact("household", p["household_id"]) or {"k": ""}
    state.set_fact("member", p["member_id"], {"k": household["k"]})


def _plate(event: Event, state: State) -> None:
    p = event.payload
    day = local_day(event.at)
    plate = state.fact("plate", p["plate_id"])
    if event.type == "registry.plate.issued":
        building = state.fact("building", p["building_id"]) or {"k": ""}
        plate = {"k": building["k"], "on": True, "installed": False}
        state.add("plates_issued", day, plate["k"], "", 1)
    elif plate is None or not plate["on"]:
        return
    elif event.type == "registry.plate.installed":
        if plate["installed"]:
            return
        plate = {**plate, "installed": True}
        state.add("plates_installed", day, plate["k"], "", 1)
    else:  # revoked
        state.add("plates_issued", day, plate["k"], "", -1)
        if plate["installed"]:
            state.add("plates_installed", day, plate["k"], "", -1)
        plate = {**plate, "on": False}
    state.set_fact("plate", p["plate_id"], plate)


def _account(event: Event, state: State) -> None:
    p = event.payload
    old = state.fact("account", p["account_id"])
    member = None
    if p.get("member_id") is not None and p["kind"] == "citizen":
        member = state.fact("member", p["member_id"])
    # NOTE: a wallet stays in the kelurahan its member had when the account
    # was last opened or changed, even if the household moves later.
    kelurahan = member["k"] if member else ""
    new = {"k": kelurahan, "g": p["kind"], "on": p["status"] == "active"}
    _move(state, "wallets", local_day(event.at), old, new)
    state.set_fact("account", p["account_id"], new)


def _transfer(event: Event, state: State) -> None:
    p = event.payload
    day = local_day(event.at)
    state.add("transfers", day, "", p["kind"], 1)
    state.add("transfer_value", day, "", p["kind"], p["amount"])
    sides = (
        state.fact("account", p["debit_account_id"]),
        state.fact("account", p["credit_account_id"]),
    )
    citizen = next((side for side in sides if side and side["g"] == "citizen"), None)
    if citizen is not None:
        state.add("transfers_citizen", day, citizen["k"], p["kind"], 1)
        state.add("transfer_value_citizen", day, citizen["k"], p["kind"], p["amount"])


def _bill_issued(event: Event, state: State) -> None:
    p = event.payload
    bill = {"k": p["kelurahan_code"], "m": p["month"], "a": p["amount"], "p": 0}
    state.add("levy_billed", month_day(p["month"]), bill["k"], "", p["amount"])
    state.set_fact("bill", p["bill_id"], {**bill, "on": True})


def _bill_paid(event: Event, state: State) -> None:
    p = event.payload
    bill = state.fact("bill", p["bill_id"])
    if bill is None:
        return
    # paid_amount is the bill's running total, so a replayed payment adds nothing.
    delta = p["paid_amount"] - bill["p"]
    if bill["on"]:
        state.add("levy_collected", month_day(bill["m"]), bill["k"], "", delta)
    state.add("levy_payments", local_day(event.at), bill["k"], p["channel"], delta)
    state.set_fact("bill", p["bill_id"], {**bill, "p": p["paid_amount"]})


def _bill_cancelled(event: Event, state: State) -> None:
    p = event.payload
    bill = state.fact("bill", p["bill_id"])
    if bill is None or not bill["on"]:
        return
    month = month_day(bill["m"])
    state.add("levy_billed", month, bill["k"], "", -bill["a"])
    state.add("levy_collected", month, bill["k"], "", -bill["p"])
    state.set_fact("bill", p["bill_id"], {**bill, "on": False})


def _site_saved(event: Event, state: State) -> None:
    p = event.payload
    state.set_fact("site", p["site_id"], {"k": p["kelurahan_code"] or ""})


def _container_saved(event: Event, state: State) -> None:
    p = event.payload
    old = state.fact("container", p["container_id"]) or {"waiting": False}
    new = {"k": p["kelurahan_code"], "waiting": old["waiting"]}
    if old.get("k") not in (None, new["k"]) and old["waiting"]:
        day = local_day(event.at)
        state.add("containers_waiting", day, old["k"], "", -1)
        state.add("containers_waiting", day, new["k"], "", 1)
    state.set_fact("container", p["container_id"], new)


def _threshold_crossed(event: Event, state: State) -> None:
    p = event.payload
    container = state.fact("container", p["container_id"])
    if container is None or container["waiting"]:
        return
    state.add("containers_waiting", local_day(event.at), container["k"], "", 1)
    state.set_fact("container", p["container_id"], {**container, "waiting": True})


def _route_planned(event: Event, state: State) -> None:
    p = event.payload
    plan_id = str(p["plan_id"])
    old = state.fact("plan", plan_id)
    day = date.fromisoformat(p["date"])
    if old is not None:
        old_day = date.fromisoformat(old["d"])
        state.add("route_stops", old_day, "", plan_id, -old["n"])
        for kelurahan, n in old.get("b", {}).items():
            state.add("building_stops", old_day, kelurahan, "", -n)
    buildings: defaultdict[str, int] = defaultdict(int)
    for stop in p["stops"]:
        if stop[:2] == "b:":
            building = state.fact("building", stop[2:]) or {"k": ""}
            buildings[building["k"]] += 1
    state.add("route_stops", day, "", plan_id, len(p["stops"]))
    for kelurahan, n in buildings.items():
        state.add("building_stops", day, kelurahan, "", n)
    plan = {"d": p["date"], "n": len(p["stops"]), "b": dict(buildings)}
    state.set_fact("plan", plan_id, plan)


def _pickup(event: Event, state: State) -> None:
    p = event.payload
    day = local_day(parse_time(p["scanned_at"]))
    place = None
    if p["building_id"] is not None:
        place = state.fact("building", p["building_id"])
    container = None
    if p["container_id"] is not None:
        container = state.fact("container", p["container_id"])
        place = place or container
    kelurahan = place["k"] if place else ""
    if p["duplicate_of"] is None:
        state.add("pickups", day, kelurahan, p["outcome"], 1)
        if p["plan_id"] is not None:
            plan = state.fact("plan", p["plan_id"])
            plan_day = date.fromisoformat(plan["d"]) if plan else day
            state.add("route_done", plan_day, "", str(p["plan_id"]), 1)
            # A building stop is served on schedule when it is scanned on the
            # plan's own date, whatever the outcome (the key keeps it).
            if plan and plan_day == day and p["building_id"] is not None:
                state.add("building_stops_served", day, kelurahan, p["outcome"], 1)
        if p["outcome"] == "collected":
            grams, estimated = pickup_grams(p["weight_g"], p["volume_l"], p["category"])
            state.add("tonnage_g", day, kelurahan, p["category"], grams)
            state.add("tonnage_est_g", day, kelurahan, p["category"], estimated)
            if container is not None and container["waiting"]:
                state.add("containers_waiting", day, container["k"], "", -1)
                state.set_fact(
                    "container", p["container_id"], {**container, "waiting": False}
                )
    if p["review"] == "pending":
        state.add("pickups_flagged", day, kelurahan, "", 1)
        state.set_fact("pickup", p["pickup_id"], {"k": kelurahan, "on": True})


def _pickup_reviewed(event: Event, state: State) -> None:
    p = event.payload
    pickup = state.fact("pickup", p["pickup_id"])
    if pickup is None or not pickup["on"] or p["review"] == "pending":
        return
    state.add("pickups_flagged", local_day(event.at), pickup["k"], "", -1)
    state.set_fact("pickup", p["pickup_id"], {**pickup, "on": False})


def _report_filed(event: Event, state: State) -> None:
    p = event.payload
    report = {
        "k": p["kelurahan_code"] or "",
        "kind": p["kind"],
        "filed": event.at.isoformat(),
        "due": p["sla_due_at"],
        "on": True,
        "s": 0,
    }
    state.add("reports_filed", local_day(event.at), report["k"], p["kind"], 1)
    state.set_fact("report", p["report_id"], report)
    state.open_report(_open_row(p["report_id"], report))


def _report_updated(event: Event, state: State) -> None:
    p = event.payload
    report = state.fact("report", p["report_id"])
    if report is None:
        return
    now_open = p["to_status"] in OPEN_REPORT_STATUSES
    if report["on"] == now_open:
        return
    day = local_day(event.at)
    if now_open:
        state.add("reports_closed", day, report["k"], report["kind"], -1)
        state.add(
            "report_close_s", day, report["k"], report["kind"], -report.get("s", 0)
        )
        state.open_report(_open_row(p["report_id"], report))
        seconds = 0
    else:
        seconds = int((event.at - parse_time(report["filed"])).total_seconds())
        state.add("reports_closed", day, report["k"], report["kind"], 1)
        state.add("report_close_s", day, report["k"], report["kind"], seconds)
        state.close_report(p["report_id"])
    changed = {**report, "on": now_open, "s": seconds}
    state.set_fact("report", p["report_id"], changed)


def _open_row(report_id: int, report: dict[str, Any]) -> OpenReportRow:
    return OpenReportRow(
        report_id=report_id,
        kind=report["kind"],
        kelurahan_code=report["k"],
        filed_at=parse_time(report["filed"]),
        sla_due_at=parse_time(report["due"]),
    )


def _bank_unit(event: Event, state: State) -> None:
    p = event.payload
    site = state.fact("site", p["site_id"]) or {"k": ""}
    state.set_fact("unit", p["unit_id"], {"k": site["k"]})


def _deposit_recorded(event: Event, state: State) -> None:
    p = event.payload
    unit = state.fact("unit", p["unit_id"]) or {"k": ""}
    grams = [line["weight_g"] for line in p["items"]]
    state.set_fact("deposit", p["deposit_id"], {"k": unit["k"], "w": grams})


def _deposit_posted(event: Event, state: State) -> None:
    """Count the accepted items' grams; a deposit posts once, from pending."""
    p = event.payload
    deposit = state.fact("deposit", p["deposit_id"])
    if deposit is None or deposit.get("posted"):
        return
    rejected = set(p["rejected_items"])
    grams = sum(w for i, w in enumerate(deposit["w"]) if i not in rejected)
    day = local_day(event.at)
    state.add("bank_deposit_g", day, deposit["k"], "", grams)
    state.add("bank_deposit_value", day, deposit["k"], "", p["posted_value"])
    state.set_fact("deposit", p["deposit_id"], {"k": deposit["k"], "posted": True})


_HANDLERS: dict[str, Callable[[Event, State], None]] = {
    "registry.building.registered": _building,
    "registry.building.changed": _building,
    "registry.household.registered": _household,
    "registry.household.moved": _household,
    "registry.household.retired": _household,
    "registry.member.added": _member,
    "registry.member.changed": _member,
    "registry.member.removed": _member,
    "registry.plate.issued": _plate,
    "registry.plate.installed": _plate,
    "registry.plate.revoked": _plate,
    "wallet.account.opened": _account,
    "wallet.account.changed": _account,
    "wallet.transfer.posted": _transfer,
    "levy.bill.issued": _bill_issued,
    "levy.payment.recorded": _bill_paid,
    "levy.bill.cancelled": _bill_cancelled,
    "waste.site.saved": _site_saved,
    "waste.container.saved": _container_saved,
    "waste.container.threshold_crossed": _threshold_crossed,
    "waste.route.planned": _route_planned,
    "waste.pickup.recorded": _pickup,
    "waste.pickup.reviewed": _pickup_reviewed,
    "wastereports.report.filed": _report_filed,
    "wastereports.report.updated": _report_updated,
    "wastebank.unit.opened": _bank_unit,
    "wastebank.deposit.recorded": _deposit_recorded,
    "wastebank.deposit.posted": _deposit_posted,
}
assert set(_HANDLERS) == set(EVENT_TYPES)
