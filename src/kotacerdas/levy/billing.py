"""The monthly billing run: who is billed for a month, and at which tariff.

Payers are the active households living in active houses, and the other
active buildings. A house bills each household (KK) in it at the building's
class, so a house shared by several KK bills each of them in full, because
each family card is liable on its own. Any other building gets one bill,
with no household. A payer gets
no bill when its building has no levy class (a house with no PLN connection
recorded has none until it is surveyed again), when its class has no tariff
or a tariff of zero, or when it already has a live bill for the month.

Bills are written in batches, each in its own transaction with one
`journal.append_many`, so a large city shows progress and a failure keeps
the batches already committed; running the month again bills the rest.
Each batch locks the month's bill counter first, so two runs of the same
month take turns batch by batch and the second skips what the first billed.
The unique constraints on bills back this up in the database.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.models import Area
from kotacerdas.journal import services as journal
from kotacerdas.levy.events import BillIssued
from kotacerdas.levy.models import Bill, BillCounter, BillingRun, Tariff
from kotacerdas.levy.months import (
    InvalidMonth,
    current_month,
    last_day,
    month_text,
    parse_month,
)
from kotacerdas.levy.services import (
    FieldError,
    LevyError,
    actor_label,
    bill_number,
    ensure_tariffs,
    tariffs_for,
)
from kotacerdas.registry.models import Building, Household

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# A worker checks for queued runs every few seconds and a batch takes a few
# seconds on a laptop, so two minutes without progress means no process is
# working on the run.
STALL_AFTER = timedelta(minutes=2)
Progress = Callable[[int, int], None]

NO_VA = "no_va"
NO_CLASS = "no_class"
EXEMPT = "exempt"
NO_HOUSEHOLD = "no_household"
SKIP_COUNT_FIELDS = {
    NO_VA: "no_va_count",
    NO_CLASS: "no_class_count",
    EXEMPT: "exempt_count",
    NO_HOUSEHOLD: "no_household_count",
}


@dataclass(frozen=True)
class Payer:
    """One household or building that may be billed, with its building's facts."""

    building_id: int
    household_id: int | None
    kelurahan_id: int
    levy_class: str
    pln_va: int | None
    plate_code: str


@dataclass
class Plan:
    billable: list[tuple[Payer, Tariff]]
    skipped: dict[str, int]
    listed: list[dict[str, Any]]


def billable_month(month: str | date) -> date:
    """Return the month to bill, or raise LevyError for an invalid or future one."""
    try:
        month = parse_month(month)
    except InvalidMonth as error:
        raise LevyError([FieldError("month", error.message)]) from None
    if month > current_month():
        raise LevyError(
            [
                FieldError(
                    "month",
                    _(
                        "A month can be billed from its first day; %(month)s has not begun."
                    )
                    % {"month": month_text(month)},
                )
            ]
        )
    return month


def queue_billing(month: str | date, *, actor: Any = None) -> BillingRun:
    """Queue a run of `month` for the worker, or return the one already waiting.

    Raises LevyError for an invalid or future month.
    """
    month = billable_month(month)
    waiting = BillingRun.objects.filter(
        month=month, status=BillingRun.Status.QUEUED
    ).first()
    if waiting is not None:
        return waiting
    run = BillingRun.objects.create(
        month=month,
        started_by=actor if getattr(actor, "pk", None) else None,
        actor=actor_label(actor) or "",
    )
    logger.info("levy billing run %s queued for %s", run.pk, month_text(month))
    return run


def stalled(run: BillingRun) -> bool:
    """Return whether an active run has shown no progress for `STALL_AFTER`.

    A queued run stalls when no worker is running; a running one when its
    process died. Queuing the month again starts a new run that bills the
    payers the stalled one did not reach.
    """
    if not run.active:
        return False
    last = run.heartbeat_at or run.started_at or run.queued_at
    return timezone.now() - last > STALL_AFTER


def run_queued_billing() -> int:
    """Carry out the oldest queued run, if any; the worker's `levy-billing` job.

    A run is claimed by a conditional update that must change exactly one row,
    so two workers never carry out the same run. Returns 1 if a run was
    carried out, else 0.
    """
    queued = BillingRun.objects.filter(status=BillingRun.Status.QUEUED)
    for run_id in queued.order_by("queued_at", "id").values_list("id", flat=True)[:5]:
        claimed = BillingRun.objects.filter(
            pk=run_id, status=BillingRun.Status.QUEUED
        ).update(status=BillingRun.Status.RUNNING, started_at=timezone.now())
        if claimed:
            run = BillingRun.objects.get(pk=run_id)
            try:
                execute(run)
            except Exception:
                # Recorded on the run by `execute`; the worker goes on.
                logger.warning("levy billing run %s failed in the worker", run_id)
            return 1
    return 0


