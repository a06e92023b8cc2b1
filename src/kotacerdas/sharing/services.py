"""Record and correct the partner's costs against a pilot, each journaled.

Lock order: the corrected cost row, then the journal head (taken last by
`journal.append`). A cost is never edited or deleted: a correction is a new
row that replaces the old one from its journal entry on.
"""

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.models import City
from kotacerdas.journal import services as journal
from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data
from kotacerdas.sharing import events, schedule
from kotacerdas.sharing.models import MAX_COST_RUPIAH, CostCategory, PartnerCost
from kotacerdas.sharing.schedule import SharingRule

logger = logging.getLogger(__name__)

DESCRIPTION_MAX = 200
REASON_MAX = 200
# A run of digits as people write phone numbers: "0812-3456-7890", "+62 812 ...".
DIGIT_RUN = re.compile(r"\+?\d[\d\s.\-]{6,}\d")


class CostRejected(ValueError):
    """A cost was not recorded and nothing was written.

    `field` names the input at fault, `code` is stable for programs and
    `message` is for people, in the active language.
    """

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CostInput:
    pilot: Any
    category: str
    incurred_on: date
    amount_rupiah: int
    description: str


def record_cost(cost: CostInput, *, user: Any) -> PartnerCost:
    """Store a new partner cost and journal `sharing.cost.recorded`.

    Raises CostRejected naming the field at fault; then nothing is written.
    """
    description = _check(cost, allow_zero=False)
    rule = _rule_on(cost.incurred_on)
    with transaction.atomic(durable=True):
        row = PartnerCost.objects.create(
            pilot=cost.pilot,
            category=cost.category,
            incurred_on=cost.incurred_on,
            amount_rupiah=cost.amount_rupiah,
            description=description,
            recorded_by=user,
            recorded_at=timezone.now(),
        )
        entry = journal.append(
            "sharing.cost.recorded",
            events.CostRecorded(**_state(row, rule)),
            actor=f"user:{user.pk}",
        )
        PartnerCost.objects.filter(pk=row.pk).update(entry_seq=entry.seq)
        row.entry_seq = entry.seq
    logger.info("partner cost %s recorded", row.pk)
    return row


def correct_cost(
    original: PartnerCost, cost: CostInput, *, reason: str, user: Any
) -> PartnerCost:
    """Replace a cost in effect by a new row and journal `sharing.cost.corrected`.

    The replacement keeps the original's pilot. Locks the original row, so
    two corrections of the same cost cannot both pass. The second raises
    CostRejected on the field "cost", naming the correction that won.
    """
    cost = CostInput(
        pilot=original.pilot,
        category=cost.category,
        incurred_on=cost.incurred_on,
        amount_rupiah=cost.amount_rupiah,
        description=cost.description,
    )
    description = _check(cost, allow_zero=True)
    reason = _check_text("reason", reason, REASON_MAX)
    rule = _rule_on(cost.incurred_on)
    try:
        with transaction.atomic(durable=True):
            locked = PartnerCost.objects.select_for_update().get(pk=original.pk)
            _check_in_effect(locked)
            row = PartnerCost.objects.create(
                pilot_id=locked.pilot_id,
                category=cost.category,
                incurred_on=cost.incurred_on,
                amount_rupiah=cost.amount_rupiah,
                description=description,
                reason=reason,
                corrects=locked,
                recorded_by=user,
                recorded_at=timezone.now(),
            )
            entry = journal.append(
                "sharing.cost.corrected",
                events.CostCorrected(
                    **_state(row, rule),
                    corrects_cost_id=locked.pk,
                    reason_hash=journal.salted_hash(reason),
                ),
                actor=f"user:{user.pk}",
            )
            PartnerCost.objects.filter(pk=row.pk).update(entry_seq=entry.seq)
            row.entry_seq = entry.seq
    except IntegrityError:
        # SQLite takes no row lock, so a concurrent correction of the same
        # cost reaches the unique one-to-one and rolls this one back.
        _check_in_effect(PartnerCost.objects.get(pk=original.pk))
        raise
    logger.info("partner cost %s recorded, correcting cost %s", row.pk, original.pk)
    return row


