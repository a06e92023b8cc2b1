"""Levy credit for a missed pickup that review confirmed.

The rule, applied when KOTACERDAS_MISSED_PICKUP_CREDIT is on:

- Only a pickup at a building, matched to a stop of the day's route plan,
  counted (not a repeat scan), with outcome "no access" or "other" qualifies.
  Those outcomes are where the crew could not serve the building (blocked
  road, vehicle full or broken down). "Not put out" and "refused" are the
  household's doing and never earn a credit.
- The reviewer's "confirm" is the statement that the household was not
  served through no fault of its own.
- The amount is the monthly tariff of the building's levy class in the month
  of the scan, divided by the number of service days of that month. A
  service day is a day on which a door-to-door schedule serves the
  building's kelurahan or RT. The result is rounded down to whole rupiah.
- The money moves from the city's waste-levy revenue account to the citizen
  wallet of the head of the building's one active household, as a wallet
  transfer of kind "refund". A building with no household, several
  households, no head with a wallet, no tariff or no schedule gets no credit,
  and the reason is returned and logged.
- The transfer id is "waste-credit:<pickup id>", so a retried review cannot
  pay twice.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.levy.services import REVENUE_CODE, tariffs_for
from kotacerdas.registry.models import Building, Household
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountStatus,
    Channel,
    TransferKind,
)
from kotacerdas.waste.events import ServiceCreditGranted
from kotacerdas.waste.models import Pickup, Schedule, ServiceCredit

logger = logging.getLogger(__name__)

CREDIT_OUTCOMES = frozenset({Pickup.Outcome.NO_ACCESS, Pickup.Outcome.OTHER})
TRANSFER_PREFIX = "waste-credit:"


class NoCredit(StrEnum):
    """The reason code of a confirmed pickup that earned no credit."""

    RULE_OFF = "rule_off"
    NOT_ELIGIBLE = "not_eligible"
    NO_HOUSEHOLD = "no_household"
    SEVERAL_HOUSEHOLDS = "several_households"
    NO_WALLET = "no_wallet"
    NO_TARIFF = "no_tariff"
    NO_SCHEDULE = "no_schedule"
    TOO_SMALL = "too_small"
    TRANSFER_REJECTED = "transfer_rejected"


@dataclass(frozen=True)
class CreditOutcome:
    """The credit granted, or the reason code and message why none was."""

    credit: ServiceCredit | None
    reason: NoCredit | None = None
    message: str = ""


def qualifies(pickup: Pickup) -> bool:
    """Return True when a pickup is a missed scheduled pickup under the rule above."""
    return (
        pickup.building_id is not None
        and pickup.stop_id is not None
        and pickup.duplicate_of_id is None
        and pickup.outcome in CREDIT_OUTCOMES
    )


def service_days(building: Building, month: date) -> int:
    """Count the days of `month` on which a door-to-door schedule serves `building`."""
    first = month.replace(day=1)
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in_month)
    schedules = list(
        Schedule.objects.filter(
            Q(unit__isnull=True) | Q(unit=building.unit_id),
            kelurahan=building.kelurahan_id,
            service=Schedule.Service.DOOR_TO_DOOR,
            active=True,
            valid_from__lte=last,
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
    )
    served = 0
    for offset in range(days_in_month):
        day = first + timedelta(days=offset)
        if any(
            s.valid_from <= day
            and (s.valid_to is None or day <= s.valid_to)
            and day.isoweekday() in s.days()
            for s in schedules
        ):
            served += 1
    return served


def credit_amount(building: Building, month: date) -> tuple[int, NoCredit | None]:
    """Return the credit in whole rupiah for one missed pickup, or 0 and the reason."""
    tariff = tariffs_for(month.replace(day=1)).get(building.levy_class or "")
    if tariff is None or tariff.monthly_amount <= 0:
        return 0, NoCredit.NO_TARIFF
    days = service_days(building, month)
    if days == 0:
        return 0, NoCredit.NO_SCHEDULE
    amount = tariff.monthly_amount // days
    return (amount, None) if amount > 0 else (0, NoCredit.TOO_SMALL)


def head_wallet(building: Building) -> tuple[Account | None, NoCredit | None]:
    """Return the citizen wallet of the head of the building's one active household."""
    households = list(
        Household.objects.filter(building=building, status=Household.Status.ACTIVE)[:2]
    )
    if not households:
        return None, NoCredit.NO_HOUSEHOLD
    if len(households) > 1:
        # NOTE: ServiceCredit allows one credit per pickup, so a building with
        # several households is credited by hand at the counter.
        return None, NoCredit.SEVERAL_HOUSEHOLDS
    head = households[0].head
    if head is None:
        return None, NoCredit.NO_WALLET
    owner = Q(member=head)
    if head.user_id is not None:
        owner |= Q(holder_id=head.user_id)
    account = (
        Account.objects.filter(
            owner, kind=AccountKind.CITIZEN, status=AccountStatus.ACTIVE
        )
        .order_by("id")
        .first()
    )
    return (account, None) if account else (None, NoCredit.NO_WALLET)


