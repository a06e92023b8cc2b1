"""The wallet's replay checker for `ledger verify`.

Replays every wallet event to recompute each account's four totals and each
transfer's status, then compares them with the tables and names the first
account or transfer that disagrees. It also confirms that the ledger balances:
the sum of all credits equals the sum of all debits, posted and pending.
"""

from typing import Any

from kotacerdas.wallet.models import Account, Transfer

TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
STATE_FIELDS = ("number", "kind", "code", "member_id", "tier", "status")
MAX_PROBLEMS = 20


class WalletChecker:
    name = "wallet"

    def __init__(self) -> None:
        self.accounts: dict[int, dict[str, Any]] = {}
        self.totals: dict[int, dict[str, int]] = {}
        # client id -> (seq, status, amount, debit id, credit id)
        self.transfers: dict[str, tuple[int, str, int, int, int]] = {}

    def feed(self, seq: int, event_type: str, envelope: dict[str, Any]) -> str | None:
        if not event_type.startswith("wallet."):
            return None
        payload = envelope.get("payload") or {}
        if event_type in ("wallet.account.opened", "wallet.account.changed"):
            self.accounts[payload["account_id"]] = {
                "seq": seq,
                **{name: payload[name] for name in STATE_FIELDS},
            }
            self.totals.setdefault(payload["account_id"], dict.fromkeys(TOTALS, 0))
            return None
        if event_type == "wallet.fee.charged":
            return self._check_fee(seq, payload)
        debit = self.totals.get(payload["debit_account_id"])
        credit = self.totals.get(payload["credit_account_id"])
        if debit is None or credit is None:
            return f"entry {seq}: {event_type} names an account that was never opened"
        amount = payload["amount"]
        client_id = payload["client_id"]
        if event_type == "wallet.transfer.pending":
            debit["debits_pending"] += amount
            credit["credits_pending"] += amount
            self.transfers[client_id] = self._row(seq, "pending", payload)
            return None
        pending_id = payload.get("pending_client_id")
        if pending_id is not None:
            reservation = self.transfers.get(pending_id)
            if reservation is None or reservation[1] != "pending":
                return f"entry {seq}: {event_type} resolves {pending_id}, which is not pending"
            reserved = reservation[2]
            debit["debits_pending"] -= reserved
            credit["credits_pending"] -= reserved
            if event_type == "wallet.transfer.voided":
                status = "expired" if payload["reason"] == "expired" else "voided"
                self.transfers[pending_id] = (
                    *reservation[:1],
                    status,
                    *reservation[2:],
                )
                self.transfers[client_id] = self._row(seq, "voided", payload)
                return None
            self.transfers[pending_id] = (*reservation[:1], "posted", *reservation[2:])
        debit["debits_posted"] += amount
        credit["credits_posted"] += amount
        self.transfers[client_id] = self._row(seq, "posted", payload)
        return None

    def _check_fee(self, seq: int, payload: dict[str, Any]) -> str | None:
        """Check that a fee's parts sum to it and match its journalled transfers."""
        if payload["city_amount"] + payload["partner_amount"] != payload["fee_amount"]:
            return (
                f"entry {seq}: the parts of fee {payload['fee_code']} do not sum to it"
            )
        for part in ("city", "partner"):
            client_id = payload[f"{part}_client_id"]
            if client_id is None:
                continue
            row = self.transfers.get(client_id)
            if row is None or row[2] != payload[f"{part}_amount"]:
                return f"entry {seq}: the {part} part of a fee names transfer {client_id}, which does not match"
        return None

    @staticmethod
    def _row(
        seq: int, status: str, payload: dict[str, Any]
    ) -> tuple[int, str, int, int, int]:
        return (
            seq,
            status,
            payload["amount"],
            payload["debit_account_id"],
            payload["credit_account_id"],
        )

    def finish(self) -> list[str]:
        problems = self._check_accounts()
        problems.extend(self._check_transfers())
        debits = sum(
            t["debits_posted"] + t["debits_pending"] for t in self.totals.values()
        )
        credits = sum(
            t["credits_posted"] + t["credits_pending"] for t in self.totals.values()
        )
        if debits != credits:
            problems.append(
                f"wallet: the journal's debits (Rp{debits}) differ from its credits (Rp{credits})"
            )
        return problems[:MAX_PROBLEMS]

    def _check_accounts(self) -> list[str]:
        problems = []
        seen = set()
        fields = ("id", *TOTALS, *(f for f in STATE_FIELDS))
        for row in Account.objects.order_by("id").values(*fields).iterator():
            seen.add(row["id"])
            expected = self.accounts.get(row["id"])
            if expected is None:
                problems.append(f"wallet account {row['id']}: no event opened it")
                continue
            for name in STATE_FIELDS:
                if row[name] != expected[name]:
                    problems.append(
                        f"wallet account {row['id']}: {name} is {row[name]!r} but entry "
                        f"{expected['seq']} says {expected[name]!r}"
                    )
            totals = self.totals[row["id"]]
            for name in TOTALS:
                if row[name] != totals[name]:
                    problems.append(
                        f"wallet account {row['id']} (number {row['number']}): {name} "
                        f"is {row[name]} but the "
                        f"journal's transfers add up to {totals[name]}"
                    )
        for account_id in sorted(set(self.accounts) - seen):
            problems.append(
                f"wallet account {account_id}: opened in entry "
                f"{self.accounts[account_id]['seq']} but missing from the table"
            )
        return problems

    def _check_transfers(self) -> list[str]:
        problems = []
        seen = set()
        rows = Transfer.objects.order_by("id").values_list(
            "client_id",
            "status",
            "amount",
            "debit_account_id",
            "credit_account_id",
            "entry_seq",
        )
        for (
            client_id,
            status,
            amount,
            debit_id,
            credit_id,
            entry_seq,
        ) in rows.iterator():
            seen.add(client_id)
            expected = self.transfers.get(client_id)
            if expected is None:
                problems.append(f"wallet transfer {client_id}: no event records it")
                continue
            actual = (entry_seq, status, amount, debit_id, credit_id)
            if actual != expected:
                problems.append(
                    f"wallet transfer {client_id}: the table has (entry, status, amount, "
                    f"from, to) = {actual} but the journal says {expected}"
                )
        for client_id in sorted(set(self.transfers) - seen):
            problems.append(
                f"wallet transfer {client_id}: recorded in entry "
                f"{self.transfers[client_id][0]} but missing from the table"
            )
        return problems
