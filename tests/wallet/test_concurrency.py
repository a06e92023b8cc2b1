"""Many client processes moving money at once on PostgreSQL, retrying ids.

These tests commit for real (`transaction=True`): the clients are separate
processes on the test database, each with its own connection, so row locks,
unique constraints and the journal head lock are exercised as in production.
SQLite takes one writer at a time, so there is nothing to race there.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Count, Sum
from tests.wallet.concurrent_client import client_id, operations, run

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet import flows, services
from kotacerdas.wallet.models import Account, AccountKind, Tier, Transfer
from kotacerdas.wallet.services import TransferRequest

CLIENT = Path(__file__).with_name("concurrent_client.py")
WORKERS = 16
OPERATIONS = 40
CITIZENS = 20
FUNDING = 300_000


def database_url() -> str:
    """Return a URL for the test database, which the client processes share."""
    settings = connection.settings_dict
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def start_client(plan_file: Path, worker: str, output: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
        "DATABASE_URL": database_url(),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, str(CLIENT), str(plan_file), worker, str(output)]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen, timeout_s: float) -> str:
    """Wait for a client; return its error output if it failed, else ""."""
    code = process.wait(timeout=timeout_s)
    log = process.stderr.read().decode() if process.stderr else ""
    return "" if code == 0 else log[-2000:]


def open_citizens(count: int) -> list[Account]:
    accounts = []
    for number in range(count):
        account = services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)
        services.top_up(account.number, FUNDING, transfer_id=f"fund-{number}")
        accounts.append(account)
    return accounts


def money_totals() -> dict[str, int]:
    totals = Account.objects.aggregate(
        debits_posted=Sum("debits_posted"),
        credits_posted=Sum("credits_posted"),
        debits_pending=Sum("debits_pending"),
        credits_pending=Sum("credits_pending"),
    )
    return {name: int(value or 0) for name, value in totals.items()}


def totals_from_transfers() -> dict[int, dict[str, int]]:
    """Recompute each account's four totals from the transfer rows alone."""
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in Transfer.objects.values(
        "debit_account_id", "credit_account_id", "amount", "phase", "status"
    ):
        debit = totals[row["debit_account_id"]]
        credit = totals[row["credit_account_id"]]
        if row["phase"] in ("single", "post"):
            debit["debits_posted"] += row["amount"]
            credit["credits_posted"] += row["amount"]
        elif row["phase"] == "pending" and row["status"] == "pending":
            debit["debits_pending"] += row["amount"]
            credit["credits_pending"] += row["amount"]
    return totals


@pytest.mark.django_db(transaction=True)
def test_parallel_clients_keep_ledger(city, postgres_only, tmp_path) -> None:
    citizens = open_citizens(CITIZENS)
    merchant = services.open_account(AccountKind.MERCHANT, label="Toko Uji")
    settlement = services.settlement_account()
    before = money_totals()
    plan = {
        "seed": 1374,
        "workers": WORKERS,
        "operations": OPERATIONS,
        "citizens": [a.number for a in citizens],
        "merchant": merchant.number,
        "ready_dir": str(tmp_path),
    }
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))

    outputs = [tmp_path / f"results-{worker}.json" for worker in range(WORKERS)]
    processes = [
        start_client(plan_file, str(worker), output)
        for worker, output in enumerate(outputs)
    ]
    failures = [log for log in (finish(p, 600) for p in processes) if log]
    assert not failures, f"a client process failed: {failures[0]}"
    calls = [call for output in outputs for call in json.loads(output.read_text())]

    errors = [call for call in calls if call["outcome"] == "error"]
    assert not errors, f"{len(errors)} calls raised, the first: {errors[0]['error']}"
    accepted: dict[str, set[int]] = defaultdict(set)
    for call in calls:
        if call["outcome"] == "ok":
            accepted[call["id"]].add(call["pk"])
    twice = {i: pks for i, pks in accepted.items() if len(pks) > 1}
    assert not twice, f"one id acknowledged as different transfers: {twice}"
    assert len(accepted) > WORKERS * OPERATIONS // 4, "too few transfers went through"

    # A call that started after another call with its id was acknowledged must
    # return that transfer, whatever the balances are by then.
    first_end = {}
    for call in calls:
        if call["outcome"] == "ok":
            first_end[call["id"]] = min(first_end.get(call["id"], 1e18), call["end"])
    late = [
        call
        for call in calls
        if call["outcome"] != "ok" and call["start"] > first_end.get(call["id"], 1e18)
    ]
    assert not late, f"a retry after acknowledgement was rejected: {late[0]}"

    stored = dict(
        Transfer.objects.exclude(client_id__startswith="fund-").values_list(
            "client_id", "pk"
        )
    )
    assert set(stored) == set(accepted), "stored transfers should be the acknowledged"
    assert all(stored[i] in pks for i, pks in accepted.items())
    duplicates = (
        Transfer.objects.values("client_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()

    after = money_totals()
    assert after["debits_posted"] == after["credits_posted"]
    assert after["debits_pending"] == after["credits_pending"]
    wallets = Account.objects.exclude(pk=settlement.pk)
    in_wallets = sum(a.balance for a in wallets)
    assert in_wallets == CITIZENS * FUNDING, "money in wallets should stay constant"
    settlement.refresh_from_db()
    assert settlement.balance == -CITIZENS * FUNDING
    assert before["debits_posted"] == CITIZENS * FUNDING
    for account in wallets:
        assert account.balance >= 0, account.number
        assert account.available >= 0, account.number

    recomputed = totals_from_transfers()
    for account in Account.objects.all():
        for name in ("debits_pending", "debits_posted"):
            assert getattr(account, name) == recomputed[account.pk][name], name
        for name in ("credits_pending", "credits_posted"):
            assert getattr(account, name) == recomputed[account.pk][name], name

    report = verify_ledger(node_verifier())
    assert report.ok, report.problems

    # Every acknowledged request, sent once more now that all is quiet.
    for worker in range(WORKERS):
        for operation in operations(plan, worker):
            if client_id(operation) in accepted:
                again = run(operation)
                assert again["outcome"] == "ok", again
                assert again["pk"] in accepted[client_id(operation)]


def wait_until_blocked(count: int, timeout_s: float = 60) -> None:
    """Wait until `count` other sessions on this database wait for a lock."""
    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.05)
    raise AssertionError(f"{count} clients did not reach the row lock in time")


def race(tmp_path: Path, operation: dict[str, Any], lock: Account) -> list[dict]:
    """Send one operation from two processes that both wait on `lock`'s row."""
    plan_file = tmp_path / "race.json"
    plan_file.write_text(json.dumps({"race": operation}))
    outputs = [tmp_path / f"race-{n}.json" for n in range(2)]
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=lock.pk)
        processes = [start_client(plan_file, "race", out) for out in outputs]
        wait_until_blocked(2)
    failures = [log for log in (finish(p, 120) for p in processes) if log]
    assert not failures, f"a client process failed: {failures[0]}"
    return [json.loads(output.read_text())[0] for output in outputs]


