"""Container fill levels from MQTT and HTTP, alerts, silent sensors.

`ingest` is the one intake for both transports. It checks a message (see
`sensors_payload`), stores the reading once per container and observation
time, moves the container's latest figures forward only for a newer reading,
and opens or clears the container's FILL_THRESHOLD alert. A rejected message
is counted as a SensorRejection row instead of raising; only a database
failure raises.

Readings are not journaled, because a city of a few hundred containers
reporting every 15 minutes would add tens of thousands of entries a day
(an estimate) that prove nothing anyone relies on. The journal gets one `waste.container.threshold_crossed`
event when a container crosses its threshold, because that fact sends a truck.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.journal.worker import register_job
from kotacerdas.waste.events import ThresholdCrossed
from kotacerdas.waste.models import Alert, Container, SensorReading, SensorRejection
from kotacerdas.waste.sensors_payload import (
    Reading,
    SensorPayloadError,
    decode_message,
    parse_reading,
)

logger = logging.getLogger(__name__)

# A container above its threshold stays alerted until it reads this much below
# it, so sensor noise around the threshold does not open a new alert (and a
# new journal event) on every other reading.
CLEAR_MARGIN = Decimal("0.05")
# Rejected messages are kept this long; the page's counts cover this window.
REJECTION_RETENTION = timedelta(days=30)
# And at most this many rows, so a flood of garbage cannot fill the disk.
MAX_REJECTION_ROWS = 100_000
MAX_SENSOR_ID_CHARS = 60
ORIGIN_CHARS = 120
SILENCE_CHECK_INTERVAL_S = 60.0
PRUNE_INTERVAL_S = 3600.0

# Rejections seen by this process per (source, reason), so the log shows the
# 1st, 10th, 100th, ... of each kind instead of every one of a flood.
_rejections_logged: Counter[tuple[str, str]] = Counter()


class Outcome:
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class IngestResult:
    """The outcome of one message at the intake."""

    outcome: str
    sensor_id: str
    container_id: int | None = None
    reading_id: int | None = None
    # True when this reading is the container's newest and became its latest.
    latest: bool = False
    # "opened" or "cleared" when the reading changed the FILL_THRESHOLD alert.
    alert: str | None = None
    code: str | None = None
    field: str | None = None
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome != Outcome.REJECTED


def register() -> None:
    """Register this area's worker jobs (called from the app's ready())."""
    register_job("sensor-silence", flag_silent_sensors, SILENCE_CHECK_INTERVAL_S)
    register_job("sensor-rejections-prune", prune_rejections, PRUNE_INTERVAL_S)


# ---------------------------------------------------------------------- intake


def ingest(
    sensor: str | Container | None,
    payload: Any,
    source: str,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Store one sensor message for the container of `sensor`.

    `payload` is the decoded JSON, or the raw message as bytes or text.
    Bad input returns a REJECTED result and adds a SensorRejection row; only
    a database failure raises. `actor` labels the journal event of a
    threshold crossing (default "sensor:<source>").
    """
    sensor_id = sensor.sensor_id if isinstance(sensor, Container) else sensor
    origin = str(sensor_id)[:ORIGIN_CHARS] if isinstance(sensor_id, str) else ""
    try:
        container = sensor if isinstance(sensor, Container) else find_container(sensor)
        _require_sensors_at(container)
        if isinstance(payload, bytes | str):
            payload = decode_message(payload)
        reading = parse_reading(payload, now)
    except SensorPayloadError as error:
        return reject(source, error, origin)
    return _store(container, reading, source, actor or f"sensor:{source}")


def _require_sensors_at(container: Container) -> None:
    """Reject a reading from a container outside the areas that run sensors.

    Checked here rather than in each intake, so HTTP, MQTT and NGSI agree.
    """
    from kotacerdas.pilot.areas import enabled_at
    from kotacerdas.pilot.services import Service
    from kotacerdas.pilot.switch import ServiceOff, area_label

    if not enabled_at(Service.SENSORS, container):
        area = area_label(container.kelurahan.code)
        message = str(ServiceOff(Service.SENSORS, area))
        raise SensorPayloadError("service_off", message, "sensorId")


