"""`kotacerdas sensor-intake`: receive container fill levels over MQTT."""

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kotacerdas.waste.sensors_mqtt import BrokerURLError, SensorIntake, parse_broker_url


class Command(BaseCommand):
    help = (
        "Subscribe to every container's MQTT topic (<prefix>/<sensor id>, QoS 1) "
        "and store the readings; reconnects on its own and runs until SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--broker",
            default=settings.KOTACERDAS_MQTT_URL,
            help="broker URL, such as mqtt://127.0.0.1:1883 "
            "(default: KOTACERDAS_MQTT_URL)",
        )
        parser.add_argument(
            "--prefix",
            default=settings.KOTACERDAS_MQTT_TOPIC_PREFIX,
            help="topic prefix (default: KOTACERDAS_MQTT_TOPIC_PREFIX)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            broker = parse_broker_url(options["broker"])
        except BrokerURLError as error:
            raise CommandError(str(error)) from None
        stopping = threading.Event()

        def stop(signum: int, frame: object) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        intake = SensorIntake(broker, options["prefix"])
        intake.start()
        stopping.wait()
        intake.stop()
