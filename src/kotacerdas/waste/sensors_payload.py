"""Parsing and checking of one container sensor message.

A message is a JSON object in the FIWARE "keyValues" form, with the attribute
names of the smart-data-models WasteContainer model (`fillingLevel`,
`temperature`, `status`) and of the Device model (`batteryLevel`), plus
`dateObserved` for the time the sensor measured:

    {"fillingLevel": 0.42, "temperature": 29.5, "batteryLevel": 0.87,
     "dateObserved": "2025-03-01T08:15:00+07:00"}

Keys this module does not name are ignored, because gateways add their own.
Every problem becomes a SensorPayloadError with a reason code, the field at
fault and a message saying how to fix it.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.waste.models import Container

# A message larger than this is not a sensor reading; 4 KiB leaves room for
# gateway metadata around the few numbers the intake reads.
MAX_MESSAGE_BYTES = 4096
# Sensor clocks drift; a reading up to this far ahead of the server is accepted.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
# Gateways that buffer while offline resend old readings; older than this is
# taken to be a device whose clock was reset.
MAX_READING_AGE = timedelta(days=30)
# The range of the common container probes (for example -55 to 125 °C for a
# DS18B20); a burning container reads high but inside it.
MIN_TEMPERATURE_C = Decimal("-55")
MAX_TEMPERATURE_C = Decimal("125")
# The Device model's batteryLevel is -1 when the level cannot be determined.
BATTERY_UNKNOWN = -1
MAX_DATE_CHARS = 40

FILL_STEP = Decimal("0.001")
TEMPERATURE_STEP = Decimal("0.1")


class SensorPayloadError(ValueError):
    """A sensor message the intake rejects, with a reason code and the field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Reading:
    """One checked observation, in the units the tables store."""

    observed_at: datetime
    fill_level: Decimal
    temperature_c: Decimal | None
    battery: Decimal | None
    status: str | None


