"""Billing months: parsed from "YYYY-MM", stored as the month's first day."""

import calendar
import re
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
FIRST_YEAR = 2000


class InvalidMonth(ValueError):
    """A month is not written as YYYY-MM or lies outside the years billed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_month(value: str | date) -> date:
    """Return the first day of a month given as "2026-12" or as a date."""
    if isinstance(value, date):
        return value.replace(day=1)
    # JSON bodies may carry a number or a list here; those are not months.
    match = MONTH.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidMonth(_("Enter the month as YYYY-MM, such as 2026-12."))
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidMonth(_("The month must be from 01 to 12, such as 2026-12."))
    if year < FIRST_YEAR:
        raise InvalidMonth(
            _("Enter a month from %(year)d on, such as 2026-12.") % {"year": FIRST_YEAR}
        )
    return date(year, month, 1)


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def current_month() -> date:
    return timezone.localdate().replace(day=1)


def last_day(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def previous_month(month: date) -> date:
    if month.month == 1:
        return date(month.year - 1, 12, 1)
    return date(month.year, month.month - 1, 1)
