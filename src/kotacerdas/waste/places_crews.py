"""Crews and schedules: who collects, with which vehicle, where and when.

Like `places`, each `save_*` function checks every field, raises
`PlacesInvalid` naming each field and its fix, and writes the row with its
journal event in one transaction. A crew's event carries member user ids, never
the crew's name, because people name crews after their members.

Lock order: the crew row, then the schedule rows of that crew. Saving a
schedule locks its crew first, so two operators giving the same crew
overlapping hours at the same moment cannot both succeed.
"""

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from kotacerdas.accounts.models import User
from kotacerdas.city.models import NeighbourhoodUnit
from kotacerdas.journal import services as journal
from kotacerdas.journal.events import EventSchema, event_type
from kotacerdas.registry.services import FieldError, actor_label
from kotacerdas.waste import places_fields as fields
from kotacerdas.waste.events import ScheduleSaved
from kotacerdas.waste.models import Crew, Schedule, Vehicle
from kotacerdas.waste.places import PlacesInvalid

logger = logging.getLogger(__name__)

COLLECTOR_ROLE = "collector"
MAX_CREW_MEMBERS = 12


@event_type("waste.crew.saved")
class CrewSaved(EventSchema):
    crew_id: int
    vehicle_id: int | None
    # User ids of the collectors, in ascending order.
    member_ids: list[int]
    active: bool


# Crews -----------------------------------------------------------------------


@dataclass(frozen=True)
class CrewInput:
    """A crew as typed in a form or written by the demo."""

    name: str
    vehicle_id: Any = None
    member_ids: list[Any] = field(default_factory=list)
    active: Any = True


def crew_state(crew: Crew) -> dict[str, Any]:
    """Return the journalled view of a crew."""
    return CrewSaved(
        crew_id=crew.pk,
        vehicle_id=crew.vehicle_id,
        member_ids=sorted(crew.members.values_list("pk", flat=True)),
        active=crew.active,
    ).model_dump()


def collectors() -> Any:
    """Return the active users who hold the collector role."""
    return User.objects.filter(groups__name=COLLECTOR_ROLE, is_active=True).distinct()


