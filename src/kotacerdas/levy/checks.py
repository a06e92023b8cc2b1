"""The levy's replay checker for `ledger verify`.

Replays the levy events to recompute each bill's amount, paid amount and
status, each tariff and each payment, and compares them with the tables,
naming the first row that disagrees. It also checks that every payment points
at a posted wallet transfer of the same amount into the levy whose reference
note is the bill's number, so a payment cannot be recorded without the money.
"""

from typing import Any

from kotacerdas.levy.models import Bill, Payment, Tariff

MAX_PROBLEMS = 20
BILL_FIELDS = (
    "number",
    "building_id",
    "household_id",
    "month",
    "levy_class",
    "amount",
    "paid_amount",
    "status",
)


class LevyChecker:
    name = "levy"

    def __init__(self) -> None:
        self.tariffs: dict[int, tuple[int, dict[str, Any]]] = {}
        self.bills: dict[int, tuple[int, dict[str, Any]]] = {}
        # Payments by their transfer's client id.
        self.payments: dict[str, tuple[int, dict[str, Any]]] = {}
        # Posted levy transfers by client id: (amount, memo).
        self.transfers: dict[str, tuple[int, str]] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        payload = envelope.get("payload") or {}
        if event_type == "wallet.transfer.posted" and payload.get("kind") == "levy":
            self.transfers[payload["client_id"]] = (payload["amount"], payload["memo"])
        elif event_type == "levy.tariff.set":
            self.tariffs[payload["tariff_id"]] = (
                seq,
                {
                    "levy_class": payload["levy_class"],
                    "monthly_amount": payload["monthly_amount"],
                    "valid_from": payload["valid_from"],
                },
            )
        elif event_type == "levy.bill.issued":
            state = {name: payload.get(name) for name in BILL_FIELDS}
            state.update(paid_amount=0, status="open")
            self.bills[payload["bill_id"]] = (seq, state)
        elif event_type == "levy.payment.recorded":
            return self._pay(seq, payload)
        elif event_type == "levy.bill.cancelled":
            return self._cancel(seq, payload)
        return None

    def _pay(self, seq: int, payload: dict[str, Any]) -> str | None:
        known = self.bills.get(payload["bill_id"])
        if known is None:
            return (
                f"entry {seq}: pays bill {payload['bill_id']}, which was never issued"
            )
        state = known[1]
        amount = payload["amount"]

        transfer = self.transfers.get(payload["transfer_client_id"])
        if transfer != (amount, state["number"]):
            return (
                f"entry {seq}: payment of Rp{amount} on bill {state['number']} names "
                f"transfer {payload['transfer_client_id']}, but the journal's posted "
                f"levy transfer with that id has (amount, note) = {transfer}"
            )
        if state["status"] == "cancelled":
            return f"entry {seq}: pays bill {state['number']}, which was cancelled"

        paid = state["paid_amount"] + amount
        if paid > state["amount"]:
            return (
                f"entry {seq}: bill {state['number']} would be paid Rp{paid} "
                f"of Rp{state['amount']}"
            )
        status = "paid" if paid == state["amount"] else "partly_paid"
        if (payload["paid_amount"], payload["status"]) != (paid, status):
            return (
                f"entry {seq}: says bill {state['number']} is {payload['status']} with "
                f"Rp{payload['paid_amount']} paid, but its payments add up to Rp{paid}"
            )

        self.bills[payload["bill_id"]] = (
            seq,
            {**state, "paid_amount": paid, "status": status},
        )
        self.payments[payload["transfer_client_id"]] = (
            seq,
            {"bill_id": payload["bill_id"], "amount": amount},
        )
        return None

    def _cancel(self, seq: int, payload: dict[str, Any]) -> str | None:
        known = self.bills.get(payload["bill_id"])
        if known is None:
            return f"entry {seq}: cancels bill {payload['bill_id']}, which was never issued"
        if known[1]["paid_amount"]:
            return f"entry {seq}: cancels bill {known[1]['number']}, which has payments"
        self.bills[payload["bill_id"]] = (seq, {**known[1], "status": "cancelled"})
        return None

    def finish(self) -> list[str]:
        problems = self._compare(
            "levy tariff",
            self.tariffs,
            (
                (
                    row.pk,
                    {
                        **_values(row, ("levy_class", "monthly_amount")),
                        "valid_from": f"{row.valid_from:%Y-%m}",
                    },
                )
                for row in Tariff.objects.order_by("id").iterator()
            ),
        )
        problems += self._compare(
            "levy bill",
            self.bills,
            (
                (row["id"], {**row, "month": f"{row['month']:%Y-%m}"})
                for row in Bill.objects.order_by("id")
                .values("id", *BILL_FIELDS)
                .iterator(chunk_size=5000)
            ),
        )
        problems += self._compare(
            "levy payment of transfer",
            self.payments,
            (
                (
                    row["transfer__client_id"],
                    {"bill_id": row["bill_id"], "amount": row["amount"]},
                )
                for row in Payment.objects.order_by("id")
                .values("bill_id", "amount", "transfer__client_id")
                .iterator()
            ),
        )
        return problems[:MAX_PROBLEMS]

    @staticmethod
    def _compare(
        kind: str,
        expected: dict[Any, tuple[int, dict[str, Any]]],
        rows: Any,
    ) -> list[str]:
        problems = []
        unseen = dict(expected)
        for row_id, actual in rows:
            known = unseen.pop(row_id, None)
            if known is None:
                problems.append(
                    f"{kind} {row_id}: in the table but no event records it"
                )
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


def _values(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}
