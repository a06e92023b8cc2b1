"""The waste banks' replay checker for `ledger verify`, registered as "waste-bank".

Replays the wastebank events to rebuild each unit, membership, price list,
deposit (with its items) and sale (with its items), and compares them with
the tables, naming the first fields that disagree. It also checks that each
deposit's pending and posted wallet transfers carry the deposit's value, so a
deposit cannot be paid more than its items are worth.
"""

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from kotacerdas.waste.bank.models import (
    Deposit,
    DepositItem,
    Membership,
    PriceItem,
    PriceList,
    Sale,
    SaleItem,
    Unit,
)

MAX_PROBLEMS = 20
State = dict[int, tuple[int, dict[str, Any]]]


class WasteBankChecker:
    name = "waste-bank"

    def __init__(self) -> None:
        self.units: State = {}
        self.memberships: State = {}
        self.price_lists: State = {}
        self.deposits: State = {}
        self.sales: State = {}
        # Waste bank credit transfers by client id: (phase event, amount).
        self.transfers: dict[str, tuple[str, int]] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        payload = envelope.get("payload") or {}
        if event_type.startswith("wallet.transfer."):
            if payload.get("kind") == "waste_bank_credit":
                self.transfers[payload["client_id"]] = (event_type, payload["amount"])
            return None
        if not event_type.startswith("wastebank."):
            return None
        handler = getattr(
            self, "_" + event_type.removeprefix("wastebank.").replace(".", "_"), None
        )
        if handler is None:
            return None
        result: str | None = handler(seq, payload)
        return result

    def _unit_opened(self, seq: int, p: dict[str, Any]) -> None:
        self.units[p["unit_id"]] = (
            seq,
            {k: p[k] for k in ("code", "kind", "site_id", "account_id")},
        )

    def _member_joined(self, seq: int, p: dict[str, Any]) -> None:
        self.memberships[p["membership_id"]] = (
            seq,
            {k: p[k] for k in ("unit_id", "number", "account_id", "joined_on")},
        )

    def _prices_set(self, seq: int, p: dict[str, Any]) -> None:
        self.price_lists[p["price_list_id"]] = (
            seq,
            {
                "unit_id": p["unit_id"],
                "valid_from": p["valid_from"],
                "prices": p["prices"],
            },
        )

    def _deposit_recorded(self, seq: int, p: dict[str, Any]) -> str | None:
        reserved = self.transfers.get(p["transfer_client_id"])
        if reserved != ("wallet.transfer.pending", p["total_value"]):
            return (
                f"entry {seq}: deposit {p['deposit_id']} of Rp{p['total_value']} names "
                f"transfer {p['transfer_client_id']}, but the journal has {reserved}"
            )
        items = [{**line, "accepted": True} for line in p["items"]]
        if sum(line["value"] for line in items) != p["total_value"]:
            return f"entry {seq}: deposit {p['deposit_id']} items do not add up to its total"
        self.deposits[p["deposit_id"]] = (
            seq,
            {
                "unit_id": p["unit_id"],
                "membership_id": p["membership_id"],
                "client_id": p["client_id"],
                "total_value": p["total_value"],
                "posted_value": 0,
                "status": "pending",
                "reason": "",
                "items": items,
            },
        )
        return None

    def _deposit_posted(self, seq: int, p: dict[str, Any]) -> str | None:
        known = self.deposits.get(p["deposit_id"])
        if known is None or known[1]["status"] != "pending":
            return f"entry {seq}: posts deposit {p['deposit_id']}, which is not pending"
        state = known[1]
        items = [
            {**line, "accepted": position not in p["rejected_items"]}
            for position, line in enumerate(state["items"])
        ]
        accepted = sum(line["value"] for line in items if line["accepted"])
        posted = self.transfers.get(p["transfer_client_id"])
        if accepted != p["posted_value"] or posted != (
            "wallet.transfer.posted",
            accepted,
        ):
            return (
                f"entry {seq}: deposit {p['deposit_id']} posts Rp{p['posted_value']}, "
                f"its accepted items are worth Rp{accepted} and the transfer is {posted}"
            )
        self.deposits[p["deposit_id"]] = (
            seq,
            {**state, "status": "posted", "posted_value": accepted, "items": items},
        )
        return None

    def _deposit_voided(self, seq: int, p: dict[str, Any]) -> str | None:
        known = self.deposits.get(p["deposit_id"])
        if known is None or known[1]["status"] != "pending":
            return f"entry {seq}: voids deposit {p['deposit_id']}, which is not pending"
        state = known[1]
        items = [{**line, "accepted": False} for line in state["items"]]
        self.deposits[p["deposit_id"]] = (
            seq,
            {**state, "status": "voided", "reason": p["reason"], "items": items},
        )
        return None

    def _sale_recorded(self, seq: int, p: dict[str, Any]) -> None:
        self.sales[p["sale_id"]] = (
            seq,
            {
                k: p[k]
                for k in (
                    "unit_id",
                    "offtaker_id",
                    "number",
                    "sold_on",
                    "total_value",
                    "items",
                )
            },
        )

    def finish(self) -> list[str]:
        problems = _compare("waste bank unit", self.units, _units())
        problems += _compare("waste bank membership", self.memberships, _memberships())
        problems += _compare("waste bank price list", self.price_lists, _price_lists())
        problems += _compare("waste bank deposit", self.deposits, _deposits())
        problems += _compare("waste bank sale", self.sales, _sales())
        return problems[:MAX_PROBLEMS]