def no_credit_message(reason: NoCredit) -> str:
    """Return the sentence the review page shows for a reason code."""
    messages = {
        NoCredit.RULE_OFF: _("Levy credits for missed pickups are turned off."),
        NoCredit.NOT_ELIGIBLE: _(
            "No credit: only a scheduled building stop reported as 'no access' or "
            "'other' earns one."
        ),
        NoCredit.NO_HOUSEHOLD: _("No credit: no household lives in this building."),
        NoCredit.SEVERAL_HOUSEHOLDS: _(
            "No credit: several households live in this building. Credit them at "
            "the counter."
        ),
        NoCredit.NO_WALLET: _(
            "No credit: the head of the household has no active wallet. Credit "
            "the household at the counter."
        ),
        NoCredit.NO_TARIFF: _(
            "No credit: the building's levy class has no tariff for that month."
        ),
        NoCredit.NO_SCHEDULE: _(
            "No credit: no door-to-door schedule serves this building that month."
        ),
        NoCredit.TOO_SMALL: _("No credit: the amount rounds down to Rp 0."),
        NoCredit.TRANSFER_REJECTED: _(
            "No credit: the wallet rejected the transfer. Check the waste-levy "
            "revenue account."
        ),
    }
    return str(messages[reason])


def _skipped(pickup: Pickup, reason: NoCredit, detail: str = "") -> CreditOutcome:
    logger.info(
        "no levy credit for pickup %s: %s %s",
        pickup.pk,
        reason.value,
        detail,
        extra={"pickup_id": pickup.pk},
    )
    return CreditOutcome(None, reason, no_credit_message(reason))


def credit_missed_pickup(pickup: Pickup, *, actor: Any = None) -> CreditOutcome:
    """Credit the household for a confirmed missed pickup, once; see the module rule.

    Runs in the caller's transaction when there is one. A second call for the
    same pickup returns the stored credit.
    """
    existing = ServiceCredit.objects.filter(pickup=pickup).first()
    if existing is not None:
        return CreditOutcome(existing)
    if not settings.KOTACERDAS_MISSED_PICKUP_CREDIT:
        return _skipped(pickup, NoCredit.RULE_OFF)
    if pickup.review != Pickup.Review.CONFIRMED or not qualifies(pickup):
        return _skipped(pickup, NoCredit.NOT_ELIGIBLE)

    building = Building.objects.get(pk=pickup.building_id or 0)
    from kotacerdas.waste.pickups import local_day

    amount, reason = credit_amount(building, local_day(pickup.scanned_at))
    if reason is not None:
        return _skipped(pickup, reason)
    account, reason = head_wallet(building)
    if reason is not None or account is None:
        return _skipped(pickup, reason or NoCredit.NO_WALLET)

    transfer_id = f"{TRANSFER_PREFIX}{pickup.pk}"
    actor_label = f"user:{actor.pk}" if actor is not None else "system"
    request = wallet.TransferRequest(
        id=transfer_id,
        debit=wallet.revenue_account(REVENUE_CODE).number,
        credit=account.number,
        amount=amount,
        kind=TransferKind.REFUND,
        channel=Channel.SYSTEM,
        memo=f"missed pickup {pickup.pk}",
    )
    try:
        with transaction.atomic():
            wallet.submit(request, actor=actor_label)
            credit = ServiceCredit.objects.create(
                pickup=pickup,
                building=building,
                amount=amount,
                transfer_client_id=transfer_id,
            )
            journal.append(
                "waste.service_credit.granted",
                ServiceCreditGranted(
                    pickup_id=pickup.pk,
                    building_id=building.pk,
                    amount=amount,
                    transfer_client_id=transfer_id,
                ),
                actor=actor_label,
            )
    except wallet.TransferRejected as rejected:
        return _skipped(pickup, NoCredit.TRANSFER_REJECTED, rejected.code)
    logger.info(
        "levy credit %s of Rp%s granted for pickup %s",
        credit.pk,
        amount,
        pickup.pk,
        extra={"pickup_id": pickup.pk},
    )
    return CreditOutcome(credit)