@pytest.mark.django_db(transaction=True)
def test_same_id_waiting_on_lock_returns_transfer(city, postgres_only, tmp_path):
    payer, payee = open_citizens(2)
    # The payer has exactly enough for one: the second attempt, checked
    # against the balance after the first, would be rejected.
    request = TransferRequest(
        id="race-1", debit=payer.number, credit=payee.number, amount=FUNDING,
        kind="transfer",
    )  # fmt: skip
    operation = {"call": "submit", "request": asdict(request)}

    results = race(tmp_path, operation, payer)

    assert [r["outcome"] for r in results] == ["ok", "ok"], results
    assert results[0]["pk"] == results[1]["pk"]
    assert Transfer.objects.filter(client_id="race-1").count() == 1
    payer.refresh_from_db()
    assert payer.balance == 0


@pytest.mark.django_db(transaction=True)
def test_same_post_waiting_on_lock_returns_it(city, postgres_only, tmp_path):
    payer, payee = open_citizens(2)
    hold = TransferRequest(
        id="hold-1", debit=payer.number, credit=payee.number, amount=50_000,
        kind="transfer", pending=True,
    )  # fmt: skip
    services.submit(hold)
    operation = {"call": "post", "id": "hold-1-post", "pending_id": "hold-1"}
    operation["amount"] = 20_000

    results = race(tmp_path, operation, payer)

    assert [r["outcome"] for r in results] == ["ok", "ok"], results
    assert results[0]["pk"] == results[1]["pk"]
    payer.refresh_from_db()
    assert payer.balance == FUNDING - 20_000
    assert payer.debits_pending == 0


@pytest.mark.django_db(transaction=True)
def test_wallet_for_race_opens_one(city, postgres_only) -> None:
    # Two requests of a new user arrive together, as a phone that retries
    # does; each finds no wallet and opens one. Five users, to race often.
    users = [
        get_user_model().objects.create_user(f"racer{number}", password="x" * 12)
        for number in range(5)
    ]
    opened: dict[int, list[int]] = defaultdict(list)
    errors: list[BaseException] = []

    def first_request(user: Any, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=10)
            opened[user.pk].append(services.wallet_for(user).pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    for user in users:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=first_request, args=(user, barrier))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    for user in users:
        assert len(set(opened[user.pk])) == 1, "both requests got the same wallet"
        wallets = Account.objects.filter(holder=user, kind=AccountKind.CITIZEN)
        assert wallets.count() == 1
    result = verify_ledger(node_verifier())
    assert result.ok, result.problems


@pytest.mark.django_db(transaction=True)
def test_one_sale_code_race_pays_once(city, postgres_only) -> None:
    # Both payers confirm the same one-sale QR code at the same moment: both
    # pass the unlocked "already paid" check, and the bill claim lets one in.
    merchant_user = get_user_model().objects.create_user("stall", password="x" * 12)
    merchant = services.open_merchant(merchant_user, "Warung Sate Mak Etek")
    payload = flows.merchant_payload(merchant, amount=7_500, bill_number="INV-RACE")
    code = flows.read_code(payload)
    payers = []
    for number in range(2):
        user = get_user_model().objects.create_user(f"payer{number}", password="x" * 12)
        wallet = services.wallet_for(user)
        services.top_up(wallet.number, 20_000, transfer_id=f"fund-payer-{number}")
        payers.append(wallet)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(wallet: Account) -> None:
        try:
            request = flows.payment_request(
                wallet, merchant, code, 7_500, f"pay-{wallet.number}"
            )
            barrier.wait(timeout=10)
            flows.pay_merchant(request, code, actor="test")
            outcomes.append("paid")
        except flows.FlowError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(w,)) for w in payers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already_paid", "paid"]
    merchant.refresh_from_db()
    assert merchant.balance == 7_500
    assert Transfer.objects.filter(kind="payment").count() == 1
    result = verify_ledger(node_verifier())
    assert result.ok, result.problems