def _rows(queryset: Any, *fields: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for values in queryset.order_by("id").values("id", *fields):
        row: dict[str, Any] = dict(values)
        yield row.pop("id"), row


def _units() -> Iterator[tuple[int, dict[str, Any]]]:
    return _rows(Unit.objects, "code", "kind", "site_id", "account_id")


def _memberships() -> Iterator[tuple[int, dict[str, Any]]]:
    rows = _rows(Membership.objects, "unit_id", "number", "account_id", "joined_on")
    for row_id, row in rows:
        yield row_id, {**row, "joined_on": row["joined_on"].isoformat()}


def _price_lists() -> Iterator[tuple[int, dict[str, Any]]]:
    prices: dict[int, dict[str, int]] = defaultdict(dict)
    for list_id, code, price in PriceItem.objects.values_list(
        "price_list_id", "material__code", "price_per_kg"
    ):
        prices[list_id][code] = price
    for row_id, row in _rows(PriceList.objects, "unit_id", "valid_from"):
        yield (
            row_id,
            {
                **row,
                "valid_from": row["valid_from"].isoformat(),
                "prices": prices.get(row_id, {}),
            },
        )


def _lines(model: Any, parent: str, extra: tuple[str, ...]) -> dict[int, list[Any]]:
    lines: dict[int, list[Any]] = defaultdict(list)
    fields = ("material__code", "weight_g", "price_per_kg", "value", *extra)
    for row in model.objects.order_by(parent, "id").values(parent, *fields):
        line = {
            "material": row["material__code"],
            **{name: row[name] for name in fields[1:]},
        }
        lines[row[parent]].append(line)
    return lines


def _deposits() -> Iterator[tuple[int, dict[str, Any]]]:
    items = _lines(DepositItem, "deposit_id", ("accepted",))
    rows = _rows(
        Deposit.objects,
        "unit_id",
        "membership_id",
        "client_id",
        "total_value",
        "posted_value",
        "status",
        "reason",
    )
    for row_id, row in rows:
        yield row_id, {**row, "items": items.get(row_id, [])}


def _sales() -> Iterator[tuple[int, dict[str, Any]]]:
    items = _lines(SaleItem, "sale_id", ())
    rows = _rows(
        Sale.objects, "unit_id", "offtaker_id", "number", "sold_on", "total_value"
    )
    for row_id, row in rows:
        yield (
            row_id,
            {
                **row,
                "sold_on": row["sold_on"].isoformat(),
                "items": items.get(row_id, []),
            },
        )


def _compare(kind: str, expected: State, rows: Any) -> list[str]:
    problems = []
    unseen = dict(expected)
    for row_id, actual in rows:
        known = unseen.pop(row_id, None)
        if known is None:
            problems.append(f"{kind} {row_id}: in the table but no event records it")
            continue
        seq, state = known
        differing = sorted(k for k in state if state[k] != actual.get(k))
        if differing:
            details = ", ".join(
                f"{k} is {actual.get(k)!r} but the journal says {state[k]!r}"
                for k in differing
            )
            problems.append(f"{kind} {row_id} (last event {seq}): {details}")
        if len(problems) >= MAX_PROBLEMS:
            return problems
    problems.extend(
        f"{kind} {row_id}: recorded in entry {seq} but missing from the table"
        for row_id, (seq, _state) in sorted(unseen.items())
    )
    return problems
