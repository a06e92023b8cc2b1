"""Simulated container sensors for the demo city: fill curves sent over MQTT.

The model is an estimate for a demo, not a forecast. A container fills at a
daily rate set by its site: a market TPS fills in about a day, a household
TPS in two to three, a TPS 3R slower. A factor of 0.7 to 1.3, fixed per
sensor, scales that rate, and filling is faster in the morning and evening
hours when people bring waste out. Each reading adds a little measurement noise, and about one in a
hundred is an echo error of an ultrasonic probe (a jump of 0.1 to 0.3).
A container is emptied when a pickup sets its `last_emptied_at`, or, standing
in for crews who do not use the app, after it has been full for six hours.
Temperature follows the time of day in the city (warmest at 14:00) plus the
heat of decomposing waste; the battery loses about 0.2% a day and is replaced
at 10%.

All of this runs on a simulated clock (`speed` simulated seconds per real
second), while each message carries the real time in `dateObserved`, because
the intake rejects readings dated in the future.
"""

import hashlib
import json
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from kotacerdas.waste.models import Container, Site

logger = logging.getLogger(__name__)

CITY_ZONE = ZoneInfo("Asia/Jakarta")  # WIB, the zone of West Sumatra.
# Share of the container's volume filled per day, by site kind.
DAILY_FILL: dict[str, float] = {
    Site.Kind.TPS: 0.40,
    Site.Kind.TPS3R: 0.25,
    Site.Kind.TPST: 0.30,
}
MARKET_DAILY_FILL = 1.10
DEFAULT_DAILY_FILL = 0.30
# Relative rate of each hour of the day (local time); the mean over 24 hours is 1.
HOUR_WEIGHTS = (
    0.2, 0.1, 0.1, 0.1, 0.3, 1.2, 2.2, 2.2, 2.0, 1.5, 1.2, 1.1,
    1.0, 1.0, 0.9, 0.9, 1.2, 1.7, 1.8, 1.4, 0.9, 0.5, 0.3, 0.2,
)  # fmt: skip
NOISE_SD = 0.015
ECHO_ERROR_CHANCE = 0.01
FULL = 0.98
AUTO_EMPTY_AFTER = timedelta(hours=6)
EMPTY_LEVEL = (0.01, 0.06)
BATTERY_DRAIN_PER_DAY = 0.002
BATTERY_REPLACE_AT = 0.10


@dataclass
class SimulatedSensor:
    """The state behind one container's simulated readings."""

    container_id: int
    sensor_id: str
    daily_fill: float
    fill: float
    battery: float
    last_emptied_at: datetime | None
    full_since: datetime | None = None

    def advance(self, now: datetime, step: timedelta, rng: random.Random) -> None:
        """Move the state on by `step` of simulated time ending at `now`."""
        hour_weight = HOUR_WEIGHTS[now.astimezone(CITY_ZONE).hour]
        days = step.total_seconds() / 86400
        self.fill = min(1.0, self.fill + self.daily_fill * hour_weight * days)
        self.battery -= BATTERY_DRAIN_PER_DAY * days
        if self.battery < BATTERY_REPLACE_AT:
            self.battery = 1.0
        if self.fill < FULL:
            self.full_since = None
        elif self.full_since is None:
            self.full_since = now
        elif now - self.full_since >= AUTO_EMPTY_AFTER:
            self.empty(rng)

    def empty(self, rng: random.Random) -> None:
        self.fill = rng.uniform(*EMPTY_LEVEL)
        self.full_since = None

    def message(self, now: datetime, observed_at: datetime, rng: random.Random) -> str:
        """Return the JSON reading at simulated time `now`, dated `observed_at`."""
        measured = self.fill + rng.gauss(0, NOISE_SD)
        if rng.random() < ECHO_ERROR_CHANCE:
            measured += rng.uniform(0.1, 0.3)
        local_hour = now.astimezone(CITY_ZONE).hour + now.minute / 60
        air_c = 24 + 5 * math.cos((local_hour - 14) / 24 * 2 * math.pi)
        temperature = air_c + 3 * self.fill + rng.gauss(0, 0.3)
        return json.dumps(
            {
                "fillingLevel": round(min(1.0, max(0.0, measured)), 3),
                "temperature": round(temperature, 1),
                "batteryLevel": round(self.battery, 3),
                "dateObserved": observed_at.isoformat(timespec="seconds"),
            }
        )


def _sensor_rng(sensor_id: str) -> random.Random:
    """Return a generator seeded by the sensor id, so each run starts alike."""
    seed = hashlib.sha256(sensor_id.encode()).digest()
    return random.Random(seed)  # noqa: S311  (simulated readings, not secrets)


def is_market(container: Container) -> bool:
    """Return whether the container serves a market (pasar) by its names."""
    names = f"{container.site.name} {container.kelurahan.name}".lower()
    return "pasar" in names


def new_sensor(container: Container) -> SimulatedSensor:
    rng = _sensor_rng(container.sensor_id)
    if is_market(container):
        base = MARKET_DAILY_FILL
    else:
        base = DAILY_FILL.get(container.site.kind, DEFAULT_DAILY_FILL)
    if container.fill_level is not None:
        fill = float(container.fill_level)
    else:
        fill = rng.uniform(0.05, 0.6)
    return SimulatedSensor(
        container_id=container.pk,
        sensor_id=container.sensor_id,
        daily_fill=base * rng.uniform(0.7, 1.3),
        fill=fill,
        battery=rng.uniform(0.55, 1.0),
        last_emptied_at=container.last_emptied_at,
    )


def sensed_containers() -> list[Container]:
    return list(
        Container.objects.filter(active=True)
        .exclude(sensor_id="")
        .select_related("site", "kelurahan")
        .order_by("pk")
    )


class Simulation:
    """The simulated sensors of every active container with a sensor id."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (simulated readings)
        self.sensors: dict[int, SimulatedSensor] = {}
        self.clock = timezone.now()

    def refresh(self) -> None:
        """Add new containers, drop retired ones, reset those a pickup emptied."""
        containers = sensed_containers()
        known = {container.pk for container in containers}
        for container_id in set(self.sensors) - known:
            del self.sensors[container_id]
        for container in containers:
            sensor = self.sensors.get(container.pk)
            if sensor is None or sensor.sensor_id != container.sensor_id:
                self.sensors[container.pk] = new_sensor(container)
                continue
            emptied = container.last_emptied_at
            if emptied and (
                sensor.last_emptied_at is None or emptied > sensor.last_emptied_at
            ):
                sensor.last_emptied_at = emptied
                sensor.empty(self.rng)
                logger.info("simulated sensor of container %s emptied", container.pk)

    def step(self, simulated: timedelta) -> list[tuple[str, str]]:
        """Advance the clock and return (sensor id, JSON message) per sensor."""
        self.clock += simulated
        observed_at = timezone.now()
        messages = []
        for sensor in self.sensors.values():
            if simulated > timedelta(0):
                sensor.advance(self.clock, simulated, self.rng)
            messages.append(
                (sensor.sensor_id, sensor.message(self.clock, observed_at, self.rng))
            )
        return messages