def _clean_crew(data: CrewInput, crew: Crew | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = fields.text(data.name, "name", 80, errors, example="Tim Pasar 1")
    if (
        name
        and Crew.objects.filter(name=name)
        .exclude(pk=crew.pk if crew is not None else 0)
        .exists()
    ):
        errors.append(FieldError("name", _("Another crew already has this name.")))
    vehicle = None
    if data.vehicle_id not in (None, ""):
        vehicle = (
            Vehicle.objects.filter(pk=data.vehicle_id, active=True).first()
            if str(data.vehicle_id).isdecimal()
            else None
        )
        if vehicle is None:
            errors.append(
                FieldError("vehicle_id", _("Choose an active vehicle, or none."))
            )
    member_ids = {int(pk) for pk in data.member_ids if str(pk).isdecimal()}
    members = list(collectors().filter(pk__in=member_ids))
    if len(members) != len(member_ids) or len(member_ids) != len(list(data.member_ids)):
        errors.append(
            FieldError(
                "member_ids",
                _(
                    "Choose crew members among the active users with the collector role."
                ),
            )
        )
    elif len(members) > MAX_CREW_MEMBERS:
        errors.append(
            FieldError(
                "member_ids",
                _("A crew has at most %(max)s members.") % {"max": MAX_CREW_MEMBERS},
            )
        )
    if errors:
        raise PlacesInvalid(errors)
    return {
        "name": name,
        "vehicle": vehicle,
        "members": members,
        "active": _active(data.active),
    }


def _active(value: Any) -> bool:
    return value not in (False, "false", "False", "0", 0, "", None)


def save_crew(data: CrewInput, crew: Crew | None = None, *, actor: Any = None) -> Crew:
    """Create a crew, or change `crew`, and journal `waste.crew.saved`."""
    values = _clean_crew(data, crew)
    with transaction.atomic():
        crew = crew or Crew()
        crew.name = values["name"]
        crew.vehicle = values["vehicle"]
        crew.active = values["active"]
        try:
            with transaction.atomic():
                crew.save()
        except IntegrityError:
            raise PlacesInvalid(
                [FieldError("name", _("Another crew already has this name."))]
            ) from None
        crew.members.set(values["members"])
        journal.append("waste.crew.saved", crew_state(crew), actor=actor_label(actor))
    logger.info("saved crew %s", crew.pk, extra={"crew_id": crew.pk})
    return crew


# Schedules -------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleInput:
    """A schedule as typed in a form or written by the demo.

    A blank `rw` serves the whole kelurahan; `rw` alone one RW; `rw` and `rt`
    one RT. The RW/RT must already be in the city's register.
    """

    kelurahan_code: str
    weekdays: Any
    shift_start: Any
    shift_end: Any
    crew_id: Any
    service: str = Schedule.Service.DOOR_TO_DOOR
    rw: Any = ""
    rt: Any = ""
    valid_from: Any = None
    valid_to: Any = None
    active: Any = True


def schedule_state(schedule: Schedule) -> dict[str, Any]:
    """Return the journalled view of a schedule."""
    return ScheduleSaved(
        schedule_id=schedule.pk,
        kelurahan_code=schedule.kelurahan.code,
        unit_id=schedule.unit_id,
        service=schedule.service,
        weekdays=schedule.weekdays,
        shift_start=schedule.shift_start.strftime("%H:%M"),
        shift_end=schedule.shift_end.strftime("%H:%M"),
        crew_id=schedule.crew_id,
        valid_from=schedule.valid_from.isoformat(),
        valid_to=schedule.valid_to.isoformat() if schedule.valid_to else None,
        active=schedule.active,
    ).model_dump()


def _unit(
    area: Any, rw: Any, rt: Any, errors: list[FieldError]
) -> NeighbourhoodUnit | None:
    rw_text, rt_text = str(rw or "").strip(), str(rt or "").strip()
    if not rw_text:
        if rt_text:
            errors.append(FieldError("rw", _("Enter the RW of this RT.")))
        return None
    if not rw_text.isdecimal() or (rt_text and not rt_text.isdecimal()):
        errors.append(
            FieldError("rw", _("Enter RW and RT as numbers, such as 2 and 3."))
        )
        return None
    unit = NeighbourhoodUnit.objects.filter(
        kelurahan=area, rw=rw_text.zfill(3), rt=rt_text.zfill(3) if rt_text else ""
    ).first()
    if unit is None:
        errors.append(
            FieldError(
                "rt" if rt_text else "rw",
                _(
                    "Kelurahan %(name)s has no RW %(rw)s%(rt)s in the register; "
                    "check the numbers or leave them blank for the whole kelurahan."
                )
                % {
                    "name": area.name,
                    "rw": rw_text.zfill(3),
                    "rt": f" / RT {rt_text.zfill(3)}" if rt_text else "",
                },
            )
        )
    return unit


def _clean_schedule(data: ScheduleInput) -> dict[str, Any]:
    errors: list[FieldError] = []
    area = fields.kelurahan(data.kelurahan_code, "kelurahan_code", errors)
    values: dict[str, Any] = {
        "kelurahan": area,
        "unit": _unit(area, data.rw, data.rt, errors) if area is not None else None,
        "service": fields.choice(data.service, "service", Schedule.Service, errors),
        "weekdays": fields.weekdays(data.weekdays, errors),
        "shift_start": fields.clock_time(data.shift_start, "shift_start", errors),
        "shift_end": fields.clock_time(data.shift_end, "shift_end", errors),
        "valid_from": (
            date.today()
            if data.valid_from in (None, "")
            else fields.calendar_date(data.valid_from, "valid_from", errors)
        ),
        "valid_to": (
            None
            if data.valid_to in (None, "")
            else fields.calendar_date(data.valid_to, "valid_to", errors)
        ),
        "active": _active(data.active),
    }
    start, end = values["shift_start"], values["shift_end"]
    if start is not None and end is not None and end <= start:
        errors.append(
            FieldError(
                "shift_end", _("The shift must end after it starts, on the same day.")
            )
        )
    first, last = values["valid_from"], values["valid_to"]
    if first is not None and last is not None and last < first:
        errors.append(
            FieldError("valid_to", _("The last valid day cannot be before the first."))
        )
    crew = (
        Crew.objects.filter(pk=data.crew_id, active=True).first()
        if str(data.crew_id or "").isdecimal()
        else None
    )
    if crew is None:
        errors.append(
            FieldError("crew_id", _("Choose the active crew that serves this area."))
        )
    values["crew"] = crew
    if errors:
        raise PlacesInvalid(errors)
    return values


def overlapping_schedule(
    values: dict[str, Any], schedule_id: int | None
) -> Schedule | None:
    """Return another active schedule of the crew that clashes with `values`.

    Two schedules clash when they share a weekday, their shift hours overlap
    and their validity periods overlap.
    """
    others = (
        Schedule.objects.filter(
            crew=values["crew"],
            active=True,
            shift_start__lt=values["shift_end"],
            shift_end__gt=values["shift_start"],
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=values["valid_from"]))
        .exclude(pk=schedule_id or 0)
        .select_related("kelurahan", "unit")
        .order_by("pk")
    )
    if values["valid_to"] is not None:
        others = others.filter(valid_from__lte=values["valid_to"])
    days = set(values["weekdays"])
    for other in others:
        if days & set(other.weekdays):
            return other
    return None


def _overlap_error(values: dict[str, Any], other: Schedule) -> FieldError:
    day = int(sorted(set(values["weekdays"]) & set(other.weekdays))[0])
    area = str(other.unit) if other.unit_id else other.kelurahan.name
    return FieldError(
        "shift_start",
        _(
            "Crew %(crew)s already works %(start)s-%(end)s on %(day)s in %(area)s; "
            "choose other hours or days, or another crew."
        )
        % {
            "crew": values["crew"].name,
            "start": time_format(other.shift_start, "H:i"),
            "end": time_format(other.shift_end, "H:i"),
            "day": WEEKDAYS[day - 1],
            "area": area,
        },
    )


def save_schedule(
    data: ScheduleInput, schedule: Schedule | None = None, *, actor: Any = None
) -> Schedule:
    """Create a schedule, or change `schedule`, and journal `waste.schedule.saved`.

    Locks the crew row first and rejects a schedule whose hours overlap another
    active schedule of the same crew on a shared weekday.
    """
    values = _clean_schedule(data)
    with transaction.atomic():
        Crew.objects.select_for_update().filter(pk=values["crew"].pk).first()
        if values["active"]:
            other = overlapping_schedule(values, getattr(schedule, "pk", None))
            if other is not None:
                raise PlacesInvalid([_overlap_error(values, other)])
        schedule = schedule or Schedule()
        for name, value in values.items():
            setattr(schedule, name, value)
        schedule.save()
        journal.append(
            "waste.schedule.saved", schedule_state(schedule), actor=actor_label(actor)
        )
    logger.info("saved schedule %s", schedule.pk, extra={"schedule_id": schedule.pk})
    return schedule


def schedules_on(day: date) -> Any:
    """Return the active schedules that serve on `day` (weekday and validity)."""
    return (
        Schedule.objects.filter(
            active=True,
            weekdays__contains=str(day.isoweekday()),
            valid_from__lte=day,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .select_related("kelurahan", "unit", "crew")
    )