def find_container(sensor_id: Any) -> Container:
    """Return the active container fitted with `sensor_id`."""
    if sensor_id is None:
        raise SensorPayloadError(
            "sensor_missing",
            _("sensorId is missing; send the id the container's sensor reports as."),
            "sensorId",
        )
    if (
        not isinstance(sensor_id, str)
        or not sensor_id.strip()
        or len(sensor_id) > MAX_SENSOR_ID_CHARS
    ):
        raise SensorPayloadError(
            "sensor_invalid",
            _("The sensor id must be text of 1 to %(limit)s characters.")
            % {"limit": MAX_SENSOR_ID_CHARS},
            "sensorId",
        )
    # A unique constraint keeps each sensor id on one container.
    container = Container.objects.filter(sensor_id=sensor_id, active=True).first()
    if container is not None:
        return container
    raise SensorPayloadError(
        "unknown_sensor",
        _(
            "No active container has sensor id %(sensor)s; set it on the container "
            "first."
        )
        % {"sensor": sensor_id},
        "sensorId",
    )


def reject(source: str, error: SensorPayloadError, origin: str = "") -> IngestResult:
    """Count a rejected message and return its result; logs are rate-limited."""
    SensorRejection.objects.create(
        source=source[:6], reason=error.code[:40], origin=origin[:ORIGIN_CHARS]
    )
    key = (source, error.code)
    _rejections_logged[key] += 1
    seen = _rejections_logged[key]
    if _is_power_of_ten(seen):
        logger.warning(
            "sensor message rejected: source %s, reason %s, origin %r "
            "(%s of this kind since this process started)",
            source,
            error.code,
            origin,
            seen,
        )
    return IngestResult(
        Outcome.REJECTED,
        sensor_id=origin,
        code=error.code,
        field=error.field,
        message=error.message,
    )


def _is_power_of_ten(number: int) -> bool:
    while number % 10 == 0:
        number //= 10
    return number == 1


def _store(
    container: Container, reading: Reading, source: str, actor: str
) -> IngestResult:
    with transaction.atomic(durable=True):
        if SensorReading.objects.filter(
            container=container, observed_at=reading.observed_at
        ).exists():
            return _duplicate(container)
        try:
            with transaction.atomic():
                row = SensorReading.objects.create(
                    container=container,
                    observed_at=reading.observed_at,
                    fill_level=reading.fill_level,
                    temperature_c=reading.temperature_c,
                    battery=reading.battery,
                    source=source,
                )
        except IntegrityError:
            # The same reading arrived through the other transport at once.
            return _duplicate(container)

        latest = _move_latest(container, reading)
        alert = _update_fill_alert(container, reading, actor) if latest else None
        if latest:
            _clear_silent_alert(container)
    return IngestResult(
        Outcome.STORED,
        sensor_id=container.sensor_id,
        container_id=container.pk,
        reading_id=row.pk,
        latest=latest,
        alert=alert,
        message=_("Reading stored."),
    )


def _duplicate(container: Container) -> IngestResult:
    return IngestResult(
        Outcome.DUPLICATE,
        sensor_id=container.sensor_id,
        container_id=container.pk,
        message=_("This reading was stored before; the first copy is kept."),
    )


def _move_latest(container: Container, reading: Reading) -> bool:
    """Copy the reading onto the container when it is newer than its latest.

    The conditional update locks the container row, so two readings of one
    container arriving at once take turns here and the newer one wins.
    """
    changes: dict[str, Any] = {
        "fill_level": reading.fill_level,
        "fill_observed_at": reading.observed_at,
        "updated_at": timezone.now(),
    }
    if reading.temperature_c is not None:
        changes["temperature_c"] = reading.temperature_c
    if reading.battery is not None:
        changes["battery"] = reading.battery
    if reading.status is not None:
        changes["status"] = reading.status
    newer = Q(fill_observed_at__isnull=True) | Q(
        fill_observed_at__lt=reading.observed_at
    )
    updated = Container.objects.filter(newer, pk=container.pk).update(**changes)
    if updated:
        container.refresh_from_db()
    return bool(updated)


# ---------------------------------------------------------------------- alerts


