"""The MQTT intake and the simulator against the real Mosquitto on 127.0.0.1.

Each test uses its own topic prefix, so runs on one broker do not mix.
Without a broker these tests skip, except under CI=true, where they fail.
"""

import json
import time
from io import StringIO

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.db import OperationalError
from paho.mqtt.enums import CallbackAPIVersion

from kotacerdas.waste.models import Container, SensorReading, SensorRejection
from kotacerdas.waste.sensors_mqtt import (
    Broker,
    BrokerURLError,
    SensorIntake,
    parse_broker_url,
)

from .conftest import SENSOR_ID, broker_or_skip, make_container, reading

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_S = 10.0


def wait_for(condition, timeout_s: float = WAIT_S) -> bool:
    """Poll `condition` until it holds.

    The test database on SQLite is a shared-cache in-memory database, which
    raises "table is locked" to a reader while the intake's thread writes.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError:
            pass
        time.sleep(0.05)
    return False


@pytest.fixture
def intake(topic_prefix):
    host, port = broker_or_skip()
    running = SensorIntake(Broker(host, port), topic_prefix, f"test-{topic_prefix}")
    running.start()
    assert running.subscribed.wait(WAIT_S), "the intake did not subscribe"
    yield running
    running.stop()
    cleanup = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=running.client_id, clean_session=True
    )
    cleanup.connect(host, port)
    cleanup.disconnect()


def publish(topic: str, payload: bytes) -> None:
    host, port = broker_or_skip()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)
    client.disconnect()
    client.loop_stop()


def test_published_reading_lands(container, intake, topic_prefix):
    publish(f"{topic_prefix}/{SENSOR_ID}", json.dumps(reading(0.86)).encode())

    assert wait_for(lambda: SensorReading.objects.exists())
    container.refresh_from_db()
    assert str(container.fill_level) == "0.860"
    assert container.alerts.filter(kind="fill_threshold").exists()


def test_garbage_counted_intake_continues(container, intake, topic_prefix):
    publish(f"{topic_prefix}/{SENSOR_ID}", b"\x00\xffnot json")
    publish(f"{topic_prefix}/unknown-sensor", json.dumps(reading(0.5)).encode())
    publish(f"{topic_prefix}/{SENSOR_ID}", json.dumps(reading(0.3)).encode())

    assert wait_for(lambda: SensorReading.objects.exists())
    assert wait_for(lambda: SensorRejection.objects.count() == 2)
    reasons = set(SensorRejection.objects.values_list("reason", flat=True))
    assert reasons == {"not_json", "unknown_sensor"}
    assert intake.outcomes["rejected"] == 2
    assert intake.outcomes["stored"] == 1


def test_simulator_once_feeds_intake(market_site, intake, topic_prefix):
    for number in range(1, 4):
        make_container(market_site, number, f"ppj-sim-{number}")
    make_container(market_site, 9)  # No sensor: not simulated.
    output = StringIO()

    call_command(
        "sensor_sim", "--once", "--broker", "mqtt://127.0.0.1:1883",
        "--prefix", topic_prefix, stdout=output,
    )  # fmt: skip

    assert "Published 3 readings." in output.getvalue()
    assert wait_for(lambda: SensorReading.objects.count() == 3)
    assert Container.objects.filter(fill_level__isnull=False).count() == 3


def test_broker_url_parsed():
    broker = parse_broker_url("mqtt://gateway:s3cret@127.0.0.1:1884")

    assert (broker.host, broker.port, broker.tls) == ("127.0.0.1", 1884, False)
    assert broker.username == "gateway"
    assert broker.label == "127.0.0.1:1884"
    assert parse_broker_url("mqtts://localhost").port == 8883


@pytest.mark.parametrize("url", ["http://127.0.0.1:1883", "mqtt://", "127.0.0.1"])
def test_bad_broker_url_rejected(url):
    with pytest.raises(BrokerURLError, match="use mqtt://host:port"):
        parse_broker_url(url)


def test_simulator_refuses_remote_broker(container):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not on this machine"):
        call_command("sensor_sim", "--once", "--broker", "mqtt://192.0.2.1:1883")