def _check_in_effect(cost: PartnerCost) -> None:
    newer = PartnerCost.objects.filter(corrects=cost).values_list("pk", flat=True)
    if newer:
        raise CostRejected(
            "cost",
            _(
                "Cost %(cost)s was already corrected by cost %(newer)s. Correct"
                " cost %(newer)s instead."
            )
            % {"cost": cost.pk, "newer": newer[0]},
            code="already_corrected",
        )


def _check(cost: CostInput, *, allow_zero: bool) -> str:
    """Check a cost's fields and return its description, trimmed."""
    if cost.pilot is None or cost.pilot.pk is None:
        raise CostRejected("pilot", _("Choose the pilot the cost belongs to."))
    if cost.category not in CostCategory.values:
        raise CostRejected(
            "category",
            _("Choose a category: operations, maintenance or hardware."),
        )
    if cost.incurred_on > timezone.localdate():
        raise CostRejected(
            "incurred_on",
            _("The date %(day)s is in the future. Enter the day the cost was incurred.")
            % {"day": cost.incurred_on.isoformat()},
        )
    _check_amount(cost.amount_rupiah, allow_zero=allow_zero)
    return _check_text("description", cost.description, DESCRIPTION_MAX)


def _check_amount(amount: int, *, allow_zero: bool) -> None:
    lowest = 0 if allow_zero else 1
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise CostRejected("amount_rupiah", _("Enter the amount in whole rupiah."))
    if amount < lowest:
        message = (
            _("The amount must be 0 or more; 0 withdraws the cost.")
            if allow_zero
            else _("The amount must be above zero. Enter a number of rupiah.")
        )
        raise CostRejected("amount_rupiah", message, code="too_small")
    if amount > MAX_COST_RUPIAH:
        raise CostRejected(
            "amount_rupiah",
            _("The amount is above Rp1.000.000.000.000. Enter a smaller amount."),
            code="too_large",
        )


def _check_text(field: str, text: str, max_length: int) -> str:
    clean = " ".join((text or "").split())
    if not clean:
        raise CostRejected(field, _("This field is required. Describe it briefly."))
    if len(clean) > max_length:
        raise CostRejected(
            field,
            _("Use at most %(max)s characters; this has %(count)s.")
            % {"max": max_length, "count": len(clean)},
        )
    if _looks_personal(clean):
        raise CostRejected(
            field,
            _(
                "Remove the NIK, KK number, phone number or e-mail address."
                " Costs are shown to auditors and must not name people."
            ),
            code="personal_data",
        )
    return clean


def _looks_personal(text: str) -> bool:
    """Tell whether free text contains a NIK, KK, phone number or e-mail address.

    The journal's guard checks a whole value against the phone pattern, so
    each run of digits (with spaces, dots or dashes inside) is checked on its
    own as well.
    """
    candidates = [text, *(m.group(0) for m in DIGIT_RUN.finditer(text))]
    for candidate in candidates:
        try:
            reject_personal_data(candidate)
        except PersonalDataError:
            return True
    return False


def _rule_on(day: date) -> SharingRule:
    """Return the sharing rule in force on `day` from the city profile."""
    city = City.objects.order_by("id").first()
    rules = schedule.rules_of(city.settings if city is not None else {})
    rule = schedule.rule_on(rules, day)
    if rule is None:
        raise CostRejected(
            "incurred_on",
            _(
                "No sharing rule is in force on %(day)s, so the cost cannot be"
                " divided between the city and the partner. Enter a later date"
                " or add a sharing rule to the city profile."
            )
            % {"day": day.isoformat()},
            code="no_rule",
        )
    return rule


def _state(row: PartnerCost, rule: SharingRule) -> dict[str, Any]:
    return {
        "cost_id": row.pk,
        "pilot_id": row.pilot_id,
        "pilot_slug": row.pilot.slug,
        "category": row.category,
        "incurred_on": row.incurred_on.isoformat(),
        "amount_rupiah": row.amount_rupiah,
        "description_hash": journal.salted_hash(row.description),
        "recorded_by_user_id": row.recorded_by.pk,
        "rule_version": rule.version,
        "city_bp": rule.city_bp,
        "partner_bp": rule.partner_bp,
        "remainder_to": rule.remainder_to,
    }