def decode_message(raw: bytes | str) -> Any:
    """Decode a message body as JSON; raise SensorPayloadError when it is not."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise SensorPayloadError(
            "too_large",
            _("The message has %(size)s bytes; send at most %(limit)s.")
            % {"size": len(raw), "limit": MAX_MESSAGE_BYTES},
        )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SensorPayloadError(
            "not_json",
            _("The message is not valid UTF-8 JSON; send one JSON object."),
        ) from None


def parse_reading(payload: Any, now: datetime | None = None) -> Reading:
    """Check a decoded message and return the reading it holds."""
    if not isinstance(payload, dict):
        raise SensorPayloadError(
            "not_object",
            _('The message must be a JSON object such as {"fillingLevel": 0.4}.'),
        )
    now = now or timezone.now()
    fill = _fraction(payload, "fillingLevel", required=True)
    assert fill is not None
    return Reading(
        observed_at=_observed_at(payload, now),
        fill_level=fill.quantize(FILL_STEP, ROUND_HALF_UP),
        temperature_c=_temperature(payload),
        battery=_battery(payload),
        status=_status(payload),
    )


def _number(payload: dict[str, Any], field: str) -> Decimal | None:
    """Return a finite JSON number as a Decimal, None when the key is absent."""
    value = payload.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SensorPayloadError(
            f"{_code(field)}_not_number",
            _("%(field)s must be a JSON number, not %(value)s.")
            % {"field": field, "value": _shown(value)},
            field,
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise SensorPayloadError(
            f"{_code(field)}_not_number",
            _("%(field)s must be a finite number, not %(value)s.")
            % {"field": field, "value": value},
            field,
        )
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def _fraction(payload: dict[str, Any], field: str, *, required: bool) -> Decimal | None:
    value = _number(payload, field)
    if value is None:
        if required:
            raise SensorPayloadError(
                f"{_code(field)}_missing",
                _("%(field)s is missing; send the fraction 0-1, such as 0.42.")
                % {"field": field},
                field,
            )
        return None
    if not Decimal(0) <= value <= Decimal(1):
        raise SensorPayloadError(
            f"{_code(field)}_out_of_range",
            _(
                "%(field)s is %(value)s; it must be a fraction from 0 to 1 (0.42, not 42)."
            )
            % {"field": field, "value": _shown(value)},
            field,
        )
    return value


def _temperature(payload: dict[str, Any]) -> Decimal | None:
    value = _number(payload, "temperature")
    if value is None:
        return None
    if not MIN_TEMPERATURE_C <= value <= MAX_TEMPERATURE_C:
        raise SensorPayloadError(
            "temperature_out_of_range",
            _(
                "temperature is %(value)s °C; a container probe reads %(low)s to %(high)s."
            )
            % {
                "value": _shown(value),
                "low": MIN_TEMPERATURE_C,
                "high": MAX_TEMPERATURE_C,
            },
            "temperature",
        )
    return value.quantize(TEMPERATURE_STEP, ROUND_HALF_UP)


def _battery(payload: dict[str, Any]) -> Decimal | None:
    if payload.get("batteryLevel") == BATTERY_UNKNOWN:
        return None
    value = _fraction(payload, "batteryLevel", required=False)
    return None if value is None else value.quantize(FILL_STEP, ROUND_HALF_UP)


def _status(payload: dict[str, Any]) -> str | None:
    value = payload.get("status")
    if value is None:
        return None
    if value not in Container.Status.values:
        raise SensorPayloadError(
            "status_unknown",
            _("status %(value)s is unknown; use one of %(allowed)s.")
            % {"value": _shown(value), "allowed": ", ".join(Container.Status.values)},
            "status",
        )
    return str(value)


def _observed_at(payload: dict[str, Any], now: datetime) -> datetime:
    value = payload.get("dateObserved")
    if value is None:
        raise SensorPayloadError(
            "date_missing",
            _(
                "dateObserved is missing; send the time of the reading in ISO 8601 "
                "with its zone, such as 2025-03-01T08:15:00+07:00."
            ),
            "dateObserved",
        )
    observed_at = _parse_date(value)
    if observed_at > now + MAX_CLOCK_AHEAD:
        raise SensorPayloadError(
            "date_in_future",
            _("dateObserved %(value)s is in the future; check the sensor's clock.")
            % {"value": value},
            "dateObserved",
        )
    if observed_at < now - MAX_READING_AGE:
        raise SensorPayloadError(
            "date_too_old",
            _(
                "dateObserved %(value)s is more than %(days)s days old; check the "
                "sensor's clock."
            )
            % {"value": value, "days": MAX_READING_AGE.days},
            "dateObserved",
        )
    return observed_at


def _parse_date(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > MAX_DATE_CHARS:
        raise SensorPayloadError(
            "date_invalid",
            _(
                "dateObserved must be an ISO 8601 text such as "
                "2025-03-01T08:15:00+07:00, not %(value)s."
            )
            % {"value": _shown(value)},
            "dateObserved",
        )
    try:
        observed_at = datetime.fromisoformat(value)
    except ValueError:
        raise SensorPayloadError(
            "date_invalid",
            _("dateObserved %(value)s is not an ISO 8601 date and time.")
            % {"value": _shown(value)},
            "dateObserved",
        ) from None
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise SensorPayloadError(
            "date_no_zone",
            _(
                "dateObserved %(value)s has no time zone; add Z or an offset "
                "such as +07:00."
            )
            % {"value": value},
            "dateObserved",
        )
    return observed_at


def _code(field: str) -> str:
    """Return the reason-code prefix of a field: fillingLevel gives "fill"."""
    return {"fillingLevel": "fill", "batteryLevel": "battery"}.get(field, field)


def _shown(value: Any) -> str:
    """Return a value for an error message, cut so a huge one cannot flood it."""
    text = (
        json.dumps(value, default=str) if not isinstance(value, Decimal) else str(value)
    )
    return text if len(text) <= 40 else text[:37] + "..."