def _update_fill_alert(
    container: Container, reading: Reading, actor: str
) -> str | None:
    """Open, refresh or clear the FILL_THRESHOLD alert; return what changed."""
    threshold = container.fill_threshold
    alert = Alert.objects.filter(
        kind=Alert.Kind.FILL_THRESHOLD, container=container, cleared_at__isnull=True
    ).first()
    details = {
        "fill_level": str(reading.fill_level),
        "threshold": str(threshold),
        "observed_at": reading.observed_at.isoformat(),
    }
    if alert is None and reading.fill_level >= threshold:
        Alert.objects.create(
            kind=Alert.Kind.FILL_THRESHOLD, container=container, details=details
        )
        journal.append(
            "waste.container.threshold_crossed",
            ThresholdCrossed(
                container_id=container.pk,
                fill_level=str(reading.fill_level),
                threshold=str(threshold),
                observed_at=reading.observed_at.isoformat(),
            ),
            actor=actor,
        )
        logger.info(
            "container %s crossed its fill threshold",
            container.pk,
            extra={"container_id": container.pk},
        )
        return "opened"
    if alert is None:
        return None
    if reading.fill_level < threshold - CLEAR_MARGIN:
        alert.cleared_at = timezone.now()
        alert.details = {**alert.details, **details}
        alert.save(update_fields=["cleared_at", "details"])
        return "cleared"
    alert.details = {**alert.details, **details}
    alert.save(update_fields=["details"])
    return None


def _clear_silent_alert(container: Container) -> None:
    Alert.objects.filter(
        kind=Alert.Kind.SENSOR_SILENT, container=container, cleared_at__isnull=True
    ).update(cleared_at=timezone.now())


def clear_fill_alert(container: Container | int) -> bool:
    """Clear a container's open FILL_THRESHOLD alert, for a collected container.

    Runs in the caller's transaction (a pickup records the emptying in its
    own). Returns whether an alert was open.
    """
    container_id = container.pk if isinstance(container, Container) else container
    cleared = Alert.objects.filter(
        kind=Alert.Kind.FILL_THRESHOLD,
        container_id=container_id,
        cleared_at__isnull=True,
    ).update(cleared_at=timezone.now())
    return bool(cleared)


def flag_silent_sensors(now: datetime | None = None) -> tuple[int, int]:
    """Open SENSOR_SILENT alerts for quiet sensors, clear them for live ones.

    A sensor is silent when its container's latest reading is older than
    KOTACERDAS_SENSOR_SILENT_AFTER_S, or when it has never reported and the
    container is older than that. Returns (opened, cleared).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.KOTACERDAS_SENSOR_SILENT_AFTER_S)
    already = Alert.objects.filter(
        kind=Alert.Kind.SENSOR_SILENT, cleared_at__isnull=True
    ).values("container_id")
    silent = (
        Container.objects.filter(active=True)
        .exclude(sensor_id="")
        .filter(
            Q(fill_observed_at__lt=cutoff)
            | Q(fill_observed_at__isnull=True, created_at__lt=cutoff)
        )
        .exclude(pk__in=already)
    )
    opened = 0
    for container in silent.only("pk", "fill_observed_at"):
        last = container.fill_observed_at
        try:
            with transaction.atomic():
                Alert.objects.create(
                    kind=Alert.Kind.SENSOR_SILENT,
                    container=container,
                    details={"last_observed_at": last.isoformat() if last else None},
                )
        except IntegrityError:
            continue  # Another worker opened it first.
        opened += 1
        logger.info(
            "sensor of container %s is silent",
            container.pk,
            extra={"container_id": container.pk},
        )

    alive = Q(container__fill_observed_at__gte=cutoff)
    retired = Q(container__active=False) | Q(container__sensor_id="")
    cleared = Alert.objects.filter(
        alive | retired, kind=Alert.Kind.SENSOR_SILENT, cleared_at__isnull=True
    ).update(cleared_at=now)
    return opened, cleared


# ------------------------------------------------------------------ rejections


def prune_rejections(now: datetime | None = None) -> int:
    """Delete rejection rows past the retention or beyond the row limit."""
    now = now or timezone.now()
    deleted, _kinds = SensorRejection.objects.filter(
        received_at__lt=now - REJECTION_RETENTION
    ).delete()
    newest_first = SensorRejection.objects.order_by("-pk").values_list("pk", flat=True)
    oldest_kept = list(newest_first[MAX_REJECTION_ROWS - 1 : MAX_REJECTION_ROWS])
    if oldest_kept:
        extra, _kinds = SensorRejection.objects.filter(pk__lt=oldest_kept[0]).delete()
        deleted += extra
    if deleted:
        logger.info("pruned %s rejected sensor messages", deleted)
    return deleted


def rejection_counts() -> list[dict[str, Any]]:
    """Return rejected messages per source and reason, most frequent first."""
    return [
        dict(row)
        for row in SensorRejection.objects.values("source", "reason")
        .annotate(count=Count("pk"), last_at=Max("received_at"))
        .order_by("-count", "source", "reason")
    ]
