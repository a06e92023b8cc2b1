"""The rows the dashboard reads live, written through the services for the benchmark.

The dashboard's figures come from rollups, but a few panels read small tables
directly: today's route plans, open waste alerts, the journal's latest sealed
block and the last `ledger verify` run. `build_live` writes a few of each,
as a running city would have them. Runs in a configured Django process after
the city profile and the demo users exist.
"""

import io
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

# Share of the demo's TPS containers whose sensor reports a fill level above
# the threshold; the others stay silent and get a "sensor silent" alert.
FULL_SENSOR_SHARE = 0.4
FULL_FILL_LEVEL = 0.92
LIVE_PICKUPS = 30
PLAN_TIME_LIMIT_S = 1.0


def build_live(seed: int, now: datetime) -> list[str]:
    """Write the live rows; return one summary line per part."""
    from kotacerdas.demo import waste as demo_waste
    from kotacerdas.demo.waste_activity import record_due_pickups
    from kotacerdas.waste.models import Alert, Vehicle
    from kotacerdas.waste.planning import plan_day

    # NOTE: with the large city's registry rows (--with-registry --size large)
    # this raises PlacesInvalid: the demo numbers its 872 vehicles from BA 8100
    # in steps of up to 40, past the four digits a number plate has.
    lines = [demo_waste.build(seed).result_line()]

    # Motor carts serve the registry's RT door to door; with a large registry
    # they are hundreds of routes, so only the trucks are planned here.
    trucks = Vehicle.objects.exclude(kind=Vehicle.Kind.MOTOR_CART)
    plans = plan_day(
        timezone.localdate(now),
        vehicles=list(trucks),
        time_limit_s=PLAN_TIME_LIMIT_S,
        actor="bench",
    )
    pickups = record_due_pickups(seed, now=now, max_stops=LIVE_PICKUPS)
    lines.append(
        f"Planned {len(plans)} truck routes for today; recorded "
        f"{pickups.recorded} pickups of their stops already due."
    )

    full, silent = _sensor_alerts(now)
    open_alerts = Alert.objects.filter(cleared_at__isnull=True).count()
    lines.append(
        f"{full} containers reported above their threshold, {silent} sensors "
        f"silent; {open_alerts} waste alerts open."
    )
    lines.append(_seal_and_verify())
    return lines


def _sensor_alerts(now: datetime) -> tuple[int, int]:
    """Flag every sensor silent, then let some report a container above threshold.

    A sensor that never reported counts as silent once its container is older
    than the silence limit, so the check runs as if that much time had passed.
    A reading clears the container's silence alert and opens a fill alert.
    """
    from kotacerdas.waste import sensors
    from kotacerdas.waste.models import Alert, Container

    later = now + timedelta(seconds=settings.KOTACERDAS_SENSOR_SILENT_AFTER_S + 60)
    sensors.flag_silent_sensors(now=later)
    containers = list(Container.objects.exclude(sensor_id="").order_by("id"))
    reporting = containers[: round(len(containers) * FULL_SENSOR_SHARE)]
    reading = {"fillingLevel": FULL_FILL_LEVEL, "dateObserved": now.isoformat()}
    for container in reporting:
        sensors.ingest(container, reading, "bench", actor="bench", now=now)
    silent = Alert.objects.filter(
        kind=Alert.Kind.SENSOR_SILENT, cleared_at__isnull=True
    ).count()
    return len(reporting), silent


def _seal_and_verify() -> str:
    """Seal the journal entries written so far and record a `ledger verify` run."""
    from kotacerdas.journal import services as journal

    blocks = 0
    while journal.seal_pending() is not None:
        blocks += 1
    output = io.StringIO()
    call_command("ledger", "verify", stdout=output, stderr=io.StringIO())
    result = output.getvalue().strip().splitlines()[-1]
    return (
        f"Sealed {journal.journal_size()} journal entries in {blocks} blocks; {result}"
    )
