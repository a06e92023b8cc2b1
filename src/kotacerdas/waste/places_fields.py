"""Parsing of typed values for the places services, each error naming its field.

Every helper takes the raw value (from a form, the API or the demo), appends a
`FieldError` to `errors` when it is invalid and returns None in that case, so
a service can report every problem of an input at once.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area
from kotacerdas.registry.geometry import place_point
from kotacerdas.registry.services import FieldError

COORDINATE_STEP = Decimal("0.000001")
# The centre of the demo city, given as an example in coordinate messages.
EXAMPLE_LAT = "-0.4725"
EXAMPLE_LNG = "100.4023"


def text(
    value: Any, name: str, max_length: int, errors: list[FieldError], *, example: str
) -> str:
    """Return the value with runs of spaces collapsed; required and limited."""
    cleaned = " ".join(str(value or "").split())
    if not cleaned:
        errors.append(
            FieldError(
                name,
                _("This field is required, such as %(example)s.")
                % {"example": example},
            )
        )
    elif len(cleaned) > max_length:
        errors.append(
            FieldError(
                name,
                _("Shorten this to %(max)s characters or fewer.") % {"max": max_length},
            )
        )
    return cleaned


def whole_number(
    value: Any, name: str, low: int, high: int, errors: list[FieldError]
) -> int | None:
    """Return a whole number from low to high; "1.300" and "1,300" read as 1300."""
    if value in (None, ""):
        errors.append(FieldError(name, _("This field is required.")))
        return None
    number = _whole(value)
    if number is None or not low <= number <= high:
        errors.append(
            FieldError(
                name,
                _("Enter a whole number from %(low)s to %(high)s.")
                % {"low": low, "high": high},
            )
        )
        return None
    return number


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    typed = str(value).strip()
    if re.fullmatch(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*", typed):
        return int(re.sub(r"[.,]", "", typed))
    try:
        number = Decimal(typed)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def decimal_number(
    value: Any,
    name: str,
    low: Decimal,
    high: Decimal,
    places: int,
    errors: list[FieldError],
) -> Decimal | None:
    """Return a decimal from low to high (inclusive), rounded to `places` digits.

    A comma is read as the decimal separator, as Indonesian forms write it.
    """
    if value in (None, ""):
        errors.append(FieldError(name, _("This field is required.")))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not low <= number <= high:
        errors.append(
            FieldError(
                name,
                _("Enter a number from %(low)s to %(high)s, such as %(example)s.")
                % {"low": low, "high": high, "example": (low + high) / 2},
            )
        )
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def choice(value: Any, name: str, choices: Any, errors: list[FieldError]) -> str:
    """Return the value when it is one of a TextChoices class's values."""
    if value not in choices.values:
        labels = ", ".join(str(label) for label in choices.labels)
        errors.append(
            FieldError(name, _("Choose one of: %(choices)s.") % {"choices": labels})
        )
        return ""
    return str(value)


def kelurahan(value: Any, name: str, errors: list[FieldError]) -> Area | None:
    """Return the kelurahan of a dotted or compact code such as 13.74.02.1002."""
    try:
        area = Area.objects.select_related("city").get(
            code=normalize_code(str(value or ""))
        )
    except (InvalidAreaCode, Area.DoesNotExist):
        errors.append(
            FieldError(
                name, _("Enter a kelurahan code of this city, such as 13.74.02.1002.")
            )
        )
        return None
    if area.level == Area.Level.KECAMATAN:
        errors.append(
            FieldError(name, _("This is a kecamatan code; enter the kelurahan code."))
        )
        return None
    return area


def coordinate(
    value: Any, name: str, limit: int, example: str, errors: list[FieldError]
) -> Decimal | None:
    """Return a latitude or longitude in degrees with six decimals."""
    if value in (None, ""):
        errors.append(
            FieldError(
                name,
                _("Enter the %(name)s in degrees, such as %(example)s.")
                % {"name": name_label(name), "example": example},
            )
        )
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or abs(number) > limit:
        errors.append(
            FieldError(
                name,
                _("Enter a number from -%(limit)s to %(limit)s, such as %(example)s.")
                % {"limit": limit, "example": example},
            )
        )
        return None
    return number.quantize(COORDINATE_STEP)


def name_label(name: str) -> str:
    return str(_("latitude")) if name == "lat" else str(_("longitude"))


def check_location(
    area: Area,
    lat: Decimal,
    lng: Decimal,
    errors: list[FieldError],
    *,
    within_kelurahan: bool = True,
) -> None:
    """Reject a point outside the city, or outside `area` when `within_kelurahan`.

    Both checks allow the margins of `registry.geometry` (about 500 m around
    the city, 200 m around a kelurahan), because the profile's polygons are
    simplified. A city-wide site passes any kelurahan of its city as `area`
    with `within_kelurahan=False`.
    """
    in_city, in_kelurahan = place_point(area, lat, lng)
    if not in_city:
        errors.append(
            FieldError(
                "lat",
                _(
                    "This point is outside %(city)s; check the latitude and "
                    "longitude (the city centre is %(lat)s, %(lng)s)."
                )
                % {"city": area.city.name, "lat": EXAMPLE_LAT, "lng": EXAMPLE_LNG},
            )
        )
    elif within_kelurahan and not in_kelurahan:
        errors.append(
            FieldError(
                "lat",
                _(
                    "This point lies outside Kelurahan %(name)s; check the "
                    "location or choose the kelurahan it is in."
                )
                % {"name": area.name},
            )
        )


def clock_time(value: Any, name: str, errors: list[FieldError]) -> time | None:
    """Return a time of day from a time or "HH:MM" text."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    try:
        return datetime.strptime(str(value or "").strip(), "%H:%M").time()
    except ValueError:
        errors.append(
            FieldError(name, _("Enter a time as hours and minutes, such as 06:30."))
        )
        return None


def optional_clock_time(value: Any, name: str, errors: list[FieldError]) -> time | None:
    if value in (None, ""):
        return None
    return clock_time(value, name, errors)


def calendar_date(value: Any, name: str, errors: list[FieldError]) -> date | None:
    """Return a date from a date or ISO "YYYY-MM-DD" text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.append(
            FieldError(name, _("Enter a date as year-month-day, such as 2026-01-31."))
        )
        return None


def weekdays(value: Any, errors: list[FieldError]) -> str:
    """Return ISO weekday digits in order, such as "135", from text or numbers.

    Accepts "135", "1,3,5" or an iterable such as [1, 3, 5] or ["1", "3"].
    """
    items: Iterable[Any] = (
        [char for char in value if not char.isspace() and char != ","]
        if isinstance(value, str)
        else (value or [])
    )
    days: set[int] = set()
    for item in items:
        number = _whole(item)
        if number is None or not 1 <= number <= 7:
            errors.append(
                FieldError(
                    "weekdays",
                    _("Weekdays are numbers 1 (Monday) to 7 (Sunday), such as 135."),
                )
            )
            return ""
        days.add(number)
    if not days:
        errors.append(FieldError("weekdays", _("Choose at least one weekday.")))
        return ""
    return "".join(str(day) for day in sorted(days))
