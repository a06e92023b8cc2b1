"""The partner costs' replay checker for `ledger verify`, registered as "sharing".

Replays the cost events to rebuild every cost row, and compares each with the
table: pilot, category, date, amount, the salted hash of the description, the
row it corrects and the journal entry. It names the first rows that disagree
and every row that no event recorded.
"""

from typing import Any

from kotacerdas.journal.services import salted_hash
from kotacerdas.sharing.models import PartnerCost

MAX_PROBLEMS = 20
EVENT_TYPES = ("sharing.cost.recorded", "sharing.cost.corrected")


class SharingChecker:
    name = "sharing"

    def __init__(self) -> None:
        # Cost id -> (journal entry, the fields the event recorded).
        self.costs: dict[int, tuple[int, dict[str, Any]]] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        if event_type not in EVENT_TYPES:
            return None
        payload = envelope["payload"]
        replaced = payload.get("corrects_cost_id")
        if replaced is not None and replaced not in self.costs:
            return f"entry {seq}: cost {payload['cost_id']} corrects unknown cost {replaced}"
        self.costs[payload["cost_id"]] = (seq, payload)
        return None

    def finish(self) -> list[str]:
        problems = []
        rows = PartnerCost.objects.select_related("pilot").order_by("pk")
        seen = set()
        for row in rows.iterator(chunk_size=2000):
            seen.add(row.pk)
            problem = self._compare(row)
            if problem:
                problems.append(problem)
            if len(problems) >= MAX_PROBLEMS:
                return problems
        for cost_id in sorted(set(self.costs) - seen)[: MAX_PROBLEMS - len(problems)]:
            problems.append(f"partner cost {cost_id} is journaled but not in the table")
        return problems

    def _compare(self, row: PartnerCost) -> str | None:
        recorded = self.costs.get(row.pk)
        if recorded is None:
            return f"partner cost {row.pk} has no journal entry"
        seq, payload = recorded
        table = {
            "pilot_id": row.pilot_id,
            "pilot_slug": row.pilot.slug,
            "category": row.category,
            "incurred_on": row.incurred_on.isoformat(),
            "amount_rupiah": row.amount_rupiah,
            "description_hash": salted_hash(row.description),
            "corrects_cost_id": row.corrects_id,
        }
        for key, value in table.items():
            if payload.get(key) != value:
                return f"partner cost {row.pk}: {key} differs from entry {seq}"
        if row.entry_seq != seq:
            return f"partner cost {row.pk}: names entry {row.entry_seq}, not {seq}"
        return None