def run_billing(
    month: str | date,
    *,
    actor: Any = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> BillingRun:
    """Bill every payer of `month` that has no live bill for it yet, now.

    Returns the finished run with its counts. Raises LevyError for an invalid
    or future month. A run that fails midway is marked failed with the
    reason and the error is raised again; the batches it committed stay billed.
    """
    month = billable_month(month)
    run = BillingRun.objects.create(
        month=month,
        status=BillingRun.Status.RUNNING,
        started_at=timezone.now(),
        started_by=actor if getattr(actor, "pk", None) else None,
        actor=actor_label(actor) or "",
    )
    return execute(run, batch_size, progress)


def execute(
    run: BillingRun, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> BillingRun:
    """Carry out a run that is marked running, and return it finished."""
    logger.info("levy billing run %s started for %s", run.pk, month_text(run.month))
    try:
        _run(run, run.month, run.actor or None, batch_size, progress)
    except Exception as error:
        _mark_failed(run, error)
        raise
    run.refresh_from_db()
    logger.info(
        "levy billing run %s finished: %d billed, %d already billed, %d skipped",
        run.pk,
        run.billed_count,
        run.already_billed_count,
        run.skipped_count,
    )
    return run


def _run(
    run: BillingRun,
    month: date,
    label: str | None,
    batch_size: int,
    progress: Progress | None,
) -> None:
    ensure_tariffs()
    plan = plan_billing(month)
    BillingRun.objects.filter(pk=run.pk).update(
        skipped=plan.listed,
        payer_count=len(plan.billable),
        heartbeat_at=timezone.now(),
        **{SKIP_COUNT_FIELDS[reason]: count for reason, count in plan.skipped.items()},
    )
    BillCounter.objects.get_or_create(month=month)
    codes = dict(Area.objects.values_list("id", "code"))
    done = 0
    for batch in _chunks(plan.billable, batch_size):
        _bill_batch(run, month, batch, codes, label)
        done += len(batch)
        if progress is not None:
            progress(done, len(plan.billable))
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.FINISHED, finished_at=timezone.now()
    )


def _mark_failed(run: BillingRun, error: Exception) -> None:
    logger.error("levy billing run %s failed", run.pk, exc_info=error)
    try:
        BillingRun.objects.filter(pk=run.pk).update(
            status=BillingRun.Status.FAILED,
            finished_at=timezone.now(),
            failure=f"{type(error).__name__}: {error}"[:500],
        )
    except DatabaseError:
        # The caller's transaction is broken; the run row goes with it.
        logger.warning("levy billing run %s could not be marked failed", run.pk)


def plan_billing(month: date) -> Plan:
    """Sort the city's payers into those to bill and those skipped, with reasons."""
    tariffs = tariffs_for(month)
    plan = Plan(billable=[], skipped=dict.fromkeys(SKIP_COUNT_FIELDS, 0), listed=[])
    listed_buildings: set[int] = set()
    for payer in _payers():
        tariff = tariffs.get(payer.levy_class)
        if tariff is not None and tariff.monthly_amount > 0:
            plan.billable.append((payer, tariff))
            continue
        if not payer.levy_class:
            reason = NO_VA if payer.pln_va is None else NO_CLASS
        else:
            reason = EXEMPT
        _skip(plan, payer, reason, listed_buildings)
    for payer in _houses_without_households():
        _skip(plan, payer, NO_HOUSEHOLD, listed_buildings)
    return plan


def _skip(plan: Plan, payer: Payer, reason: str, listed: set[int]) -> None:
    plan.skipped[reason] += 1
    if payer.building_id in listed or len(listed) >= BillingRun.MAX_SKIPPED_LISTED:
        return
    listed.add(payer.building_id)
    plan.listed.append(
        {
            "building_id": payer.building_id,
            "plate_code": payer.plate_code,
            "reason": reason,
        }
    )


BUILDING_FIELDS = ("kelurahan_id", "levy_class", "pln_va", "plate_code")


def _payers() -> Iterator[Payer]:
    """Yield the households of active houses, then the other active buildings."""
    households = (
        Household.objects.filter(
            status=Household.Status.ACTIVE,
            building__status=Building.Status.ACTIVE,
            building__use=Building.Use.HOUSE,
        )
        .order_by("building_id", "id")
        .values_list("building_id", "id", *(f"building__{f}" for f in BUILDING_FIELDS))
    )
    for row in households.iterator(chunk_size=5000):
        yield Payer(*row)
    buildings = (
        Building.objects.filter(status=Building.Status.ACTIVE)
        .exclude(use=Building.Use.HOUSE)
        .order_by("id")
        .values_list("id", *BUILDING_FIELDS)
    )
    for building_id, *facts in buildings.iterator(chunk_size=5000):
        yield Payer(building_id, None, *facts)


def _houses_without_households() -> Iterator[Payer]:
    living = Household.objects.filter(
        building=OuterRef("pk"), status=Household.Status.ACTIVE
    )
    empty = (
        Building.objects.filter(status=Building.Status.ACTIVE, use=Building.Use.HOUSE)
        .filter(~Exists(living))
        .order_by("id")
        .values_list("id", *BUILDING_FIELDS)
    )
    for building_id, *facts in empty.iterator(chunk_size=5000):
        yield Payer(building_id, None, *facts)


def _chunks(
    items: Sequence[tuple[Payer, Tariff]], size: int
) -> Iterator[Sequence[tuple[Payer, Tariff]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bill_batch(
    run: BillingRun,
    month: date,
    batch: Sequence[tuple[Payer, Tariff]],
    codes: dict[int, str],
    label: str | None,
) -> None:
    with transaction.atomic():
        counter = BillCounter.objects.select_for_update().get(month=month)
        fresh = _not_yet_billed(month, batch)
        now = timezone.now()
        bills = []
        for serial, (payer, tariff) in enumerate(fresh, start=counter.last_number + 1):
            bills.append(
                Bill(
                    number=bill_number(month, serial),
                    serial=serial,
                    run=run,
                    month=month,
                    building_id=payer.building_id,
                    household_id=payer.household_id,
                    kelurahan_id=payer.kelurahan_id,
                    levy_class=payer.levy_class,
                    tariff=tariff,
                    amount=tariff.monthly_amount,
                    due_date=last_day(month),
                    issued_at=now,
                )
            )
        counter.last_number += len(bills)
        counter.save(update_fields=["last_number"])
        _store(month, bills, codes, label)
        BillingRun.objects.filter(pk=run.pk).update(
            checked_count=F("checked_count") + len(batch),
            billed_count=F("billed_count") + len(bills),
            billed_amount=F("billed_amount") + sum(b.amount for b in bills),
            already_billed_count=F("already_billed_count") + len(batch) - len(bills),
            heartbeat_at=now,
        )


def _not_yet_billed(
    month: date, batch: Sequence[tuple[Payer, Tariff]]
) -> list[tuple[Payer, Tariff]]:
    live = Bill.objects.filter(month=month).exclude(status=Bill.Status.CANCELLED)
    households = set(
        live.filter(
            household_id__in=[p.household_id for p, _t in batch if p.household_id]
        ).values_list("household_id", flat=True)
    )
    buildings = set(
        live.filter(
            household__isnull=True,
            building_id__in=[p.building_id for p, _t in batch if not p.household_id],
        ).values_list("building_id", flat=True)
    )
    return [
        (payer, tariff)
        for payer, tariff in batch
        if (payer.household_id or 0) not in households
        and not (payer.household_id is None and payer.building_id in buildings)
    ]


def _store(
    month: date, bills: list[Bill], codes: dict[int, str], label: str | None
) -> None:
    if not bills:
        return
    Bill.objects.bulk_create(bills, batch_size=1000)
    if any(bill.pk is None for bill in bills):
        # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+ only.
        by_number = Bill.objects.in_bulk([b.number for b in bills], field_name="number")
        for bill in bills:
            bill.pk = by_number[bill.number].pk
    entries = journal.append_many(
        [("levy.bill.issued", _issued(bill, codes)) for bill in bills], actor=label
    )
    # Serials and journal entries both count up by one per bill, in the same
    # order, so one statement records each bill's entry.
    first = bills[0]
    Bill.objects.filter(
        month=month, serial__range=(first.serial, bills[-1].serial)
    ).update(entry_seq=F("serial") + (entries[0].seq - first.serial))
    for bill, entry in zip(bills, entries, strict=True):
        assert entry.seq - bill.serial == entries[0].seq - first.serial
        bill.entry_seq = entry.seq


def _issued(bill: Bill, codes: dict[int, str]) -> BillIssued:
    return BillIssued(
        bill_id=bill.pk,
        number=bill.number,
        building_id=bill.building_id,
        household_id=bill.household_id,
        kelurahan_code=codes[bill.kelurahan_id],
        month=month_text(bill.month),
        levy_class=bill.levy_class,
        tariff_id=bill.tariff_id,
        amount=bill.amount,
        due_date=bill.due_date.isoformat(),
        run_id=bill.run_id,
    )
