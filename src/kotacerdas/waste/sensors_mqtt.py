"""The MQTT side of the sensor intake: broker addresses, the subscriber, `run`.

Each container's sensor publishes to `<prefix>/<sensor id>` (the prefix is
KOTACERDAS_MQTT_TOPIC_PREFIX). The intake subscribes to `<prefix>/+` with
QoS 1 under a fixed client id and a persistent session, so the broker keeps
QoS 1 messages that arrive while the intake restarts.
"""

import hashlib
import ipaddress
import logging
import socket
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion

from kotacerdas.waste import sensors

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
KEEPALIVE_S = 30
MIN_RECONNECT_DELAY_S = 1
MAX_RECONNECT_DELAY_S = 60
SUBSCRIBE_QOS = 1
REACHABLE_TIMEOUT_S = 1.0


class BrokerURLError(ValueError):
    """The broker URL cannot be used."""


@dataclass(frozen=True)
class Broker:
    """An MQTT broker address; `label` is safe to log (no password)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def is_loopback(self) -> bool:
        """Return whether the host names this machine (127.0.0.0/8 or ::1)."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError:
            return False
        addresses = {info[4][0] for info in infos}
        return bool(addresses) and all(
            ipaddress.ip_address(address).is_loopback for address in addresses
        )


def parse_broker_url(url: str) -> Broker:
    """Parse mqtt://[user:password@]host[:port] (or mqtts:// for TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BrokerURLError(
            f"MQTT broker URL {parts.scheme}://{parts.hostname or ''} is invalid; "
            "use mqtt://host:port, such as mqtt://127.0.0.1:1883"
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BrokerURLError(
            f"MQTT broker URL for host {parts.hostname} has an invalid port"
        ) from None
    return Broker(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def configured_broker() -> Broker:
    return parse_broker_url(settings.KOTACERDAS_MQTT_URL)


def broker_reachable(broker: Broker, timeout_s: float = REACHABLE_TIMEOUT_S) -> bool:
    """Return whether a TCP connection to the broker opens within `timeout_s`."""
    try:
        with socket.create_connection((broker.host, broker.port), timeout=timeout_s):
            return True
    except OSError:
        return False


def new_client(broker: Broker, client_id: str, *, clean_session: bool) -> mqtt.Client:
    """Return a paho client (v2 callback API) set up for `broker`, not connected."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(MIN_RECONNECT_DELAY_S, MAX_RECONNECT_DELAY_S)
    return client


def intake_client_id(prefix: str) -> str:
    """Return the intake's client id, one per topic prefix (one city)."""
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:12]
    return f"kotacerdas-intake-{digest}"


class SensorIntake:
    """Subscribes to every container topic and feeds each message to `ingest`.

    `start()` connects in paho's network thread, which retries the first
    connection and every later one with a delay growing from 1 s to 60 s.
    Messages are handled one at a time in that thread.
    """

    def __init__(
        self, broker: Broker, prefix: str, client_id: str | None = None
    ) -> None:
        self.broker = broker
        self.prefix = prefix.rstrip("/")
        self.client_id = client_id or intake_client_id(self.prefix)
        self.outcomes: Counter[str] = Counter()
        self.subscribed = threading.Event()
        self.client = new_client(broker, self.client_id, clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    @property
    def topic_filter(self) -> str:
        return f"{self.prefix}/+"

    def start(self) -> None:
        logger.info(
            "sensor intake %s connecting to MQTT broker %s, topics %s",
            self.client_id,
            self.broker.label,
            self.topic_filter,
        )
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_S)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        logger.info(
            "sensor intake %s stopped: %s",
            self.client_id,
            ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "idle",
        )

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            logger.error(
                "sensor intake %s: MQTT broker %s refused the connection: %s",
                self.client_id,
                self.broker.label,
                reason_code,
            )
            return
        logger.info(
            "sensor intake %s connected to MQTT broker %s (session present: %s)",
            self.client_id,
            self.broker.label,
            flags.session_present,
        )
        # Subscribing again after every connect also covers a broker that lost
        # the persistent session.
        client.subscribe(self.topic_filter, qos=SUBSCRIBE_QOS)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[Any],
        properties: Any,
    ) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            logger.error(
                "sensor intake %s: subscription to %s failed: %s",
                self.client_id,
                self.topic_filter,
                failed[0],
            )
            return
        logger.info(
            "sensor intake %s subscribed to %s", self.client_id, self.topic_filter
        )
        self.subscribed.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Any,
    ) -> None:
        self.subscribed.clear()
        level = logging.INFO if reason_code == 0 else logging.WARNING
        logger.log(
            level,
            "sensor intake %s disconnected from MQTT broker %s: %s",
            self.client_id,
            self.broker.label,
            reason_code,
        )

    def _on_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        sensor_id = message.topic[len(self.prefix) + 1 :]
        close_old_connections()
        try:
            result = sensors.ingest(sensor_id, message.payload, "mqtt")
        except DatabaseError:
            # The message is lost: paho has already acknowledged it. The next
            # reading of the sensor replaces it.
            self.outcomes["failed"] += 1
            logger.exception(
                "sensor intake %s could not store a message of topic %s",
                self.client_id,
                message.topic,
            )
            close_old_connections()
            return
        self.outcomes[result.outcome] += 1


# ------------------------------------------------------- processes of the city


def sensor_processes(speed: float | None = None) -> dict[str, subprocess.Popen[bytes]]:
    """Start the MQTT intake and the fill-level simulator when the broker answers.

    `kotacerdas run` supervises both as helpers: the city runs without them,
    and a helper that exits is started again after a growing delay.
    """
    try:
        broker = configured_broker()
    except BrokerURLError as error:
        logger.warning("container sensors are off: %s", error)
        return {}
    if not broker_reachable(broker):
        logger.warning(
            "container sensors are off: no MQTT broker answers at %s "
            "(start Mosquitto and restart the city to receive fill levels)",
            broker.label,
        )
        return {}
    cli = [sys.executable, "-m", "kotacerdas.config.cli"]
    simulator = [*cli, "sensor-sim"]
    if speed is not None:
        simulator += ["--speed", str(speed)]
    processes = {
        "sensor intake": subprocess.Popen(
            [*cli, "sensor-intake"], start_new_session=True
        ),
        "sensor simulator": subprocess.Popen(simulator, start_new_session=True),
    }
    logger.info("container sensors on MQTT broker %s", broker.label)
    return processes
