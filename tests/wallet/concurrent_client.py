"""A wallet client process for the concurrency tests.

Run as `python -m tests.wallet.concurrent_client PLAN_FILE WORKER OUTPUT_FILE`
with DJANGO_SETTINGS_MODULE and DATABASE_URL set. Every worker derives its
operations from the plan's seed, so any worker can resubmit another's request
with the same body. Each call is written to OUTPUT_FILE as one JSON object
with its outcome and its start and end on the system-wide monotonic clock
(comparable across processes on Linux).

WORKER "race" runs the single operation in the plan's `race` entry instead.
"""

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

Operation = dict[str, Any]


def operations(plan: dict[str, Any], worker: int) -> list[Operation]:
    """Return a worker's operations: transfers, reservations and their posts or voids."""
    rng = random.Random(f"{plan['seed']}:{worker}")
    citizens = plan["citizens"]
    ops: list[Operation] = []
    reservations: list[tuple[str, int]] = []
    for index in range(plan["operations"]):
        op_id = f"w{worker}-{index}"
        roll = rng.random()
        if reservations and roll < 0.15:
            pending_id, reserved = reservations.pop(0)
            if rng.random() < 0.7:
                amount = None if rng.random() < 0.5 else rng.randint(1, reserved)
                ops.append(
                    {"call": "post", "id": f"{op_id}-post", "pending_id": pending_id}
                    | {"amount": amount}
                )
            else:
                ops.append(
                    {"call": "void", "id": f"{op_id}-void", "pending_id": pending_id}
                )
            continue
        request = {"id": op_id, "amount": rng.randint(1, 80_000)}
        if roll < 0.3:
            request |= {
                "debit": rng.choice(citizens),
                "credit": plan["merchant"],
                "kind": "payment",
                "pending": True,
            }
            reservations.append((op_id, request["amount"]))
        else:
            payer, payee = rng.sample(citizens, 2)
            request |= {"debit": payer, "credit": payee, "kind": "transfer"}
        # Every fourth one goes through submit_batch, which must agree with
        # submit on what counts as the same request.
        ops.append({"call": "submit", "request": request, "batch": index % 4 == 0})
    return ops


def client_id(operation: Operation) -> str:
    if operation["call"] == "submit":
        return str(operation["request"]["id"])
    return str(operation["id"])


def run(operation: Operation) -> dict[str, Any]:
    """Carry out one operation and describe what happened."""
    from kotacerdas.wallet import services

    started = time.monotonic()
    outcome: dict[str, Any] = {"id": client_id(operation), "start": started}
    try:
        if operation["call"] == "submit" and operation.get("batch"):
            request = services.TransferRequest(**operation["request"])
            [result] = services.submit_batch([request], actor="system")
            if result.error is not None:
                raise result.error
            transfer = result.transfer
        elif operation["call"] == "submit":
            request = services.TransferRequest(**operation["request"])
            transfer = services.submit(request, actor="system")
        elif operation["call"] == "post":
            transfer = services.post_pending(
                id=operation["id"],
                pending_id=operation["pending_id"],
                amount=operation["amount"],
                actor="system",
            )
        else:
            transfer = services.void_pending(
                id=operation["id"], pending_id=operation["pending_id"], actor="system"
            )
        outcome |= {"outcome": "ok", "pk": transfer.pk}
    except services.TransferRejected as rejected:
        outcome |= {"outcome": rejected.code}
    except Exception as error:  # reported to the test, which then fails
        outcome |= {"outcome": "error", "error": f"{type(error).__name__}: {error}"}
    outcome["end"] = time.monotonic()
    return outcome


def wait_for_everyone(plan: dict[str, Any], worker: int) -> None:
    """Start together, so that two workers send the same id at about the same time."""
    ready = Path(plan["ready_dir"])
    (ready / f"{worker}.ready").touch()
    deadline = time.monotonic() + 120
    while len(list(ready.glob("*.ready"))) < plan["workers"]:
        if time.monotonic() > deadline:
            raise SystemExit("the other workers did not start within 120 s")
        time.sleep(0.05)


def work(plan: dict[str, Any], worker: int) -> list[dict[str, Any]]:
    """Run own operations, interleaved with retries of own and a neighbour's ids."""
    mine = operations(plan, worker)
    theirs = operations(plan, (worker - 1) % plan["workers"])
    rng = random.Random(f"{plan['seed']}:retries:{worker}")
    results = []
    wait_for_everyone(plan, worker)
    for index, operation in enumerate(mine):
        results.append(run(operation) | {"owner": worker, "index": index})
        if rng.random() < 0.3:
            owner = (worker - 1) % plan["workers"]
            results.append(run(theirs[index]) | {"owner": owner, "index": index})
        if index and rng.random() < 0.2:
            earlier = rng.randrange(index)
            results.append(run(mine[earlier]) | {"owner": worker, "index": earlier})
    return results


def main() -> None:
    import django

    django.setup()
    plan = json.loads(Path(sys.argv[1]).read_text())
    if sys.argv[2] == "race":
        results = [run(plan["race"])]
    else:
        results = work(plan, int(sys.argv[2]))
    Path(sys.argv[3]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
