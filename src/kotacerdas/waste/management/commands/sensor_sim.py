"""`kotacerdas sensor-sim`: publish simulated fill levels for the demo city."""

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from kotacerdas.waste.sensors_mqtt import (
    BrokerURLError,
    new_client,
    parse_broker_url,
)
from kotacerdas.waste.sensors_sim import Simulation

logger = logging.getLogger(__name__)

PUBLISH_QOS = 1
PUBLISH_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0
# Containers are re-read this often, to follow new ones and pickups.
REFRESH_EVERY_S = 60.0


class Command(BaseCommand):
    help = (
        "Publish a simulated fill level, temperature and battery level for every "
        "active container with a sensor id, to <prefix>/<sensor id> over MQTT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--broker",
            default=settings.KOTACERDAS_MQTT_URL,
            help="broker URL (default: KOTACERDAS_MQTT_URL)",
        )
        parser.add_argument(
            "--prefix",
            default=settings.KOTACERDAS_MQTT_TOPIC_PREFIX,
            help="topic prefix (default: KOTACERDAS_MQTT_TOPIC_PREFIX)",
        )
        parser.add_argument(
            "--speed",
            type=float,
            default=settings.KOTACERDAS_SENSOR_SIM_SPEED,
            help="simulated seconds per real second "
            "(default: KOTACERDAS_SENSOR_SIM_SPEED)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=10.0,
            help="real seconds between two readings of a sensor (default 10)",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="publish one reading per container and exit",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="seed of the noise (default 0)"
        )
        parser.add_argument(
            "--allow-remote-broker",
            action="store_true",
            help="allow a broker that is not on this machine",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["speed"] < 0 or options["interval"] <= 0:
            raise CommandError("--speed must be 0 or more and --interval above 0")
        try:
            broker = parse_broker_url(options["broker"])
        except BrokerURLError as error:
            raise CommandError(str(error)) from None
        if not options["allow_remote_broker"] and not broker.is_loopback():
            raise CommandError(
                f"broker {broker.label} is not on this machine; the simulator "
                "publishes made-up readings, so pass --allow-remote-broker if "
                "that is really meant"
            )

        stopping = threading.Event()
        if not options["once"]:
            signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
            signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
        client = new_client(broker, "", clean_session=True)
        connected = threading.Event()
        client.on_connect = lambda *args: connected.set()
        client.connect_async(broker.host, broker.port)
        client.loop_start()
        try:
            if not connected.wait(CONNECT_TIMEOUT_S):
                raise CommandError(
                    f"MQTT broker {broker.label} did not respond in "
                    f"{CONNECT_TIMEOUT_S:.0f} s; is it running?"
                )
            self.publish_loop(client, options, stopping)
        finally:
            client.disconnect()
            client.loop_stop()

    def publish_loop(
        self, client: Any, options: dict[str, Any], stopping: threading.Event
    ) -> None:
        prefix = options["prefix"].rstrip("/")
        simulation = Simulation(options["seed"])
        simulated = timedelta(seconds=options["interval"] * options["speed"])
        logger.info(
            "sensor simulator started: broker %s, prefix %s, speed %s",
            options["broker"].split("@")[-1],
            prefix,
            options["speed"],
        )
        refresh_every = max(1, round(REFRESH_EVERY_S / options["interval"]))
        tick = 0
        while not stopping.is_set():
            if tick % refresh_every == 0:
                close_old_connections()
                simulation.refresh()
            step = timedelta(0) if tick == 0 else simulated
            messages = simulation.step(step)
            sent = self.publish(client, prefix, messages)
            if tick % refresh_every == 0 or options["once"]:
                logger.info(
                    "sensor simulator published %s of %s readings at simulated %s",
                    sent,
                    len(messages),
                    simulation.clock.isoformat(timespec="minutes"),
                )
            if options["once"]:
                self.stdout.write(f"Published {sent} readings.")
                return
            tick += 1
            stopping.wait(options["interval"])
        logger.info("sensor simulator stopped")

    def publish(self, client: Any, prefix: str, messages: list[tuple[str, str]]) -> int:
        infos = [
            client.publish(f"{prefix}/{sensor_id}", body, qos=PUBLISH_QOS)
            for sensor_id, body in messages
        ]
        sent = 0
        for info in infos:
            try:
                info.wait_for_publish(PUBLISH_TIMEOUT_S)
            except (ValueError, RuntimeError) as error:
                logger.warning(
                    "sensor simulator: a reading was not published: %s", error
                )
                continue
            sent += info.is_published()
        return sent
