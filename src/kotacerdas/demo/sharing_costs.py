"""The demo pilot's partner costs: a few hardware, operations and maintenance lines.

`seed_demo_costs(pilot)` records them through `sharing.services`, so each is
journaled like a cost an administrator types in. The costs are spread over
the part of the pilot that has passed, from the day the first sharing rule
applies, so monthly statements of the pilot's months show them.
"""

import logging
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from kotacerdas.city.models import City
from kotacerdas.pilot.models import Pilot
from kotacerdas.sharing import schedule
from kotacerdas.sharing.models import CostCategory, PartnerCost
from kotacerdas.sharing.services import CostInput, record_cost

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
# (category, rupiah, description), in the order they fall across the pilot.
# The amounts are made up for a pilot in a few kelurahan; they are not quotes.
DEMO_COSTS: tuple[tuple[str, int, str], ...] = (
    (CostCategory.HARDWARE, 18_750_000, "QR plate printing and mounting kits"),
    (CostCategory.HARDWARE, 12_400_000, "Collector phones and scanners"),
    (CostCategory.OPERATIONS, 4_250_000, "Cloud hosting and backups"),
    (CostCategory.OPERATIONS, 6_000_000, "Field support for collectors"),
    (CostCategory.MAINTENANCE, 2_150_001, "Container sensor battery replacements"),
)


def seed_demo_costs(pilot: Pilot) -> list[PartnerCost]:
    """Record the demo costs of a pilot once and return the new rows.

    Records nothing when the pilot already has costs, when no demo admin
    exists, or when no day of the pilot has both passed and a sharing rule.
    """
    if PartnerCost.objects.filter(pilot=pilot).exists():
        return []
    admin = get_user_model().objects.filter(username=ADMIN_USERNAME).first()
    days = _cost_days(pilot, len(DEMO_COSTS))
    if admin is None or not days:
        logger.info("no demo costs for pilot %s: no admin or no day", pilot.pk)
        return []
    rows = [
        record_cost(
            CostInput(pilot, category, day, amount_rupiah, description), user=admin
        )
        for day, (category, amount_rupiah, description) in zip(
            days, DEMO_COSTS, strict=False
        )
    ]
    logger.info("recorded %s demo costs for pilot %s", len(rows), pilot.pk)
    return rows


def _cost_days(pilot: Pilot, count: int) -> list[date]:
    """Spread `count` days evenly over the pilot days that passed under a rule."""
    city = City.objects.order_by("id").first()
    rules = schedule.rules_of(city.settings if city is not None else {})
    if not rules:
        return []
    first = max(pilot.starts_on, min(rule.valid_from for rule in rules))
    last = min(pilot.ends_on, timezone.localdate())
    if last < first:
        return []
    span_days = (last - first).days
    return [
        first + timedelta(days=span_days * i // max(count - 1, 1)) for i in range(count)
    ]
