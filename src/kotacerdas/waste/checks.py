"""Replay checkers of the waste app for `ledger verify`.

Each class rebuilds one area's rows from its journal events and compares
them with the tables, naming the first rows that disagree. Other areas add
their checker class here beside `PickupChecker` and register it from their
own `register()`.
"""

from collections.abc import Iterable
from typing import Any

from kotacerdas.waste.models import Pickup, ServiceCredit

MAX_PROBLEMS = 20
# Fields of a pickup that its events fix, in the event's names.
PICKUP_FIELDS = (
    "client_id",
    "building_id",
    "container_id",
    "collector_id",
    "scanned_at",
    "outcome",
    "category",
    "weight_g",
    "volume_l",
    "distance_m",
    "duplicate_of",
    "flags",
    "review",
)
CREDIT_FIELDS = ("pickup_id", "building_id", "amount")
REVIEW_DECISIONS = ("confirmed", "dismissed")

State = dict[Any, tuple[int, dict[str, Any]]]


class PickupChecker:
    """Rebuilds pickups, their reviews and levy credits from waste events.

    A pickup's outcome, flags, repeat link and figures come from its
    `waste.pickup.recorded` event, and its review state from the later
    `waste.pickup.reviewed` event. A credit must name a posted refund
    transfer of the same amount.
    """

    name = "waste-pickups"

    def __init__(self) -> None:
        self.pickups: State = {}
        self.credits: State = {}
        # Posted refund transfers by client id: their amount.
        self.refunds: dict[str, int] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        payload = envelope.get("payload") or {}
        if event_type == "wallet.transfer.posted" and payload.get("kind") == "refund":
            self.refunds[payload["client_id"]] = payload["amount"]
        elif event_type == "waste.pickup.recorded":
            return self._recorded(seq, payload)
        elif event_type == "waste.pickup.reviewed":
            return self._reviewed(seq, payload)
        elif event_type == "waste.service_credit.granted":
            return self._credited(seq, payload)
        return None

    def _recorded(self, seq: int, payload: dict[str, Any]) -> str | None:
        pickup_id = payload["pickup_id"]
        if pickup_id in self.pickups:
            return f"entry {seq}: records pickup {pickup_id} a second time"
        repeat_of = payload["duplicate_of"]
        if repeat_of is not None and repeat_of not in self.pickups:
            return (
                f"entry {seq}: pickup {pickup_id} repeats pickup {repeat_of}, "
                "which no earlier event records"
            )
        self.pickups[pickup_id] = (
            seq,
            {name: payload[name] for name in PICKUP_FIELDS},
        )
        return None

    def _reviewed(self, seq: int, payload: dict[str, Any]) -> str | None:
        known = self.pickups.get(payload["pickup_id"])
        if known is None:
            return f"entry {seq}: reviews pickup {payload['pickup_id']}, which was never recorded"
        state = known[1]
        if state["review"] != "pending":
            return (
                f"entry {seq}: reviews pickup {payload['pickup_id']}, whose review "
                f"was {state['review']!r}, not 'pending'"
            )
        if payload["review"] not in REVIEW_DECISIONS:
            return f"entry {seq}: review decision {payload['review']!r} is unknown"
        self.pickups[payload["pickup_id"]] = (
            seq,
            {**state, "review": payload["review"]},
        )
        return None

    def _credited(self, seq: int, payload: dict[str, Any]) -> str | None:
        pickup_id = payload["pickup_id"]
        known = self.pickups.get(pickup_id)
        if known is None or known[1]["review"] != "confirmed":
            return f"entry {seq}: credits pickup {pickup_id}, which no review confirmed"
        transfer_id = payload["transfer_client_id"]
        if self.refunds.get(transfer_id) != payload["amount"]:
            return (
                f"entry {seq}: credit of Rp{payload['amount']} for pickup {pickup_id} "
                f"names transfer {transfer_id}, but the journal's posted refund with "
                f"that id has amount {self.refunds.get(transfer_id)}"
            )
        if transfer_id in self.credits:
            return f"entry {seq}: transfer {transfer_id} pays a second credit"
        self.credits[transfer_id] = (
            seq,
            {name: payload[name] for name in CREDIT_FIELDS},
        )
        return None

    def finish(self) -> list[str]:
        rows = (
            (
                row["id"],
                {
                    **row,
                    "scanned_at": _utc_text(row["scanned_at"]),
                    "duplicate_of": row["duplicate_of_id"],
                },
            )
            for row in Pickup.objects.order_by("id")
            .values(
                "id",
                "duplicate_of_id",
                *(f for f in PICKUP_FIELDS if f != "duplicate_of"),
            )
            .iterator(chunk_size=5000)
        )
        problems = _compare("pickup", self.pickups, rows)
        credits = (
            (row["transfer_client_id"], row)
            for row in ServiceCredit.objects.order_by("id")
            .values("transfer_client_id", *CREDIT_FIELDS)
            .iterator()
        )
        problems += _compare("service credit of transfer", self.credits, credits)
        return problems[:MAX_PROBLEMS]


def _utc_text(moment: Any) -> str:
    from kotacerdas.waste.pickups import scanned_at_text

    return scanned_at_text(moment)


def _compare(
    kind: str, expected: State, rows: Iterable[tuple[Any, dict[str, Any]]]
) -> list[str]:
    problems = []
    unseen = dict(expected)
    for row_id, actual in rows:
        known = unseen.pop(row_id, None)
        if known is None:
            problems.append(f"{kind} {row_id}: in the table but no event records it")
            continue
        seq, state = known
        differing = sorted(name for name in state if state[name] != actual.get(name))
        if differing:
            details = ", ".join(
                f"{name} is {actual.get(name)!r} but the journal says {state[name]!r}"
                for name in differing
            )
            problems.append(f"{kind} {row_id} (last event {seq}): {details}")
        if len(problems) >= MAX_PROBLEMS:
            return problems
    problems.extend(
        f"{kind} {row_id}: recorded in entry {seq} but missing from the table"
        for row_id, (seq, _state) in sorted(unseen.items())
    )
    return problems
