"""The MQTT side of the sensor intake: broker addresses, the subscriber, `run`.

Each container's sensor publishes to `<prefix>/<sensor id>` (the prefix is
KOTACERDAS_MQTT_TOPIC_PREFIX). The intake subscribes to `<prefix>/+` with
QoS 1 under a client id fixed per installation and a persistent session, so
the broker keeps QoS 1 messages that arrive while the intake restarts.
"""

import hashlib
import ipaddress
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion

from kotacerdas.ops.heartbeat import SENSOR_INTAKE, HeartbeatThread, ProcessHeartbeat
from kotacerdas.waste import sensors

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
KEEPALIVE_S = 30
MIN_RECONNECT_DELAY_S = 1
MAX_RECONNECT_DELAY_S = 60
SUBSCRIBE_QOS = 1
REACHABLE_TIMEOUT_S = 1.0
INSTALL_ID_FILE = "mqtt-install-id"


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


def install_id(var_dir: Path) -> str:
    """Read this installation's random id, creating `<var_dir>/mqtt-install-id` once.

    The id stays the same across restarts of one installation, and two
    installations with their own var directories get different ids.
    """
    path = var_dir / INSTALL_ID_FILE
    try:
        return _read_install_id(path)
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process of this installation created it first.
        return _read_install_id(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(16) + "\n")
    logger.info("created the MQTT install id file %s", path)
    return _read_install_id(path)


def _read_install_id(path: Path) -> str:
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise ValueError(
            f"MQTT install id file {path} is empty; delete it to create a new id"
        )
    return value


def intake_client_id(prefix: str, installation: str | None = None) -> str:
    """Return the intake's client id, one per installation and topic prefix.

    Installations on one broker need distinct ids: with a shared id they take
    over each other's persistent session and the broker disconnects one of
    them each time the other connects.
    """
    if installation is None:
        installation = install_id(Path(settings.VAR_DIR))
    material = f"{installation}\n{prefix}".encode()
    digest = hashlib.sha256(material).hexdigest()[:12]
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
        self.heartbeat = ProcessHeartbeat(SENSOR_INTAKE)
        self.heartbeat_thread = HeartbeatThread(self.heartbeat)
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
        self.heartbeat_thread.start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.heartbeat_thread.stop()
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
            self.heartbeat.record_message("failed")
            logger.exception(
                "sensor intake %s could not store a message of topic %s",
                self.client_id,
                message.topic,
            )
            close_old_connections()
            return
        self.outcomes[result.outcome] += 1
        self.heartbeat.record_message(result.outcome)


# ------------------------------------------------------- processes of the city


def sensor_commands(speed: float | None = None) -> dict[str, list[str]]:
    """Build the command lines of the sensor helpers, by process name.

    The intake always runs. The simulator runs only when KOTACERDAS_SENSOR_SIM
    is on, at `speed` simulated seconds per real second, or else at
    KOTACERDAS_SENSOR_SIM_SPEED.
    """
    cli = [sys.executable, "-m", "kotacerdas.config.cli"]
    commands = {"sensor intake": [*cli, "sensor-intake"]}
    if settings.KOTACERDAS_SENSOR_SIM:
        simulator = [*cli, "sensor-sim"]
        if speed is not None:
            simulator += ["--speed", str(speed)]
        commands["sensor simulator"] = simulator
    return commands


def sensor_processes(speed: float | None = None) -> dict[str, subprocess.Popen[bytes]]:
    """Start the helpers of `sensor_commands` when the MQTT broker accepts TCP.

    `kotacerdas run` supervises them: the city runs without them, and a
    helper that exits is started again after a growing delay.
    """
    try:
        broker = configured_broker()
    except BrokerURLError as error:
        logger.warning("container sensors are off: %s", error)
        return {}
    if not broker_reachable(broker):
        logger.warning(
            "container sensors are off: no MQTT broker responds at %s "
            "(start Mosquitto and restart the city to receive fill levels)",
            broker.label,
        )
        return {}
    commands = sensor_commands(speed)
    if "sensor simulator" not in commands:
        logger.info("sensor simulator is off (KOTACERDAS_SENSOR_SIM=0)")
    processes = {
        name: subprocess.Popen(command, start_new_session=True)
        for name, command in commands.items()
    }
    logger.info("container sensors on MQTT broker %s", broker.label)
    return processes
