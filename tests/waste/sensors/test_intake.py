"""The intake: storing readings, the latest figures, alerts and rejections."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.journal.models import Entry
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Alert, Container, SensorReading, SensorRejection

from .conftest import SENSOR_ID, make_container, reading

pytestmark = pytest.mark.django_db


def open_alerts(kind: str) -> list[Alert]:
    return list(Alert.objects.filter(kind=kind, cleared_at__isnull=True))


def crossing_events() -> list[Entry]:
    return list(Entry.objects.filter(event_type="waste.container.threshold_crossed"))


def test_reading_updates_container(container):
    result = sensors.ingest(
        SENSOR_ID, reading(0.42, temperature=29.5, batteryLevel=0.9), "mqtt"
    )

    container.refresh_from_db()
    assert result.outcome == "stored"
    assert result.latest is True
    assert container.fill_level == Decimal("0.420")
    assert container.temperature_c == Decimal("29.5")
    assert container.battery == Decimal("0.900")
    assert SensorReading.objects.get().source == "mqtt"


def test_raw_json_bytes_accepted(container):
    at = (timezone.now() - timedelta(minutes=2)).isoformat()
    raw = f'{{"fillingLevel": 0.3, "dateObserved": "{at}"}}'.encode()

    result = sensors.ingest(SENSOR_ID, raw, "mqtt")

    assert result.outcome == "stored"


def test_same_time_stored_once(container):
    at = timezone.now() - timedelta(minutes=5)
    first = sensors.ingest(SENSOR_ID, reading(0.4, at), "mqtt")

    again = sensors.ingest(SENSOR_ID, reading(0.9, at), "http")

    container.refresh_from_db()
    assert first.outcome == "stored"
    assert again.outcome == "duplicate"
    assert SensorReading.objects.count() == 1
    assert container.fill_level == Decimal("0.400")


def test_older_reading_kept_not_latest(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.6, now - timedelta(minutes=1)), "mqtt")

    late = sensors.ingest(SENSOR_ID, reading(0.2, now - timedelta(hours=1)), "mqtt")

    container.refresh_from_db()
    assert late.outcome == "stored"
    assert late.latest is False
    assert SensorReading.objects.count() == 2
    assert container.fill_level == Decimal("0.600")


def test_threshold_crossing_opens_alert(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.7, now - timedelta(minutes=30)), "mqtt")

    result = sensors.ingest(
        SENSOR_ID, reading(0.86, now - timedelta(minutes=1)), "mqtt"
    )

    alerts = open_alerts(Alert.Kind.FILL_THRESHOLD)
    events = crossing_events()
    assert result.alert == "opened"
    assert len(alerts) == 1
    assert alerts[0].container == container
    assert alerts[0].details["fill_level"] == "0.860"
    assert len(events) == 1
    assert b'"container_id":%d' % container.pk in bytes(events[0].body)


def test_staying_above_opens_no_second_alert(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.85, now - timedelta(minutes=30)), "mqtt")

    result = sensors.ingest(
        SENSOR_ID, reading(0.93, now - timedelta(minutes=1)), "mqtt"
    )

    alerts = open_alerts(Alert.Kind.FILL_THRESHOLD)
    assert result.alert is None
    assert len(alerts) == 1
    assert alerts[0].details["fill_level"] == "0.930"
    assert len(crossing_events()) == 1


def test_noise_below_threshold_keeps_alert(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.82, now - timedelta(minutes=30)), "mqtt")

    result = sensors.ingest(
        SENSOR_ID, reading(0.78, now - timedelta(minutes=1)), "mqtt"
    )

    assert result.alert is None
    assert len(open_alerts(Alert.Kind.FILL_THRESHOLD)) == 1


def test_emptied_container_clears_alert(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.9, now - timedelta(hours=2)), "mqtt")

    result = sensors.ingest(
        SENSOR_ID, reading(0.05, now - timedelta(minutes=1)), "mqtt"
    )
    again = sensors.ingest(SENSOR_ID, reading(0.88, now), "mqtt")

    assert result.alert == "cleared"
    assert again.alert == "opened"
    assert Alert.objects.filter(kind=Alert.Kind.FILL_THRESHOLD).count() == 2
    assert len(crossing_events()) == 2


def test_pickup_clears_fill_alert(container):
    sensors.ingest(SENSOR_ID, reading(0.95), "mqtt")

    cleared = sensors.clear_fill_alert(container.pk)

    assert cleared is True
    assert open_alerts(Alert.Kind.FILL_THRESHOLD) == []
    assert sensors.clear_fill_alert(container) is False


def test_late_reading_changes_no_alert(container):
    now = timezone.now()
    sensors.ingest(SENSOR_ID, reading(0.3, now - timedelta(minutes=1)), "mqtt")

    late = sensors.ingest(SENSOR_ID, reading(0.95, now - timedelta(hours=2)), "mqtt")

    assert late.alert is None
    assert open_alerts(Alert.Kind.FILL_THRESHOLD) == []


def test_status_from_sensor_saved(container):
    sensors.ingest(SENSOR_ID, reading(0.5, status="burning", temperature=88), "mqtt")

    container.refresh_from_db()
    assert container.status == Container.Status.BURNING
    assert container.temperature_c == Decimal("88.0")


@pytest.mark.parametrize(
    ("sensor_id", "payload", "code"),
    [
        ("no-such-sensor", reading(0.5), "unknown_sensor"),
        ("", reading(0.5), "sensor_invalid"),
        ("x" * 61, reading(0.5), "sensor_invalid"),
        (None, reading(0.5), "sensor_missing"),
        (SENSOR_ID, b"not json", "not_json"),
        (SENSOR_ID, reading(1.5), "fill_out_of_range"),
    ],
)
def test_bad_message_counted(container, sensor_id, payload, code):
    result = sensors.ingest(sensor_id, payload, "mqtt")

    rejection = SensorRejection.objects.get()
    assert result.outcome == "rejected"
    assert result.code == code
    assert rejection.reason == code
    assert rejection.source == "mqtt"
    assert SensorReading.objects.count() == 0


def test_inactive_container_rejected(market_site):
    make_container(market_site, 2, "ppj-old", active=False)

    result = sensors.ingest("ppj-old", reading(0.5), "http")

    assert result.code == "unknown_sensor"
    assert "ppj-old" in result.message


def test_shared_sensor_id_refused_by_database(market_site):
    make_container(market_site, 2, "ppj-shared")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_container(market_site, 3, "ppj-shared")

    result = sensors.ingest("ppj-shared", reading(0.5), "http")

    assert result.outcome == "stored"
    assert SensorReading.objects.count() == 1


def test_rejection_counts_by_reason(container):
    for _ in range(3):
        sensors.ingest(SENSOR_ID, b"{", "mqtt")
    sensors.ingest("nobody", reading(0.1), "http")

    counts = {
        (r["source"], r["reason"]): r["count"] for r in sensors.rejection_counts()
    }

    assert counts == {("mqtt", "not_json"): 3, ("http", "unknown_sensor"): 1}


def test_old_rejections_pruned(container):
    sensors.ingest(SENSOR_ID, b"{", "mqtt")
    sensors.ingest(SENSOR_ID, b"[", "mqtt")
    old = SensorRejection.objects.order_by("pk").first()
    SensorRejection.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=31)
    )

    deleted = sensors.prune_rejections()

    assert deleted == 1
    assert SensorRejection.objects.count() == 1


def test_rejection_rows_capped(container, monkeypatch):
    monkeypatch.setattr(sensors, "MAX_REJECTION_ROWS", 3)
    for _ in range(5):
        sensors.ingest(SENSOR_ID, b"{", "mqtt")
    newest = list(SensorRejection.objects.order_by("-pk").values_list("pk", flat=True))

    deleted = sensors.prune_rejections()

    assert deleted == 2
    assert (
        list(SensorRejection.objects.order_by("-pk").values_list("pk", flat=True))
        == newest[:3]
    )


@override_settings(KOTACERDAS_SENSOR_SILENT_AFTER_S=3600)
def test_silent_sensor_flagged_then_cleared(container, market_site):
    now = timezone.now()
    Container.objects.filter(pk=container.pk).update(created_at=now - timedelta(days=1))
    sensors.ingest(SENSOR_ID, reading(0.4, now - timedelta(hours=2)), "mqtt")
    quiet = make_container(market_site, 2, "ppj-never")
    make_container(market_site, 3, "")  # No sensor: never silent.

    opened, _cleared = sensors.flag_silent_sensors(now)
    again, _cleared = sensors.flag_silent_sensors(now)
    sensors.ingest(SENSOR_ID, reading(0.45, now - timedelta(minutes=1)), "mqtt")

    silent = open_alerts(Alert.Kind.SENSOR_SILENT)
    assert opened == 1
    assert again == 0
    assert silent == []
    assert Alert.objects.filter(
        kind=Alert.Kind.SENSOR_SILENT, container=container
    ).exists()
    assert not Alert.objects.filter(container=quiet).exists()


@override_settings(KOTACERDAS_SENSOR_SILENT_AFTER_S=3600)
def test_silent_alert_cleared_by_worker(container):
    now = timezone.now()
    Container.objects.filter(pk=container.pk).update(created_at=now - timedelta(days=1))
    sensors.flag_silent_sensors(now)
    Container.objects.filter(pk=container.pk).update(sensor_id="")

    _opened, cleared = sensors.flag_silent_sensors(now)

    assert cleared == 1
    assert open_alerts(Alert.Kind.SENSOR_SILENT) == []


def test_worker_jobs_registered():
    from kotacerdas.journal.worker import app_jobs

    names = {job.name for job in app_jobs()}

    assert {"sensor-silence", "sensor-rejections-prune"} <= names


payloads = st.fixed_dictionaries(
    {},
    optional={
        "fillingLevel": st.floats(-0.5, 1.5)
        | st.integers(-2, 100)
        | st.text(max_size=4),
        "temperature": st.floats(allow_nan=True) | st.none(),
        "batteryLevel": st.floats(-1, 2),
        "status": st.sampled_from(["ok", "lidOpen", "on fire"]),
        "dateObserved": st.datetimes(
            min_value=timezone.now().replace(tzinfo=None) - timedelta(days=40),
            max_value=timezone.now().replace(tzinfo=None) + timedelta(days=2),
            timezones=st.timezones(),
        ).map(lambda d: d.isoformat()),
    },
) | st.binary(max_size=40)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=payloads)
def test_random_payload_stored_or_counted(container, payload):
    readings = SensorReading.objects.count()
    rejections = SensorRejection.objects.count()

    result = sensors.ingest(SENSOR_ID, payload, "mqtt")

    stored = SensorReading.objects.count() - readings
    counted = SensorRejection.objects.count() - rejections
    if result.outcome == "stored":
        assert (stored, counted) == (1, 0)
    elif result.outcome == "duplicate":
        assert (stored, counted) == (0, 0)
    else:
        assert (stored, counted) == (0, 1)
        assert result.code
